"""Compare the studio worker's time per job with calling the pipeline directly.

Each repeat runs the same settings twice, in alternating order so that load from other
processes falls on both kinds alike. The direct run calls ``Generator.generate`` and
then ``save_generation`` to a file, timed together, in the main thread. The studio run
is one job through the app served by waitress on 127.0.0.1 in this process: the
worker's time from job start to saved image (``finished - started`` of the job record)
and the client's time from ``POST /api/jobs`` over HTTP through polling to the fetched
PNG. Both threads use the same torch thread count. The script prints the medians; the
target is worker time within 5% of the direct call.

Run: ``.venv/bin/python benchmarks/serve_latency.py`` (add ``--device cuda`` on a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_common import print_header, start_app, tiny_model  # noqa: E402

TARGET_RATIO = 1.05
POLL_S = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs of each kind (count)")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps per image")
    parser.add_argument("--size", type=int, default=64, help="image width and height (pixels)")
    parser.add_argument("--model", default=None, help="model folder [default: a new tiny model]")
    parser.add_argument("--device", default=None, help="torch device [default: best available]")
    args = parser.parse_args()
    print_header()

    import threading

    from waitress.server import create_server

    from demographic2art.generate import GenerationParams, save_generation
    from demographic2art.generate.threads import set_torch_threads
    from demographic2art.storage import Storage

    threads = set_torch_threads()
    app, generator = start_app(tiny_model(args.model), device=args.device)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    client = HttpClient(f"http://127.0.0.1:{server.effective_port}")
    storage = Storage(tempfile.mkdtemp(prefix="d2a-serve-bench-direct-"))
    body = {"prompt": "a harbour at dusk, oil on canvas", "seed": 5, "steps": args.steps, "width": args.size, "height": args.size}
    params = GenerationParams(**body)
    direct, worker, client_times = [], [], []
    # One warm-up of each kind, so one-off costs (scheduler build, first kernels) are not timed.
    for repeat in range(args.repeats + 1):
        direct_first = repeat % 2 == 0
        if direct_first:
            direct_s = _direct(generator, params, storage, repeat, save_generation)
        started = time.perf_counter()
        job_id = client.post("/api/jobs", body)["id"]
        while (record := client.get_json(f"/api/jobs/{job_id}"))["state"] not in ("done", "failed"):
            time.sleep(POLL_S)
        client.get(record["result_urls"][0])
        client_s = time.perf_counter() - started
        if record["state"] != "done":
            raise SystemExit(f"job {job_id} failed: {record['error']}")
        if not direct_first:
            direct_s = _direct(generator, params, storage, repeat, save_generation)
        if repeat == 0:
            continue
        direct.append(direct_s)
        worker.append(record["finished"] - record["started"])
        client_times.append(client_s)
    server.close()
    app.extensions["d2a_queue"].stop()

    direct_median = statistics.median(direct)
    worker_median = statistics.median(worker)
    ratio = worker_median / direct_median
    print(f"torch threads {threads} in both threads; load average after the run: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"device {generator.device}, {args.steps} steps, {args.size}x{args.size} px, {args.repeats} repeats, poll every {POLL_S} s")
    print(f"direct generate + save: median {direct_median * 1000:.1f} ms (min {min(direct) * 1000:.1f})")
    print(f"worker job start to saved image: median {worker_median * 1000:.1f} ms (min {min(worker) * 1000:.1f})")
    print(f"client POST to fetched PNG, with polling: median {statistics.median(client_times) * 1000:.1f} ms")
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"worker / direct: {ratio:.3f} ({verdict} the <= {TARGET_RATIO:.2f} target)")


def _direct(generator, params, storage, repeat: int, save_generation) -> float:
    """Return the seconds of one direct generate + save with the same settings as a job."""
    started = time.perf_counter()
    image = generator.generate(params)[0]
    save_generation(storage, f"gallery/direct-{repeat}.png", image, params, model=generator.model_name, lora=None)
    return time.perf_counter() - started


class HttpClient:
    """A JSON client for the studio over HTTP (urllib, no connection reuse)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.base + path, timeout=60) as response:
            return response.read()

    def get_json(self, path: str) -> dict:
        return json.loads(self.get(path))

    def post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())


if __name__ == "__main__":
    main()
