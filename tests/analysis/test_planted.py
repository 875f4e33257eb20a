"""Planted effects: a warm shift is found and equal groups rarely raise a false alarm.

Each replication builds 48 seed-paired painting-like images per group. Within a pair
the seed fixes the composition, and each group adds its own blobs and noise, as a
prompt change does with a diffusion model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from paintings import painting_like  # noqa: E402

from demographic2art.analysis.features import TESTED_FEATURES, extract_features  # noqa: E402
from demographic2art.analysis.stats import compare_two  # noqa: E402

REPLICATIONS = 20
IMAGES = 48


def _group(seeds: list[int], name: str, *, variant: int, warm_shift: float = 0.0):
    images = [painting_like(s, variant=variant, warm_shift=warm_shift) for s in seeds]
    return extract_features(images).assign(group=name, seed=seeds)


@pytest.mark.slow
def test_warm_shift_found_and_false_alarms_rare():
    found = 0
    false_alarms = 0
    for replication in range(REPLICATIONS):
        seeds = [1000 * replication + i for i in range(IMAGES)]
        frame = pd.concat(
            [
                _group(seeds, "a", variant=1),
                _group(seeds, "warm", variant=2, warm_shift=8),
                _group(seeds, "same", variant=2),
            ]
        )
        shifted = compare_two(frame, "group", "a", "warm", TESTED_FEATURES, pair_by="seed", n_boot=50)
        found += bool(shifted.set_index("feature").loc["warm_cool", "significant"])
        null = compare_two(frame, "group", "a", "same", TESTED_FEATURES, pair_by="seed", n_boot=50)
        # Any feature with BH q < 0.05 counts as a false alarm.
        false_alarms += bool(null["significant"].any())
    assert found >= 18
    assert false_alarms <= 2
