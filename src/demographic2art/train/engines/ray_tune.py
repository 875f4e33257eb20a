"""The Ray Tune sweep engine: one Tune trial per run, retried on failure.

Each trial trains one run with :func:`~demographic2art.train.train_lora` and writes it to
the workspace, which every Ray node must reach (a shared folder or an ``s3://``
workspace). A trial takes one GPU where the cluster has GPUs, else one CPU and one torch
thread. A failed trial is retried up to ``max_failures`` times. The retry continues from the
run's latest checkpoint when the failed attempt saved one (``checkpointing_steps``), and
otherwise trains the run again from step 1. Tune's experiment state is stored under
``storage_path``: a folder (default ``runs/<sweep>/ray`` of a local workspace) or an
``s3://`` URL.

Without ``ray_address`` the engine starts a local Ray cluster bound to 127.0.0.1, without
the dashboard and with usage statistics off, and shuts it down afterwards. With
``ray_address="auto"`` it joins the cluster that ``ray start`` runs on this node (SLURM
allocations, AWS clusters; see ``docs/sweeps.md``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ...cluster import ray_session
from ...errors import InvalidValueError
from ...workspace import Workspace
from ..config import TrainConfig

logger = logging.getLogger(__name__)

ATTEMPTS_FILE = "attempts.json"


def run_ray(
    workspace: Workspace,
    configs: list[TrainConfig],
    *,
    name: str = "sweep",
    ray_address: str | None = None,
    num_cpus: int | None = None,
    storage_path: str | None = None,
    storage_options: dict[str, Any] | None = None,
    max_failures: int = 1,
    guard=None,
) -> list[dict[str, Any]]:
    """Run every config as a Ray Tune trial and return one outcome per run (see :mod:`..engines`)."""
    if max_failures < 0:
        raise InvalidValueError(f"max_failures must be 0 or more, not {max_failures}")
    with ray_session(ray_address, num_cpus=num_cpus, extras=("tune",)) as ray:
        from ray import tune

        gpus = ray.cluster_resources().get("GPU", 0)
        resources = {"cpu": 1, "gpu": 1} if gpus >= 1 else {"cpu": 1}
        path, filesystem = experiment_storage(workspace, name, storage_path, storage_options)
        logger.info(
            "sweep %s: %d Ray Tune trials, %s each, experiment stored in %s", name, len(configs), resources, storage_path or path
        )
        trainable = tune.with_resources(
            tune.with_parameters(_tune_trial, workspace=workspace, guard=guard, use_gpu=bool(gpus)), resources
        )
        tuner = tune.Tuner(
            trainable,
            param_space={"config": tune.grid_search([c.model_dump(mode="json") for c in configs])},
            tune_config=tune.TuneConfig(
                metric="validation_loss", mode="min",
                trial_name_creator=_trial_name, trial_dirname_creator=_trial_name,
            ),
            run_config=tune.RunConfig(
                name=name, storage_path=path, storage_filesystem=filesystem, verbose=0,
                failure_config=tune.FailureConfig(max_failures=max_failures),
            ),
        )
        grid = tuner.fit()
        return [_outcome(workspace, result) for result in grid]


def experiment_storage(workspace: Workspace, name: str, storage_path: str | None, storage_options: dict[str, Any] | None):
    """Return Tune's ``storage_path`` and ``storage_filesystem`` for a folder or an ``s3://`` URL.

    ``storage_options`` are those of s3fs (``endpoint_url``, ``key``, ``secret``,
    ``client_kwargs={"region_name": ...}``); with them the path is opened through s3fs, so
    Tune and the workspace reach the same endpoint.
    """
    if storage_path is None:
        if not workspace.storage.is_local:
            raise InvalidValueError("a sweep on a remote workspace needs storage_path (a shared folder or an s3:// URL) for Ray Tune")
        return workspace.local_path(f"runs/{name}/ray"), None
    if "://" not in storage_path:
        return os.path.abspath(storage_path), None
    if not storage_options:
        return storage_path, None
    import pyarrow.fs
    from fsspec.core import url_to_fs

    fs, stripped = url_to_fs(storage_path, **storage_options)
    return stripped, pyarrow.fs.PyFileSystem(pyarrow.fs.FSSpecHandler(fs))


def _trial_name(trial) -> str:
    return trial.config["config"]["run_name"].split("/")[-1]


def _tune_trial(space: dict, *, workspace: Workspace, guard=None, use_gpu: bool = False) -> None:
    """Train one run inside a Tune trial and report its losses."""
    from ray import tune

    from ..loop import train_lora

    if not use_gpu:
        import torch

        torch.set_num_threads(1)
    config = TrainConfig.model_validate(space["config"])
    attempts = _count_attempt(workspace, config.run_name)
    if attempts > 1:
        config = _resume_settings(workspace, config)
        logger.warning("sweep run %s: attempt %d after a failure", config.run_name, attempts)
    result = train_lora(workspace, config, guard=guard)
    tune.report(
        {"validation_loss": result.validation_loss, "final_loss": result.final_loss, "attempts": attempts, "seconds": result.seconds}
    )


def _count_attempt(workspace: Workspace, run: str) -> int:
    """Increment and return the number of times this run has started, kept in the run's folder."""
    path = f"runs/{run}/{ATTEMPTS_FILE}"
    previous = workspace.storage.read_json(path)["attempts"] if workspace.storage.exists(path) else 0
    workspace.storage.write_json(path, {"attempts": previous + 1})
    return previous + 1


def _resume_settings(workspace: Workspace, config: TrainConfig) -> TrainConfig:
    """Return the config of a retried run: resumed from its latest checkpoint where the failed attempt saved one."""
    if "resume_from" not in TrainConfig.model_fields or config.resume_from:
        return config
    from ..checkpoints import checkpoint_folders

    if not checkpoint_folders(workspace.storage, f"runs/{config.run_name}"):
        logger.warning("sweep run %s has no checkpoint to resume from, so it trains again from step 1", config.run_name)
        return config
    return config.model_copy(update={"resume_from": "latest"})


def _outcome(workspace: Workspace, result) -> dict[str, Any]:
    run = result.config["config"]["run_name"]
    path = f"runs/{run}/{ATTEMPTS_FILE}"
    attempts = workspace.storage.read_json(path)["attempts"] if workspace.storage.exists(path) else 0
    worker = f"Ray Tune trial {result.path.rstrip('/').split('/')[-1]}"
    if result.error is not None:
        error = str(result.error).strip().splitlines()
        return {"run": run, "status": "failed", "error": error[-1] if error else "trial failed", "attempts": attempts, "worker": worker}
    return {"run": run, "status": "ok", "error": "", "attempts": attempts, "worker": worker}
