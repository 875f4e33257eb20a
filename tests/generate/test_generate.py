"""Generation: parameters, PNG metadata, sidecars, batches and the gallery."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from pydantic import ValidationError

from demographic2art.generate import GenerationParams, Generator, a1111_parameters, read_png_parameters
from demographic2art.generate.gallery import generate_gallery
from demographic2art.workspace import Workspace


@pytest.fixture(scope="module")
def generator(tiny_model):
    return Generator(str(tiny_model))


def test_params_reject_out_of_range():
    with pytest.raises(ValidationError):
        GenerationParams(prompt="x", steps=0)
    with pytest.raises(ValidationError):
        GenerationParams(prompt="x", width=65)
    with pytest.raises(ValidationError):
        GenerationParams(prompt="   ")
    with pytest.raises(ValidationError):
        GenerationParams(prompt="x", scheduler="nope")


def test_a1111_parameters_layout():
    params = GenerationParams(prompt="a harbour", negative_prompt="blurry", seed=42, steps=20, guidance_scale=7.0)
    text = a1111_parameters(params, width=64, height=64, model="tiny", lora="demo")
    assert text == (
        "a harbour\nNegative prompt: blurry\n"
        "Steps: 20, Sampler: DDIM, CFG scale: 7, Seed: 42, Size: 64x64, Model: tiny, Lora: demo, Lora weight: 1"
    )


def test_same_seed_same_image_any_batch(generator):
    params = GenerationParams(prompt="a landscape painting", seed=11, steps=4, batch_size=3)
    batch = generator.generate(params, output_type="np")
    alone = generator.generate(params.for_image(2), output_type="np")[0]
    assert np.abs(batch[2] - alone).max() * 255 <= 2
    assert np.abs(batch[0] - batch[1]).max() > 0


def test_gallery_png_carries_parameters(generator, tmp_path):
    workspace = Workspace(tmp_path / "ws").create()
    items = generate_gallery(workspace, ["a portrait painting"], model="tiny", seeds=[5], steps=3, generator=generator)
    assert len(items) == 1
    png = workspace.storage.read_bytes(items[0].file)
    text = read_png_parameters(png)
    assert text.startswith("a portrait painting\nSteps: 3, Sampler: DDIM")
    assert "Seed: 5" in text
    sidecar = json.loads(workspace.storage.read_text(items[0].file.replace(".png", ".json")))
    assert sidecar["parameters"]["seed"] == 5
    assert sidecar["parameters"]["prompt"] == "a portrait painting"


def test_equal_requests_give_identical_files(generator, tmp_path):
    first = Workspace(tmp_path / "a").create()
    second = Workspace(tmp_path / "b").create()
    one = generate_gallery(first, ["a still life"], model="tiny", seeds=[1], steps=3, generator=generator)
    two = generate_gallery(second, ["a still life"], model="tiny", seeds=[1], steps=3, generator=generator)
    digest = [hashlib.sha256(ws.storage.read_bytes(item.file)).hexdigest() for ws, item in ((first, one[0]), (second, two[0]))]
    assert digest[0] == digest[1]
    assert one[0].file == two[0].file


def test_lora_weight_without_lora_rejected(generator):
    from demographic2art.errors import InvalidValueError

    with pytest.raises(InvalidValueError, match="no LoRA is loaded"):
        generator.generate(GenerationParams(prompt="x", steps=1, lora_weight=0.5))


def test_cancel_between_steps(generator):
    import threading

    from demographic2art.generate import GenerationCancelled

    cancel = threading.Event()
    seen = []

    def progress(step, total):
        seen.append(step)
        if step == 2:
            cancel.set()

    with pytest.raises(GenerationCancelled):
        generator.generate(GenerationParams(prompt="x", steps=10), progress=progress, cancel=cancel)
    assert seen[:2] == [1, 2]
    assert len(seen) < 10
