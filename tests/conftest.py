"""Fixtures shared by the whole suite.

Real data lives in ``../shared`` beside the repository (``D2A_SHARED`` overrides the
path). It is read in place and never copied into the project; tests that need it skip
with a reason where it is absent.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("D2A_SHARED", REPO.parent / "shared")).resolve()
CACHE = REPO / ".cache"


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not found at {path}; set D2A_SHARED to the shared data folder")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder (WikiArt tables, saved pages, paintings, reference table)."""
    return _need(SHARED / "data", "real data folder")


@pytest.fixture(scope="session")
def shared_cases() -> Path:
    """The folder of failure cases, one sub-folder per case with its case.toml."""
    return _need(SHARED / "cases", "failure cases folder")


@pytest.fixture(scope="session")
def real_pages(shared_data: Path) -> Path:
    """The saved Wikipedia pages, unpacked once into the ignored ``.cache`` folder."""
    dest = CACHE / "shared-pages"
    html = dest / "wikipedia" / "html"
    if not (html.is_dir() and len(os.listdir(html)) >= 2700):
        subprocess.run(["sh", str(shared_data / "unpack"), str(dest)], check=True, capture_output=True)
    return html


def load_case(cases: Path, case_id: str) -> dict:
    """Return a case's ``case.toml`` as a dict, with ``dir`` set to its folder."""
    import tomllib

    folder = cases / case_id
    data = tomllib.loads((folder / "case.toml").read_text())
    data["dir"] = folder
    return data
