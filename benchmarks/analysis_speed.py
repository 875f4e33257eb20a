"""Benchmark feature extraction and the full portfolio report.

Targets: feature extraction of at least 10 images per second per core at 512 px. The
full report (features, statistics, figures, HTML) for 2 groups of 48 images plus the
48-image neutral control takes under a minute on 2 cores, after generation.

The images are painting-like pictures from the demo painter at 512 x 512 px, written as
a portfolio in a temporary workspace, so no model weights are needed. Run:

    .venv/bin/python benchmarks/analysis_speed.py [--images 48] [--extract 40]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

import numpy as np


def machine() -> str:
    """Return the core count, CPU model and memory of this machine."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as handle:
            memory = int(handle.readline().split()[1]) / 1024**2
    except OSError:
        memory = float("nan")
    return f"nproc {os.cpu_count()}, {model}, {memory:.1f} GiB memory, load average {os.getloadavg()[0]:.2f}"


def paintings(count: int, size: int, seed: int) -> list:
    from demographic2art.demo.paintings import paint

    rng = np.random.default_rng(seed)
    styles = ["impressionism", "baroque", "expressionism", "symbolism"]
    return [paint(rng, size, size, styles[i % len(styles)]) for i in range(count)]


def bench_extraction(count: int) -> tuple[float, float]:
    """Return images per wall-clock second and per CPU second of this process.

    The CPU-time rate is the per-core rate even when other programs share the cores,
    because extraction runs on one thread.
    """
    from demographic2art.analysis.features import extract_features

    images = paintings(count, 512, seed=1)
    start, cpu_start = time.perf_counter(), time.process_time()
    frame = extract_features(images)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert (frame["status"] == "ok").all()
    return count / elapsed, count / cpu


def write_portfolio(root: str, count: int) -> str:
    """Write a portfolio of 3 groups x ``count`` paintings with a manifest, as compare does."""
    from demographic2art.generate.pngmeta import png_bytes
    from demographic2art.workspace import Workspace

    ws = Workspace(root).create()
    records = []
    for offset, group in enumerate(("gender=female", "gender=male", "neutral")):
        for index, image in enumerate(paintings(count, 512, seed=10 + offset)):
            relpath = f"portfolios/bench/images/{offset}/{1000 + index}.png"
            ws.storage.write_bytes(relpath, png_bytes(image, "benchmark painting"))
            records.append({"group": group, "seed": 1000 + index, "template": index % 4, "prompt": group, "lora_weight": 1.0, "file": relpath})
    manifest = {"name": "bench", "groups": ["gender=female", "gender=male"], "controls": ["neutral"], "model": "demo painter",
                "settings": {"n_images": count}, "images": records}
    ws.storage.write_json("portfolios/bench/manifest.json", manifest)
    return root


def bench_report(count: int) -> tuple[float, dict]:
    """Return the wall-clock seconds of the full report, with its CPU seconds and size."""
    from demographic2art.analysis.compare import analyze_portfolio

    with tempfile.TemporaryDirectory(prefix="d2a-bench-") as root:
        write_portfolio(root, count)
        start, cpu_start = time.perf_counter(), time.process_time()
        result = analyze_portfolio(root, "bench")
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        info = {"cpu": cpu, "comparisons": len(result.multivariate), "report_bytes": os.path.getsize(result.files["report.html"])}
    return elapsed, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48, help="images per group in the report benchmark")
    parser.add_argument("--extract", type=int, default=40, help="images in the extraction benchmark")
    args = parser.parse_args()
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    print("machine:", machine())
    rate, cpu_rate = bench_extraction(args.extract)
    print(f"feature extraction at 512 px: {rate:.1f} images/s wall clock, {cpu_rate:.1f} images per CPU second (target >= 10 per core)")
    elapsed, info = bench_report(args.images)
    print(
        f"full report for 2 x {args.images} images + {args.images} neutral: {elapsed:.1f} s wall clock, {info['cpu']:.1f} CPU s "
        f"({info['comparisons']} paired comparisons, default resampling: 2000 bootstrap, 999 + 199 permutations; "
        f"report {info['report_bytes'] / 1e6:.1f} MB; target < 60 s on 2 cores)"
    )


if __name__ == "__main__":
    main()
