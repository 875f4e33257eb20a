"""Experiment trackers: TensorBoard event files and, when asked for and installed, Weights & Biases.

TensorBoard writes ``runs/<run>/tensorboard/`` (open it with ``tensorboard --logdir runs``).
On a workspace that is not a local folder the events are written to a temporary folder and
copied into the workspace when the run closes.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from ..errors import InvalidValueError

logger = logging.getLogger(__name__)


def tensorboard_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


class Trackers:
    """Scalars and images sent to every tracker a run asked for."""

    def __init__(self, storage, run: str, report_to: tuple[str, ...], config: dict, *, wandb_project: str = "demographic2art"):
        self.storage = storage
        self.run = run
        self.tensorboard = None
        self.wandb_run = None
        self._tmp = None
        if "tensorboard" in report_to and not tensorboard_available():
            # NOTE: tensorboard is not among the package's required dependencies, so a run
            # without it trains and logs this warning instead of failing.
            logger.warning("tensorboard is not installed, so %s gets no event files; pip install tensorboard", run)
        elif "tensorboard" in report_to:
            from torch.utils.tensorboard import SummaryWriter

            if storage.is_local:
                self.log_dir = storage.local_path(f"{run}/tensorboard")
            else:
                self._tmp = tempfile.TemporaryDirectory()
                self.log_dir = self._tmp.name
            self.tensorboard = SummaryWriter(self.log_dir)
            self.tensorboard.add_text("config", "\n".join(f"    {k}: {v}" for k, v in config.items()), 0)
        if "wandb" in report_to:
            try:
                import wandb
            except ImportError:
                raise InvalidValueError(
                    "report_to includes 'wandb' but the wandb package is not installed; pip install wandb or drop it"
                ) from None
            self.wandb_run = wandb.init(project=wandb_project, name=run.rsplit("/", 1)[-1], config=config)

    def log_scalars(self, step: int, values: dict[str, float]) -> None:
        if self.tensorboard is not None:
            for name, value in values.items():
                self.tensorboard.add_scalar(name, value, step)
        if self.wandb_run is not None:
            self.wandb_run.log(values, step=step)

    def log_images(self, step: int, images: dict[str, "PIL.Image.Image"]) -> None:  # noqa: F821
        import numpy as np

        if self.tensorboard is not None:
            for name, image in images.items():
                self.tensorboard.add_image(name, np.asarray(image), step, dataformats="HWC")
        if self.wandb_run is not None:
            import wandb

            self.wandb_run.log({name: wandb.Image(image) for name, image in images.items()}, step=step)

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
            if self._tmp is not None:
                for path in Path(self.log_dir).rglob("*"):
                    if path.is_file():
                        relative = path.relative_to(self.log_dir).as_posix()
                        self.storage.write_bytes(f"{self.run}/tensorboard/{relative}", path.read_bytes())
                self._tmp.cleanup()
            self.tensorboard = None
        if self.wandb_run is not None:
            self.wandb_run.finish()
            self.wandb_run = None
