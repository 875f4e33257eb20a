"""Helpers shared by the training tests."""

from __future__ import annotations

from demographic2art.train import LossGuard


class StopAt(LossGuard):
    """Raises at one step, as an interrupted job would stop."""

    def __init__(self, step: int):
        self.step = step

    def check(self, step, loss):
        super().check(step, loss)
        if step == self.step:
            raise KeyboardInterrupt(f"stopped at step {step}")
