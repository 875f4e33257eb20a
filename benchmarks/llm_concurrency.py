"""Wall time of the LLM extractor against a local OpenAI-compatible server with a fixed latency.

The server (tests/demographics/llm_server.py) replies to every call after ``--latency`` seconds on
127.0.0.1. The target: N artists finish within 1.2x the ideal ``N x latency / concurrency``.
Pages are invented biographies written to a temporary workspace.

    .venv/bin/python benchmarks/llm_concurrency.py --artists 2700 --latency 3 --concurrency 64
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "demographics"))
from llm_server import LLMTestServer, Reply, answer_json, completion  # noqa: E402

from demographic2art.demographics.llm import extract_llm  # noqa: E402
from demographic2art.workspace import Workspace  # noqa: E402

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><title>Painter {i} - Wikipedia</title>
<link rel="canonical" href="https://en.wikipedia.org/wiki/Painter_{i}"></head><body><h1>Painter {i}</h1>
<div id="mw-content-text"><div class="mw-parser-output"><p><b>Painter {i}</b> (1850 – 1920) was a French
painter born in Lyon. He painted rivers and harbours.</p></div></div>
<div id="catlinks"><div id="mw-normal-catlinks"><ul><li><a href="/wiki/Category:1850_births">1850 births</a></li>
</ul></div></div></body></html>"""


def machine() -> str:
    """Return nproc, the CPU model and the memory of this machine."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    memory_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return f"nproc {os.cpu_count()}, {cpu}, {memory_kb / 1024**2:.1f} GiB memory"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artists", type=int, default=2700)
    parser.add_argument("--latency", type=float, default=3.0, help="server reply delay, seconds")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    print("command:", " ".join([sys.executable, *sys.argv]))
    print("machine:", machine(), "| load:", subprocess.run(["cat", "/proc/loadavg"], capture_output=True, text=True).stdout.strip())
    reply = completion(answer_json(birth_year={"year": 1850, "approximate": False, "quote": "1850"}))
    with tempfile.TemporaryDirectory() as folder, LLMTestServer(responder=lambda body: Reply(body=reply, delay_s=args.latency)) as server:
        workspace = Workspace(Path(folder) / "ws").create()
        for i in range(args.artists):
            workspace.storage.write_bytes(f"bios/html/painter-{i}.html", PAGE.format(i=i).encode())
        started = time.monotonic()
        summary = extract_llm(workspace, base_url=server.base_url, model="gpt-4o-mini", concurrency=args.concurrency,
                              timeout_s=60, max_retries=3)
        elapsed = time.monotonic() - started
        peak = server.max_active
    ideal = args.artists * args.latency / args.concurrency
    print(f"artists {args.artists}, latency {args.latency:g} s, concurrency {args.concurrency}, peak in flight {peak}")
    print(f"statuses {summary.statuses}")
    print(f"wall {elapsed:.1f} s, ideal {ideal:.1f} s, ratio {elapsed / ideal:.3f} (target <= 1.2)")
    return 0 if elapsed <= 1.2 * ideal and summary.statuses.get("llm_ok") == args.artists else 1


if __name__ == "__main__":
    sys.exit(main())
