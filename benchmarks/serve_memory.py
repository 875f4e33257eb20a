"""Measure the studio server's memory across many jobs: its RSS must stay flat.

Starts ``d2a serve --port 0`` as its own process (the real waitress server on
127.0.0.1, tiny model, no LoRA) and sends ``--requests`` jobs one after another over
HTTP. After each job it polls to the end, fetches the PNG and reads ``/api/history``.
It prints the server process's RSS after request ``--baseline`` (warm-up) and after
the last one; the target is growth below 50 MB.

NOTE: CUDA memory is not read, because the server runs in its own process. On a GPU,
watch the server's memory with ``nvidia-smi`` beside this script.

Run: ``.venv/bin/python benchmarks/serve_memory.py`` (add ``--device cuda`` on a GPU).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_common import print_header, start_server_process  # noqa: E402

TARGET_MB = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="jobs to send (count)")
    parser.add_argument("--baseline", type=int, default=20, help="request after which RSS is the baseline (count)")
    parser.add_argument("--steps", type=int, default=2, help="denoising steps per job")
    parser.add_argument("--size", type=int, default=64, help="image width and height (pixels)")
    parser.add_argument("--model", default=None, help="model folder [default: a new tiny model]")
    parser.add_argument("--device", default=None, help="torch device [default: best available]")
    args = parser.parse_args()
    print_header()

    import psutil

    server = start_server_process(args.model, device=args.device)
    process = psutil.Process(server.process.pid)
    body = {"prompt": "a harbour at dusk, oil on canvas", "steps": args.steps, "width": args.size, "height": args.size}
    rss_mb: dict[int, float] = {}
    started = time.perf_counter()
    try:
        for number in range(1, args.requests + 1):
            record = server.run_job({**body, "seed": 1000 + number}, poll_s=0.01)
            if record["state"] != "done":
                raise SystemExit(f"job {record['id']} ended as {record['state']}: {record['error']}")
            server.get(record["result_urls"][0])
            server.get("/api/history")
            if number in (args.baseline, args.requests) or number % 50 == 0:
                rss_mb[number] = process.memory_info().rss / 2**20
                print(f"after request {number}: server RSS {rss_mb[number]:.1f} MB", flush=True)
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    growth = rss_mb[args.requests] - rss_mb[args.baseline]
    print(f"{args.requests} jobs of {args.steps} steps at {args.size}x{args.size} px in {elapsed:.1f} s")
    verdict = "meets" if growth < TARGET_MB else "misses"
    print(f"server RSS growth from request {args.baseline} to {args.requests}: {growth:+.1f} MB ({verdict} the < {TARGET_MB} MB target)")


if __name__ == "__main__":
    main()
