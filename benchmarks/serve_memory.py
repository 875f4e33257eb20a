"""Measure the studio's memory across many jobs: RSS (and CUDA memory) must stay flat.

Sends ``--requests`` jobs one after another through the app (Flask test client, the
real queue and worker, tiny model), waits for each, fetches its image and reads
``/api/history``. Prints RSS after request 20 and after the last one; the target is
growth below 50 MB. CUDA allocated and reserved memory are printed where a GPU is used.

Run: ``.venv/bin/python benchmarks/serve_memory.py`` (add ``--device cuda`` on a GPU).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_common import print_header, start_app, tiny_model  # noqa: E402

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
    import torch

    app, generator = start_app(tiny_model(args.model), history_size=50, device=args.device)
    client = app.test_client()
    process = psutil.Process()
    cuda = generator.device.startswith("cuda")
    body = {"prompt": "a harbour at dusk, oil on canvas", "steps": args.steps, "width": args.size, "height": args.size}
    rss_mb: dict[int, float] = {}
    started = time.perf_counter()
    for number in range(1, args.requests + 1):
        job_id = client.post("/api/jobs", json={**body, "seed": 1000 + number}).get_json()["id"]
        while (record := client.get(f"/api/jobs/{job_id}").get_json())["state"] not in ("done", "failed", "cancelled"):
            time.sleep(0.01)
        if record["state"] != "done":
            raise SystemExit(f"job {job_id} ended as {record['state']}: {record['error']}")
        client.get(record["result_urls"][0]).close()
        client.get("/api/history").close()
        if number in (args.baseline, args.requests) or number % 50 == 0:
            gc.collect()
            rss_mb[number] = process.memory_info().rss / 2**20
            line = f"after request {number}: RSS {rss_mb[number]:.1f} MB"
            if cuda:
                line += f", CUDA allocated {torch.cuda.memory_allocated() / 2**20:.1f} MB"
                line += f", reserved {torch.cuda.memory_reserved() / 2**20:.1f} MB"
            print(line, flush=True)
    elapsed = time.perf_counter() - started
    growth = rss_mb[args.requests] - rss_mb[args.baseline]
    held = app.extensions["d2a_queue"].held_jobs()
    app.extensions["d2a_queue"].stop()
    print(f"device {generator.device}, {args.requests} jobs in {elapsed:.1f} s, {held} job records held in memory")
    verdict = "meets" if growth < TARGET_MB else "misses"
    print(f"RSS growth from request {args.baseline} to {args.requests}: {growth:+.1f} MB ({verdict} the < {TARGET_MB} MB target)")


if __name__ == "__main__":
    main()
