"""Log set-up of the command line: known third-party messages and progress bars.

Two messages of the pinned libraries reach every user although nothing is wrong:

- transformers 5.23 warns once per image-processor class that ``CLIPImageProcessor``
  (and ``SiglipImageProcessor``) "requires torchvision (not installed); falling back
  to ..." when torchvision is absent, which is the supported install of this project;
- diffusers 0.42 warns "No LoRA keys associated to CLIPTextModel ... open an issue"
  whenever a LoRA has no text-encoder weights, which is what ``d2a train`` writes
  unless ``--train-text-encoder`` is given.

:func:`install_log_filters` drops the first and demotes the second to DEBUG on this
project's logger. Each filter matches one logger and one message, so every other
warning still shows.
"""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger(__name__)

TORCHVISION_LOGGER = "transformers.utils.import_utils"
TORCHVISION_MESSAGE = "requires torchvision (not installed); falling back to"
LORA_LOGGER = "diffusers.loaders.lora_base"
LORA_MESSAGE = "No LoRA keys associated to CLIPTextModel"

# Environment variables that turn off the tqdm bars of huggingface_hub (and of
# transformers, which follows it) and of any other tqdm user such as diffusers'
# "Loading pipeline components".
PROGRESS_BAR_VARIABLES = ("HF_HUB_DISABLE_PROGRESS_BARS", "TQDM_DISABLE")


class MessageFilter(logging.Filter):
    """Drop a logger's records whose message contains ``text``; optionally log them at DEBUG instead."""

    def __init__(self, text: str, *, debug_note: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.debug_note = debug_note

    def filter(self, record: logging.LogRecord) -> bool:
        if self.text not in record.getMessage():
            return True
        if self.debug_note is not None:
            logger.debug("%s (%s)", self.debug_note, record.getMessage())
        return False


def install_log_filters() -> None:
    """Filter the two known third-party warnings; calling it again adds nothing."""
    _add_once(TORCHVISION_LOGGER, MessageFilter(TORCHVISION_MESSAGE))
    _add_once(
        LORA_LOGGER,
        MessageFilter(LORA_MESSAGE, debug_note="the LoRA has no text-encoder weights, so only the UNet is adapted"),
    )


def _add_once(name: str, new: MessageFilter) -> None:
    target = logging.getLogger(name)
    for existing in target.filters:
        if isinstance(existing, MessageFilter) and existing.text == new.text:
            return
    target.addFilter(new)


def quiet_progress_bars(stream=None) -> bool:
    """Turn off third-party tqdm progress bars unless ``stream`` (default: stderr) is a terminal.

    Sets the environment variables in ``PROGRESS_BAR_VARIABLES`` where the user has
    not set them, so it must run before huggingface_hub is imported. Returns whether
    bars were turned off.
    """
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        terminal = bool(isatty and isatty())
    except ValueError:
        terminal = False
    if terminal:
        return False
    for name in PROGRESS_BAR_VARIABLES:
        os.environ.setdefault(name, "1")
    return True
