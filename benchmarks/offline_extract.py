"""Time offline demographics extraction on a folder of saved pages, in one process on one core.

Reads every ``<slug>.html`` of ``--pages`` into memory first, so disk time is not counted.
Then runs :func:`demographic2art.demographics.extract_page` on each page ``--repeats`` times.
Prints the machine, the page count and size, and pages per CPU-second and per wall-second of
the best repeat. Extraction parses each page once (selectolax, lexbor backend).

Run: ``.venv/bin/python benchmarks/offline_extract.py --pages .cache/shared-pages/wikipedia/html``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int(handle.readline().split()[1])
        return f"{kib / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, required=True, help="folder of saved <slug>.html pages")
    parser.add_argument("--repeats", type=int, default=2, help="passes over all pages; the best is reported")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N pages (name order)")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "src"))
    from demographic2art.demographics import extract_page

    print("command:", " ".join([sys.executable, *sys.argv]))
    print(f"machine: nproc {os.cpu_count()}, {_cpu_model()}, memory {_memory_gib()}, load {os.getloadavg()}")
    names = sorted(n for n in os.listdir(args.pages) if n.endswith(".html"))[: args.limit]
    pages = [(name[:-5], (args.pages / name).read_bytes()) for name in names]
    total_bytes = sum(len(data) for _, data in pages)
    print(f"pages: {len(pages)}, mean size {total_bytes / max(len(pages), 1) / 1024:.0f} KiB")

    best_cpu = best_wall = float("inf")
    for repeat in range(args.repeats):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        for key, data in pages:
            extract_page(data, artist_key=key)
        wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
        best_cpu, best_wall = min(best_cpu, cpu), min(best_wall, wall)
        print(f"repeat {repeat + 1}: wall {wall:.2f} s, cpu {cpu:.2f} s")
    print(f"pages per CPU-second (one core): {len(pages) / best_cpu:.0f}")
    print(f"pages per wall-second: {len(pages) / best_wall:.0f}")


if __name__ == "__main__":
    main()
