"""Loss curves as PNG images."""

from __future__ import annotations

import io


def plot_losses(rows: list[dict], title: str, validation: list[dict] | None = None) -> bytes:
    """Return a PNG of the loss per step, with a moving average when there are many steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    steps = np.array([r["step"] for r in rows])
    losses = np.array([r["loss"] for r in rows], dtype=float)
    figure, axes = plt.subplots(figsize=(6, 3.5), dpi=100)
    axes.plot(steps, losses, lw=0.8, alpha=0.5 if len(rows) > 20 else 1.0, label="training loss")
    if len(rows) > 20:
        window = max(5, len(rows) // 20)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        axes.plot(steps[window - 1 :], smooth, lw=1.6, label=f"moving average ({window} steps)")
    if validation:
        axes.plot([r["step"] for r in validation], [r["loss"] for r in validation], "o-", label="validation loss")
    axes.set_xlabel("step")
    axes.set_ylabel("MSE loss")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
