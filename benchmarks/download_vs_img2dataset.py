"""Compare `d2a images download` with img2dataset on the same URL list served by nginx on 127.0.0.1.

What it does, all under a work folder (default /tmp/d2a-download-bench):

1. Generates the image set once: ``--bases`` painting-like pictures (gradient ground,
   shapes, brush strokes, texture noise; ``demographic2art.demo.paintings.paint``) of
   2000x1600 px. Each JPEG of the set is a random crop of 1200-2000 px on the long
   side of one base, flipped at random, so no two files are the same bytes. JPEGs are
   saved at quality 76, which puts the median file at about 400 KB. The set also
   contains PNGs with and without alpha, truncated JPEGs (cut at 60 %), garbage
   files named .jpg, files served with ``X-Robots-Tag: noai``, URLs that give 404
   and URLs that give 429.
2. Makes a local CA and a server certificate for 127.0.0.1 with openssl, and starts
   nginx from Debian's package on 127.0.0.1 over HTTP and HTTPS (one worker, keep-alive).
   Both tools verify HTTPS against ``tls/trust.pem``: the system CA bundle (Debian's
   ``/etc/ssl/certs/ca-certificates.crt``, else certifi's) with the local CA appended,
   as in a real user's trust store (Debian's bundle held 144 roots on the benchmark machine).
3. Builds img2dataset (pinned) in its own virtual environment under the work folder,
   with ``pandas<3`` and ``albumentations<2``, run with ``WANDB_MODE=disabled``,
   ``NO_ALBUMENTATIONS_UPDATE=1`` and ``SSL_CERT_FILE`` set to ``tls/trust.pem``.
4. Runs both tools one after the other for each protocol, ``--repeats`` times
   interleaved, with equal settings: 512 px keep-ratio on the longest side, JPEG
   quality 90, the same number of worker processes and the same number of
   connections in flight, no retries. It prints each command in full, then the median
   images/s, CPU seconds per image (the whole process tree: user + system of the
   tool and its children), success counts and peak memory (sum of RSS over the
   process tree, sampled every 50 ms), and the ratios d2a / img2dataset. Each run
   writes to a folder of its own under ``runs/``, and all of them are deleted after
   the last run. On ext4 without a journal (the benchmark machine's file system), the
   kernel skips inodes deleted in the last 60 seconds when it creates a file, so
   deleting the previous run's thousands of files just before a run made that run
   scan past them (about 4 % of d2a's CPU time in a test).
5. Measures the machine's decode-and-resize ceiling: in one process, libjpeg's scaled
   decode alone, then with d2a's resize to 512 px and the JPEG encode, of up to 200
   valid JPEGs of the set, in CPU ms per image, beside d2a's own ``process_body`` on
   the same files.

Run: ``.venv/bin/python benchmarks/download_vs_img2dataset.py [--images 2000] [--repeats 3]``.
Nothing is reached but 127.0.0.1; the work folder can be deleted afterwards.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
IMG2DATASET_PIN = "img2dataset==1.47.0"
IMG2DATASET_EXTRAS = ["pandas<3", "albumentations<2"]
HTTP_PORT = 18480
HTTPS_PORT = 18443
# The quality of the set's JPEGs: with this painted texture it gives a median of about 400 KB.
JPEG_QUALITY = 76


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return f"nproc {os.cpu_count()}, {model}, {memory:.1f} GiB RAM, {platform.platform()}, load {os.getloadavg()}"


# ---------------------------------------------------------------- image set


def generate_site(root: Path, n_images: int, n_bases: int, seed: int) -> pd.DataFrame:
    """Write the image set under ``root/site`` and return its table (path, kind, expected outcome)."""
    sys.path.insert(0, str(REPO / "src"))
    from demographic2art.demo.paintings import paint

    site = root / "site"
    table_path = root / "site.json"
    recipe = {"images": n_images, "bases": n_bases, "seed": seed, "jpeg_quality": JPEG_QUALITY}
    recipe_path = root / "site-recipe.json"
    if table_path.is_file() and recipe_path.is_file() and json.loads(recipe_path.read_text()) == recipe:
        return pd.read_json(table_path)
    shutil.rmtree(site, ignore_errors=True)
    rng = np.random.default_rng(seed)
    styles = ["Impressionism", "Baroque", "Expressionism", "Symbolism", "Realism", "Romanticism"]
    print(f"painting {n_bases} bases of 2000x1600 px ...", flush=True)
    bases = [paint(rng, 2000, 1600, styles[i % len(styles)]) for i in range(n_bases)]

    counts = {"png": n_images * 3 // 100, "png_alpha": n_images * 2 // 100, "truncated": n_images // 100,
              "garbage": n_images // 200, "noai": n_images // 200, "missing": n_images // 100,
              "limited": n_images // 200}
    counts["jpeg"] = n_images - sum(counts.values())
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    random.Random(seed).shuffle(kinds)
    rows = []
    for index, kind in enumerate(kinds):
        folder = {"noai": "noai", "missing": "missing", "limited": "limited"}.get(kind, "art")
        suffix = ".png" if kind.startswith("png") else ".jpg"
        name = f"{folder}/artist-{index % 97:02d}/painting-{index:05d}{suffix}"
        rows.append({"path": name, "kind": kind})
        if kind in ("missing", "limited"):
            continue
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "garbage":
            path.write_bytes(rng.bytes(int(rng.integers(2_000, 50_000))))
            continue
        base = bases[index % n_bases]
        long_side = int(rng.integers(1200, 2001))
        width, height = long_side, int(long_side * rng.uniform(0.62, 0.8))
        left = int(rng.integers(0, 2000 - width + 1))
        top = int(rng.integers(0, 1600 - height + 1))
        picture = base.crop((left, top, left + width, top + height))
        if rng.random() < 0.5:
            picture = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        buffer = io.BytesIO()
        if kind == "png_alpha":
            picture = picture.resize((width // 2, height // 2)).convert("RGBA")
            picture.putalpha(Image.linear_gradient("L").resize(picture.size))
            picture.save(buffer, format="PNG")
        elif kind == "png":
            picture.resize((width // 2, height // 2)).save(buffer, format="PNG")
        else:
            picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
        data = buffer.getvalue()
        if kind == "truncated":
            data = data[: int(len(data) * 0.6)]
        path.write_bytes(data)
        if index % 200 == 0:
            print(f"  {index}/{n_images} files", flush=True)
    table = pd.DataFrame(rows)
    table.to_json(table_path)
    recipe_path.write_text(json.dumps(recipe))
    for folder in site.rglob("*"):
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    return table


# ---------------------------------------------------------------- servers


def make_certificates(root: Path) -> tuple[Path, Path, Path]:
    """Return (CA certificate, server certificate, server key) made with openssl for 127.0.0.1."""
    tls = root / "tls"
    ca, cert, key = tls / "ca.pem", tls / "server.pem", tls / "server.key"
    if cert.is_file():
        return ca, cert, key
    tls.mkdir(parents=True, exist_ok=True)
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, cwd=tls)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-keyout", "ca.key",
        "-out", "ca.pem", "-subj", "/CN=d2a benchmark CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    (tls / "san.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "30", "-out", "server.pem", "-extfile", "san.ext")
    return ca, cert, key


def trust_bundle(root: Path, ca: Path) -> Path:
    """Return ``tls/trust.pem``: the system CA bundle with the benchmark's local CA appended."""
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    if not system.is_file():
        import certifi

        system = Path(certifi.where())
    trust = root / "tls" / "trust.pem"
    trust.write_bytes(system.read_bytes().rstrip(b"\n") + b"\n" + ca.read_bytes())
    return trust


def decode_ceiling(root: Path, limit: int = 200) -> dict[str, float]:
    """Return CPU ms per image of the unavoidable steps and of d2a's process_body, on valid JPEGs.

    ``decode`` is libjpeg's scaled decode alone. ``ceiling`` adds d2a's resize (box
    reduction plus linear interpolation) and the JPEG encode. ``process_body`` is
    what d2a runs per body: those steps plus sha256, sniffing, the truncation check,
    EXIF and ICC handling.
    """
    sys.path.insert(0, str(REPO / "src"))
    from demographic2art.images.decode import EncodeOptions, process_body
    from demographic2art.images.resample import resample

    bodies = []
    for path in sorted((root / "site").rglob("*.jpg")):
        data = path.read_bytes()
        if data.startswith(b"\xff\xd8\xff") and data.rstrip().endswith(b"\xff\xd9"):
            bodies.append(data)
        if len(bodies) >= limit:
            break

    def decode(data: bytes) -> tuple[Image.Image, tuple[int, int]]:
        im = Image.open(io.BytesIO(data))
        scale = 512 / max(im.size)
        size = (round(im.width * scale), round(im.height * scale))
        im.draft("RGB", size)
        im.load()
        return im, size

    def ceiling(data: bytes) -> None:
        im, size = decode(data)
        resample(im, size).save(io.BytesIO(), "JPEG", quality=90)

    options = EncodeOptions(max_pixels=89_478_485, max_side=512, resize_mode="keep", enlarge=False,
                            image_format="jpeg", quality=90)
    figures = {}
    steps = (("decode", decode), ("ceiling", ceiling), ("process_body", lambda data: process_body(data, options)))
    for name, step in steps:
        started = time.process_time()
        for data in bodies:
            step(data)
        figures[name] = 1000 * (time.process_time() - started) / len(bodies)
    return figures


def start_nginx(root: Path, cert: Path, key: Path) -> subprocess.Popen:
    """Start nginx on 127.0.0.1 (HTTP and HTTPS) serving ``root/site`` and return the process."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = root / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(textwrap.dedent(f"""
        daemon off;
        worker_processes 1;
        user root;
        pid {prefix}/nginx.pid;
        error_log {prefix}/logs/error.log warn;
        events {{ worker_connections 1024; }}
        http {{
            access_log off;
            sendfile on;
            keepalive_requests 100000;
            keepalive_timeout 60s;
            types {{ image/jpeg jpg; image/png png; }}
            client_body_temp_path {prefix}/tmp_body;
            proxy_temp_path {prefix}/tmp_proxy;
            fastcgi_temp_path {prefix}/tmp_fastcgi;
            uwsgi_temp_path {prefix}/tmp_uwsgi;
            scgi_temp_path {prefix}/tmp_scgi;
            server {{
                listen 127.0.0.1:{HTTP_PORT};
                listen 127.0.0.1:{HTTPS_PORT} ssl;
                ssl_certificate {cert};
                ssl_certificate_key {key};
                root {root}/site;
                location /noai/ {{ add_header X-Robots-Tag "noai"; }}
                location /limited/ {{ return 429; }}
            }}
        }}
    """))
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            import urllib.request

            urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/robots.txt", timeout=1)
        except urllib.error.HTTPError:
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not start: {process.stderr.read().decode() if process.poll() is not None else ''}")


# ---------------------------------------------------------------- img2dataset


def img2dataset_venv(root: Path) -> Path:
    venv = root / "img2dataset-venv"
    binary = venv / "bin" / "img2dataset"
    if not binary.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", IMG2DATASET_PIN, *IMG2DATASET_EXTRAS], check=True)
    return binary


# ---------------------------------------------------------------- measuring


def measure(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``command``; return wall seconds, CPU seconds of the process tree and peak tree RSS in MiB."""
    before = os.times()
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    handle = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [handle, *handle.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.monotonic() - started
    after = os.times()
    stderr = process.stderr.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {process.returncode}: {stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"wall_s": wall, "cpu_s": cpu, "peak_mib": peak / 2**20}


def img2dataset_outcome(output: Path, table: pd.DataFrame, base_url: str) -> dict[str, int]:
    frames = [pd.read_parquet(p) for p in output.glob("*.parquet")]
    results = pd.concat(frames) if frames else pd.DataFrame(columns=["url", "status"])
    kinds = table.assign(url=base_url + table["path"]).set_index("url")["kind"]
    results["kind"] = results["url"].map(kinds)
    ok = results[results["status"] == "success"]
    return {
        "success": len(ok),
        "success_valid": int(ok["kind"].isin(["jpeg", "png", "png_alpha"]).sum()),
        "accepted_truncated": int((ok["kind"] == "truncated").sum()),
        "noai_dropped": int((results["kind"] == "noai").sum() - (ok["kind"] == "noai").sum()),
    }


def d2a_outcome(workspace: Path, table: pd.DataFrame, base_url: str) -> dict[str, int]:
    manifest = pd.read_parquet(workspace / "images" / "manifest.parquet")
    kinds = table.assign(url=base_url + table["path"]).set_index("url")["kind"]
    manifest["kind"] = manifest["image_url"].map(kinds)
    ok = manifest[manifest["status"] == "ok"]
    return {
        "success": len(ok),
        "success_valid": int(ok["kind"].isin(["jpeg", "png", "png_alpha"]).sum()),
        "accepted_truncated": int((ok["kind"] == "truncated").sum()),
        "noai_dropped": int((manifest["reason"] == "x_robots_tag").sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/d2a-download-bench"), help="work folder")
    parser.add_argument("--images", type=int, default=2000, help="number of URLs in the set")
    parser.add_argument("--bases", type=int, default=24, help="number of painted base pictures")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs of each tool and protocol")
    parser.add_argument("--processes", type=int, default=2, help="worker processes of each tool")
    parser.add_argument("--threads", type=int, default=16, help="download threads per img2dataset process")
    parser.add_argument("--protocols", default="http,https", help="comma-separated: http, https")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    root = args.work
    root.mkdir(parents=True, exist_ok=True)
    print("machine:", machine(), flush=True)
    table = generate_site(root, args.images, args.bases, args.seed)
    sizes = [p.stat().st_size for p in (root / "site").rglob("*.jpg")]
    print(f"set: {len(table)} URLs, {table['kind'].value_counts().to_dict()}, median JPEG {statistics.median(sizes) / 1e3:.0f} KB",
          flush=True)
    ca, cert, key = make_certificates(root)
    trust = trust_bundle(root, ca)
    roots = trust.read_bytes().count(b"BEGIN CERTIFICATE")
    print(f"trust file: {trust} ({roots} certificates: the system bundle and the local CA)", flush=True)
    img2dataset = img2dataset_venv(root)
    nginx = start_nginx(root, cert, key)

    env = dict(os.environ, WANDB_MODE="disabled", NO_ALBUMENTATIONS_UPDATE="1", SSL_CERT_FILE=str(trust),
               RAY_USAGE_STATS_ENABLED="0")
    in_flight = args.processes * args.threads
    results: dict[tuple[str, str], list[dict]] = {}
    outputs = root / "runs"
    # Left over by an interrupted invocation; deleted now, so before the runs rather than between them.
    shutil.rmtree(outputs, ignore_errors=True)
    try:
        for repeat in range(args.repeats):
            for protocol in args.protocols.split(","):
                base_url = f"{protocol}://127.0.0.1:{HTTP_PORT if protocol == 'http' else HTTPS_PORT}/"
                urls = root / f"urls-{protocol}.csv"
                frame = pd.DataFrame({
                    "url": "https://www.wikiart.org/en/" + table["path"].str.split("/").str[1] + "/"
                    + table["path"].str.split("/").str[2].str.rsplit(".", n=1).str[0],
                    "image_url": base_url + table["path"],
                })
                frame.to_csv(urls, index=False)
                # img2dataset renames its URL column to "url", so its copy of the list has no page URLs.
                i2d_urls = root / f"urls-{protocol}-img2dataset.csv"
                frame[["image_url"]].to_csv(i2d_urls, index=False)
                i2d_out = outputs / f"{repeat + 1}-{protocol}-img2dataset"
                d2a_ws = outputs / f"{repeat + 1}-{protocol}-d2a"
                commands = {
                    "img2dataset": [
                        str(img2dataset), "--url_list", str(i2d_urls), "--input_format", "csv", "--url_col", "image_url",
                        "--output_folder", str(i2d_out), "--output_format", "files",
                        "--processes_count", str(args.processes), "--thread_count", str(args.threads),
                        "--image_size", "512", "--resize_mode", "keep_ratio_largest", "--resize_only_if_bigger", "True",
                        "--encode_format", "jpg", "--encode_quality", "90", "--timeout", "10", "--retries", "0",
                        "--number_sample_per_shard", "1000", "--distributor", "multiprocessing",
                        "--enable_wandb", "False",
                    ],
                    "d2a": [
                        str(REPO / ".venv" / "bin" / "d2a"), "images", "download", "-w", str(d2a_ws),
                        "--source", str(urls), "--max-side", "512", "--resize", "keep",
                        "--concurrency", str(in_flight), "--per-host", str(in_flight),
                        "--processes", str(args.processes), "--retries", "0", "--timeout", "10",
                        "--ca-file", str(trust),
                    ],
                }
                for tool, command in commands.items():
                    if repeat == 0:
                        print(f"\n{tool} {protocol}:\n  " + " ".join(command), flush=True)
                    figures = measure(command, env)
                    outcome = (img2dataset_outcome(i2d_out, table, base_url) if tool == "img2dataset"
                               else d2a_outcome(d2a_ws, table, base_url))
                    figures.update(outcome)
                    figures["images_per_s"] = len(table) / figures["wall_s"]
                    figures["cpu_ms_per_image"] = 1000 * figures["cpu_s"] / len(table)
                    results.setdefault((tool, protocol), []).append(figures)
                    print(f"run {repeat + 1} {tool:<12} {protocol:<5} {figures['images_per_s']:7.1f} img/s "
                          f"{figures['cpu_ms_per_image']:6.1f} ms CPU/img {figures['peak_mib']:7.0f} MiB "
                          f"ok {outcome['success']} (valid {outcome['success_valid']}, truncated "
                          f"{outcome['accepted_truncated']}, noai dropped {outcome['noai_dropped']}) load {os.getloadavg()[0]:.1f}",
                          flush=True)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)
        shutil.rmtree(outputs, ignore_errors=True)

    print("\nmedians of", args.repeats, "runs")
    summary = {}
    for (tool, protocol), runs in sorted(results.items()):
        medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        summary[f"{tool}/{protocol}"] = medians
        print(f"{tool:<12} {protocol:<5} {medians['images_per_s']:7.1f} img/s {medians['cpu_ms_per_image']:6.1f} ms CPU/img "
              f"peak {medians['peak_mib']:6.0f} MiB ok {medians['success']:.0f} valid {medians['success_valid']:.0f} "
              f"truncated accepted {medians['accepted_truncated']:.0f} noai dropped {medians['noai_dropped']:.0f}")
    for protocol in args.protocols.split(","):
        d2a, i2d = summary.get(f"d2a/{protocol}"), summary.get(f"img2dataset/{protocol}")
        if d2a and i2d:
            print(f"ratio {protocol}: images/s x{d2a['images_per_s'] / i2d['images_per_s']:.2f}, "
                  f"CPU/image x{d2a['cpu_ms_per_image'] / i2d['cpu_ms_per_image']:.2f}, "
                  f"peak memory x{d2a['peak_mib'] / i2d['peak_mib']:.2f}")
    ceiling = decode_ceiling(root)
    summary["decode_ceiling_ms"] = ceiling
    print(f"one process, {ceiling['decode']:.1f} ms CPU/image for the scaled decode alone, "
          f"{ceiling['ceiling']:.1f} ms with resize and JPEG encode (the ceiling); d2a process_body on the same "
          f"files: {ceiling['process_body']:.1f} ms (load {os.getloadavg()[0]:.1f})")
    (root / "results.json").write_text(json.dumps(summary, indent=2))
    print("machine:", machine())


if __name__ == "__main__":
    main()
