"""Connecting to a Ray cluster, shared by every ``--engine ray`` command.

``ray_session`` joins the cluster this process already initialised, the one at
``address`` (``auto``, ``ray://host:10001`` or ``host:6379``), or starts a local one
bound to 127.0.0.1 without the dashboard. Only a cluster it started is shut down when
the block ends. Ray's usage statistics are off unless the user turned them on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .errors import InvalidValueError

RAY_INSTALL_HINT = "Install it with: pip install 'demographic2art[ray]'"


def import_ray(*extras: str) -> Any:
    """Import Ray (and ``ray.<extra>`` modules), or raise one clear error naming the install."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import importlib

        ray = importlib.import_module("ray")
        for extra in extras:
            importlib.import_module(f"ray.{extra}")
    except ImportError as exc:
        raise InvalidValueError(f"--engine ray needs Ray, but {exc.name} is missing. {RAY_INSTALL_HINT}") from exc
    return ray


@contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None, extras: tuple[str, ...] = ()) -> Iterator[Any]:
    """Yield the ``ray`` module connected to a cluster, as the module docstring describes."""
    ray = import_ray(*extras)
    started_here = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(
                address="local", num_cpus=num_cpus, include_dashboard=False,
                _node_ip_address="127.0.0.1", log_to_driver=False,
            )
        started_here = True
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()
