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
# Idle OpenMP threads sleep instead of spinning, as in the d2a command: torch runs many times
# slower on a loaded machine otherwise.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny Stable-Diffusion-shaped pipeline folder with random weights, built once per run."""
    from demographic2art.model.tiny import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny", seed=0)


def invented_page(name: str, infobox_rows: str, lead: str, body: str) -> str:
    """Return a saved Wikipedia page of an invented painter: an infobox of ``infobox_rows``, then the lead and body."""
    from demographic2art.bios.fetch import saved_page

    html = f'<div class="mw-parser-output"><table class="infobox vcard"><tbody>{infobox_rows}</tbody></table><p>{lead}</p>{body}</div>'
    return saved_page("en.wikipedia.org", name, {"text": html, "categories": [{"category": "Invented_painters"}]}, None)


def invented_painter_page(name: str, birthplace_html: str, nationality: str, born: int, died: int) -> str:
    """Return a saved Wikipedia page of an invented painter with a birthplace and a nationality in its infobox."""
    infobox = (
        f'<tr><th>Born</th><td>3 May {born}<br/><div class="birthplace">{birthplace_html}</div></td></tr>'
        f"<tr><th>Nationality</th><td>{nationality}</td></tr>"
    )
    lead = f"<b>{name}</b> (3 May {born} – 9 June {died}) was a {nationality} painter."
    body = "<p>The artist exhibited paintings and drawings in many towns over a long working life.</p>"
    return invented_page(name, infobox, lead, body)


def tiny_lora_bytes() -> bytes:
    """Return a minimal LoRA in safetensors format: one zero lora_A and lora_B pair."""
    import numpy as np
    from safetensors.numpy import save

    return save({
        "unet.down_blocks.0.attn.to_q.lora_A.weight": np.zeros((1, 4), np.float32),
        "unet.down_blocks.0.attn.to_q.lora_B.weight": np.zeros((4, 1), np.float32),
    })


def write_training_workspace(root: Path, n_images: int = 4, size: int = 64, seed: int = 0):
    """Return a workspace holding ``n_images`` painting-like images with captions, ready to train."""
    import io

    import numpy as np
    import pandas as pd

    from demographic2art.demo.paintings import paint
    from demographic2art.workspace import Workspace

    workspace = Workspace(root).create()
    rng = np.random.default_rng(seed)
    styles = ["impressionism", "baroque", "expressionism", "symbolism"]
    rows = []
    for i in range(n_images):
        image = paint(rng, size, size, styles[i % len(styles)])
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=95)
        workspace.storage.write_bytes(f"images/files/artist-{i % 2}/work-{i}.jpg", buffer.getvalue())
        rows.append(
            {
                "key": f"artist-{i % 2}/work-{i}",
                "artist_key": f"artist-{i % 2}",
                "file_name": f"artist-{i % 2}/work-{i}.jpg",
                "caption": f"a {styles[i % len(styles)]} landscape painting by a {'female' if i % 2 else 'male'} artist",
                "neutral_caption": f"a {styles[i % len(styles)]} landscape painting by an artist",
                "tokens": 10,
                "truncated": False,
                "split": "validation" if i == n_images - 1 and n_images > 3 else "train",
            }
        )
    workspace.storage.write_parquet("captions/captions.parquet", pd.DataFrame(rows))
    return workspace


@pytest.fixture
def offline_hub(monkeypatch, tmp_path):
    """Keep Hugging Face lookups offline and in an empty cache, so no test reaches the hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster (2 CPUs, 127.0.0.1, no dashboard) for the whole ``-m ray`` session."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'demographic2art[ray]'")
    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield ray
    ray.shutdown()


_SKIPPED: list[tuple[str, str]] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append((report.nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    """With ``D2A_REQUIRE_ALL_TESTS=1`` (set by CI), any skip other than a GPU test fails the run."""
    if os.environ.get("D2A_REQUIRE_ALL_TESTS") != "1" or exitstatus != 0:
        return
    gpu_items = {item.nodeid for item in session.items if item.get_closest_marker("gpu")}
    unexpected = [(node, reason) for node, reason in _SKIPPED if node not in gpu_items]
    if unexpected:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for node, reason in unexpected:
            reporter.write_line(f"SKIPPED IN CI: {node}: {reason}", red=True)
        session.exitstatus = 1
