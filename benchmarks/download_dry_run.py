"""Time a full-catalog `d2a images download --dry-run` (plan, keys, shards, no network).

Builds the catalog from the WikiArt tables with ``d2a catalog build --data DATA`` into a
temporary workspace (or reuses ``--workspace``), then runs the dry run ``--repeats``
times in this process and prints wall and CPU seconds of each, the number of planned
artworks and shards, and the peak RSS of this process.

Run: ``.venv/bin/python benchmarks/download_dry_run.py --data /path/to/data``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="data folder with wikiart/artworks.csv.gz")
    parser.add_argument("--workspace", type=Path, default=None, help="workspace with a built catalog to reuse")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"machine: nproc {os.cpu_count()}, {platform.processor() or platform.machine()}, load {os.getloadavg()}")
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="d2a-dry-run-"))
    if not (workspace / "catalog" / "artworks.parquet").is_file():
        command = [str(REPO / ".venv" / "bin" / "d2a"), "catalog", "build", "--data", str(args.data), "-w", str(workspace)]
        print("building the catalog:", " ".join(command), flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    sys.path.insert(0, str(REPO / "src"))
    from demographic2art.images import download_images

    print(f"command: download_images({str(workspace)!r}, dry_run=True)  # same as d2a images download -w ... --dry-run")
    for repeat in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        summary = download_images(workspace, dry_run=True)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"run {repeat + 1}: {summary.total} artworks, {summary.counts}, {summary.shards} shards, "
            f"{wall:.2f} s wall, {cpu:.2f} s CPU, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
