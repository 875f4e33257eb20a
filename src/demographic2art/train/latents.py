"""VAE latent distributions of the training images, encoded once and cached in the workspace.

With deterministic transforms (centre crop or buckets, flips as a second cached variant) an
image always gives the same pixels, so its latent distribution (mean and standard deviation)
is encoded once and stored under ``cache/latents/``. The file name is a hash of the model,
the training size and the image's SHA-256, so runs of a grid on the same model and size
share the files and a different model or size never reads them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

CACHE_FOLDER = "cache/latents"
ENCODE_BATCH = 8


def latent_cache_key(model: str, width: int, height: int, image_sha256: str, flip: bool) -> str:
    """Return the cache file name of one image's latent distribution at one size and flip."""
    identity = json.dumps(
        {"model": model, "width": width, "height": height, "image": image_sha256, "flip": flip}, sort_keys=True
    )
    return hashlib.sha256(identity.encode()).hexdigest()


@dataclass
class LatentCache:
    """Latent distributions stored as safetensors files under ``cache/latents/`` of a workspace."""

    storage: object
    model: str
    enabled: bool = True
    hits: int = 0
    encoded: int = 0

    def _path(self, key: str) -> str:
        return f"{CACHE_FOLDER}/{key[:2]}/{key}.safetensors"

    def load(self, key: str):
        from safetensors.torch import load

        if not self.enabled or not self.storage.exists(self._path(key)):
            return None
        tensors = load(self.storage.read_bytes(self._path(key)))
        self.hits += 1
        return tensors["mean"], tensors["std"]

    def save(self, key: str, mean, std) -> None:
        from safetensors.torch import save

        if self.enabled:
            self.storage.write_bytes(self._path(key), save({"mean": mean.contiguous(), "std": std.contiguous()}))


def encode_distributions(vae, data, cache: LatentCache, device, *, flips: tuple[bool, ...] = (False,)) -> dict:
    """Return ``{(index, flip): (mean, std)}`` for every image and flip, from the cache or the VAE.

    Images that are not cached are encoded in batches of one size and written to the cache.
    """
    import torch

    result: dict[tuple[int, bool], tuple] = {}
    for flip in flips:
        for (width, height), indices in data.buckets.items():
            missing = []
            for index in indices:
                key = latent_cache_key(cache.model, width, height, data.image_sha256[index], flip)
                cached = cache.load(key)
                if cached is None:
                    missing.append(index)
                else:
                    result[(index, flip)] = cached
            for start in range(0, len(missing), ENCODE_BATCH):
                chunk = missing[start : start + ENCODE_BATCH]
                pixels = data.pixels_of(chunk, flips=[flip] * len(chunk)).to(device)
                with torch.no_grad():
                    dist = vae.encode(pixels).latent_dist
                for n, index in enumerate(chunk):
                    mean, std = dist.mean[n].float().cpu(), dist.std[n].float().cpu()
                    result[(index, flip)] = (mean, std)
                    cache.save(latent_cache_key(cache.model, width, height, data.image_sha256[index], flip), mean, std)
                    cache.encoded += 1
    logger.info("latent distributions: %d from the cache, %d encoded", cache.hits, cache.encoded)
    return result
