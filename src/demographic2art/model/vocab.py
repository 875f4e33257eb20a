"""The CLIP byte-pair-encoding vocabulary (49,408 tokens) without a network download.

Stable Diffusion 1.x uses OpenAI CLIP's BPE tokenizer. Its merge list ships as
``bpe_simple_vocab_16e6.txt.gz`` (MIT licence) inside the ``open-clip-torch`` wheel, so
set-up runs ``pip download --no-deps open-clip-torch`` and keeps only that file, in
``<sys.prefix>/share/demographic2art/``. From it :func:`write_clip_tokenizer_files`
builds the ``vocab.json`` and ``merges.txt`` that :class:`transformers.CLIPTokenizer`
reads, with the same token ids as the tokenizer of ``openai/clip-vit-large-patch14``.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

from ..errors import MissingFileError

logger = logging.getLogger(__name__)

BPE_FILE = "bpe_simple_vocab_16e6.txt.gz"
OPEN_CLIP_WHEEL = "open-clip-torch==3.3.0"
VOCAB_SIZE = 49408
# CLIP keeps the first 49152 - 256 - 2 merges of the file (its first line is a header).
N_MERGES = 49152 - 256 - 2
START_TOKEN = "<|startoftext|>"
END_TOKEN = "<|endoftext|>"


def default_bpe_path() -> Path:
    return Path(sys.prefix) / "share" / "demographic2art" / BPE_FILE


def find_bpe() -> Path:
    """Return the path of the BPE merge file, from ``D2A_CLIP_BPE`` or the environment's share folder."""
    candidates = [os.environ.get("D2A_CLIP_BPE"), default_bpe_path()]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise MissingFileError(
        f"CLIP vocabulary {BPE_FILE} not found at {default_bpe_path()}; "
        "run 'python -m demographic2art.model.vocab' (or 'make setup') to install it, "
        "or set D2A_CLIP_BPE to the file"
    )


def install_bpe(wheel: str | os.PathLike[str] | None = None) -> Path:
    """Copy the BPE merge file out of an ``open-clip-torch`` wheel into the share folder.

    Without ``wheel``, pip downloads the wheel (no dependencies) from the configured index.
    """
    target = default_bpe_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, OPEN_CLIP_WHEEL],
                check=True,
            )
            wheel = next(Path(tmp).glob("open_clip_torch-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(f"open_clip/{BPE_FILE}")
    target.write_bytes(data)
    logger.info("installed %s (%d bytes)", target, len(data))
    return target


def _bytes_to_unicode() -> list[str]:
    """Return the 256 characters CLIP's byte-level BPE uses for bytes, in CLIP's id order.

    Printable bytes map to themselves and come first; the others map to code points
    from 256 upwards and follow, which is the order of the first 256 token ids.
    """
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    others = [b for b in range(256) if b not in set(printable)]
    return [chr(b) for b in printable] + [chr(256 + i) for i in range(len(others))]


@lru_cache(maxsize=2)
def clip_vocabulary(bpe_path: str | None = None) -> tuple[dict[str, int], tuple[str, ...]]:
    """Return CLIP's token-to-id table and its merge list, built from the BPE file."""
    path = Path(bpe_path) if bpe_path else find_bpe()
    lines = gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")
    merges = tuple(lines[1 : N_MERGES + 1])
    symbols = _bytes_to_unicode()
    tokens = symbols + [s + "</w>" for s in symbols]
    tokens += ["".join(merge.split()) for merge in merges]
    tokens += [START_TOKEN, END_TOKEN]
    if len(tokens) != VOCAB_SIZE:
        raise ValueError(f"{path} gives {len(tokens)} tokens, expected {VOCAB_SIZE}")
    return {token: i for i, token in enumerate(tokens)}, merges


def write_clip_tokenizer_files(out_dir: str | os.PathLike[str], bpe_path: str | None = None) -> Path:
    """Write ``vocab.json``, ``merges.txt`` and the tokenizer config for ``CLIPTokenizer``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vocab, merges = clip_vocabulary(str(bpe_path) if bpe_path else None)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    config = {
        "tokenizer_class": "CLIPTokenizer",
        # Without an explicit maximum the pipeline's encode step overflows on long prompts.
        "model_max_length": 77,
        "bos_token": START_TOKEN,
        "eos_token": END_TOKEN,
        "unk_token": END_TOKEN,
        "pad_token": END_TOKEN,
        "do_lower_case": True,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    (out / "special_tokens_map.json").write_text(
        json.dumps({k: config[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token")}, indent=2)
    )
    return out


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(install_bpe(sys.argv[1] if len(sys.argv) > 1 else None))
