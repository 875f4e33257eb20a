"""Compare the studio worker's time per job with calling the pipeline directly.

Each repeat runs the same settings twice. The direct run calls ``Generator.generate``
and then ``save_generation`` to a file, timed together. The studio run is one job: the
worker's time from job start to saved image (``finished - started`` of the job record)
and the client's time from ``POST /api/jobs`` through polling to the fetched PNG. The
script prints the medians; the target is worker time within 5% of the direct call.

Run: ``.venv/bin/python benchmarks/serve_latency.py`` (add ``--device cuda`` on a GPU).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_common import print_header, start_app, tiny_model  # noqa: E402

TARGET_RATIO = 1.05
POLL_S = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed runs of each kind (count)")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps per image")
    parser.add_argument("--size", type=int, default=64, help="image width and height (pixels)")
    parser.add_argument("--model", default=None, help="model folder [default: a new tiny model]")
    parser.add_argument("--device", default=None, help="torch device [default: best available]")
    args = parser.parse_args()
    print_header()

    from demographic2art.generate import GenerationParams, save_generation
    from demographic2art.storage import Storage

    app, generator = start_app(tiny_model(args.model), device=args.device)
    client = app.test_client()
    storage = Storage(tempfile.mkdtemp(prefix="d2a-serve-bench-direct-"))
    body = {"prompt": "a harbour at dusk, oil on canvas", "seed": 5, "steps": args.steps, "width": args.size, "height": args.size}
    params = GenerationParams(**body)
    direct, worker, client_times = [], [], []
    # One warm-up of each kind, so one-off costs (scheduler build, first kernels) are not timed.
    for repeat in range(args.repeats + 1):
        started = time.perf_counter()
        image = generator.generate(params)[0]
        save_generation(storage, f"gallery/direct-{repeat}.png", image, params, model=generator.model_name, lora=None)
        direct_s = time.perf_counter() - started

        started = time.perf_counter()
        job_id = client.post("/api/jobs", json=body).get_json()["id"]
        while (record := client.get(f"/api/jobs/{job_id}").get_json())["state"] not in ("done", "failed"):
            time.sleep(POLL_S)
        client.get(record["result_urls"][0]).close()
        client_s = time.perf_counter() - started
        if record["state"] != "done":
            raise SystemExit(f"job {job_id} failed: {record['error']}")
        if repeat == 0:
            continue
        direct.append(direct_s)
        worker.append(record["finished"] - record["started"])
        client_times.append(client_s)
    app.extensions["d2a_queue"].stop()

    direct_median = statistics.median(direct)
    worker_median = statistics.median(worker)
    ratio = worker_median / direct_median
    print(f"device {generator.device}, {args.steps} steps, {args.size}x{args.size} px, {args.repeats} repeats, poll every {POLL_S} s")
    print(f"direct generate + save: median {direct_median * 1000:.1f} ms (min {min(direct) * 1000:.1f})")
    print(f"worker job start to saved image: median {worker_median * 1000:.1f} ms (min {min(worker) * 1000:.1f})")
    print(f"client POST to fetched PNG, with polling: median {statistics.median(client_times) * 1000:.1f} ms")
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"worker / direct: {ratio:.3f} ({verdict} the <= {TARGET_RATIO:.2f} target)")


if __name__ == "__main__":
    main()
