"""Training options beyond the core loop: each test shows an option's effect on values."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import pytest
import torch

from conftest import write_training_workspace
from demographic2art.errors import InvalidValueError, NonFiniteError
from demographic2art.train import TrainConfig, train_lora
from train_helpers import StopAt


def _with_attributes(workspace):
    table = workspace.storage.read_parquet("captions/captions.parquet")
    table["gender"] = ["male" if i % 2 == 0 else "female" for i in range(len(table))]
    workspace.storage.write_parquet("captions/captions.parquet", table)
    return workspace


@pytest.fixture(scope="module")
def feature_run(tiny_model, tmp_path_factory):
    """Six steps with validation every 2, samples and checkpoints every 3 (keeping 1), random flips."""
    workspace = _with_attributes(write_training_workspace(tmp_path_factory.mktemp("features") / "ws"))
    config = TrainConfig(
        model=str(tiny_model), steps=6, learning_rate=1e-2, run_name="features", validation_steps=2,
        sample_prompts=("a baroque landscape painting",), sample_seeds=(1, 2), sample_steps=3,
        sample_inference_steps=2, checkpointing_steps=3, checkpoints_total_limit=1, random_flip=True,
    )
    return workspace, config, train_lora(workspace, config)


@pytest.mark.slow
def test_validation_loss_every_n_steps(feature_run):
    workspace, _, result = feature_run
    rows = list(csv.DictReader(io.StringIO(workspace.storage.read_text("runs/features/validation.csv"))))
    assert [int(row["step"]) for row in rows] == [2, 4, 6]
    assert float(rows[-1]["loss"]) == pytest.approx(result.validation_loss)
    assert all(math.isfinite(float(row["loss"])) for row in rows)


@pytest.mark.slow
def test_sample_images_per_step_and_seed(feature_run):
    from PIL import Image

    workspace, _, _ = feature_run
    names = workspace.storage.listdir("runs/features/samples")
    assert names == [
        "step-00000003-prompt0-seed1.png",
        "step-00000003-prompt0-seed2.png",
        "step-00000006-prompt0-seed1.png",
        "step-00000006-prompt0-seed2.png",
    ]
    first = Image.open(io.BytesIO(workspace.storage.read_bytes("runs/features/samples/step-00000006-prompt0-seed1.png")))
    second = Image.open(io.BytesIO(workspace.storage.read_bytes("runs/features/samples/step-00000006-prompt0-seed2.png")))
    assert first.size == (64, 64)
    assert first.tobytes() != second.tobytes()


@pytest.mark.slow
def test_checkpoint_limit_keeps_newest(feature_run):
    workspace, _, _ = feature_run
    assert workspace.storage.listdir("runs/features/checkpoints") == ["step-00000006"]
    summary = workspace.storage.read_json("runs/features/summary.json")
    assert summary["checkpoints"] == ["runs/features/checkpoints/step-00000006"]


@pytest.mark.slow
def test_checkpoint_holds_only_lora(feature_run):
    from safetensors.torch import load

    workspace, _, _ = feature_run
    weights = load(workspace.storage.read_bytes("runs/features/checkpoints/step-00000006/lora.safetensors"))
    assert weights
    assert all(".lora_A." in name or ".lora_B." in name for name in weights)
    assert all(name.startswith("unet.") for name in weights)


@pytest.mark.slow
def test_random_flip_caches_both_variants(feature_run):
    workspace, _, _ = feature_run
    data = workspace.storage.read_json("runs/features/summary.json")["data"]
    assert data["images"] == 3
    assert data["latents_encoded"] == 6
    assert data["latents_from_cache"] == 0


@pytest.mark.slow
def test_tensorboard_scalars_match_losses(feature_run):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    workspace, _, result = feature_run
    events = EventAccumulator(workspace.storage.local_path("runs/features/tensorboard"))
    events.Reload()
    train = events.Scalars("train/loss")
    assert [event.step for event in train] == list(range(1, 7))
    assert [event.value for event in train] == pytest.approx(result.losses, rel=1e-6)
    assert [event.step for event in events.Scalars("validation/loss")] == [2, 4, 6]
    assert "samples/step-00000006-prompt0-seed1" in events.Tags()["images"]


@pytest.mark.slow
def test_model_card_lists_settings_and_data(feature_run):
    workspace, config, _ = feature_run
    card = workspace.storage.read_text("runs/features/README.md")
    for name in config.model_dump():
        assert f"| {name} |" in card
    assert "| random_flip | True |" in card
    assert "| gender | male: 2, female: 1 |" in card or "| gender | female: 1, male: 2 |" in card
    assert "![samples/step-00000006-prompt0-seed1.png](samples/step-00000006-prompt0-seed1.png)" in card


@pytest.mark.slow
def test_latents_shared_across_runs(feature_run, tiny_model):
    workspace, _, _ = feature_run
    second = TrainConfig(model=str(tiny_model), steps=1, learning_rate=1e-3, run_name="second", random_flip=True)
    train_lora(workspace, second)
    data = workspace.storage.read_json("runs/second/summary.json")["data"]
    assert data["latents_from_cache"] == 6
    assert data["latents_encoded"] == 0


def test_latent_cache_matches_fresh_encoding(tiny_model, tmp_path):
    from diffusers import AutoencoderKL

    from demographic2art.train.data import load_training_set
    from demographic2art.train.latents import LatentCache, encode_distributions
    from demographic2art.workspace import Workspace
    from transformers import CLIPTokenizer

    workspace = write_training_workspace(tmp_path / "ws")
    vae = AutoencoderKL.from_pretrained(tiny_model, subfolder="vae")
    tokenizer = CLIPTokenizer.from_pretrained(tiny_model, subfolder="tokenizer")
    data = load_training_set(workspace, tokenizer, 64)
    fresh = encode_distributions(vae, data, LatentCache(workspace.storage, "tiny"), "cpu")
    cache = LatentCache(Workspace(tmp_path / "ws").storage, "tiny")
    again = encode_distributions(vae, data, cache, "cpu")
    assert cache.hits == 3
    assert cache.encoded == 0
    for key in fresh:
        assert torch.equal(fresh[key][0], again[key][0])
        assert torch.equal(fresh[key][1], again[key][1])
    other_size = LatentCache(workspace.storage, "tiny")
    encode_distributions(vae, load_training_set(workspace, tokenizer, 128), other_size, "cpu")
    assert other_size.hits == 0


def _resume_config(model, run_name, **values):
    return TrainConfig(
        model=str(model), steps=10, learning_rate=5e-3, run_name=run_name, checkpointing_steps=5,
        lr_scheduler="cosine", lr_warmup_steps=2, lora_dropout=0.1, random_flip=True, batch_size=2, **values,
    )


def _lora_weights(path):
    from safetensors.torch import load_file

    return load_file(path)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_resume_five_plus_five_equals_ten(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    straight = train_lora(workspace, _resume_config(tiny_model, "straight"))
    with pytest.raises(KeyboardInterrupt):
        train_lora(workspace, _resume_config(tiny_model, "resumed"), guard=StopAt(7))
    assert workspace.storage.listdir("runs/resumed/checkpoints") == ["step-00000005"]
    resumed = train_lora(workspace, _resume_config(tiny_model, "resumed", resume_from="latest"))
    assert resumed.losses == pytest.approx(straight.losses, abs=1e-6)
    expected, actual = _lora_weights(straight.lora_file), _lora_weights(resumed.lora_file)
    assert set(actual) == set(expected)
    for name in expected:
        assert (actual[name] - expected[name]).abs().max().item() <= 1e-6, name

    # A checkpoint folder path resumes a run under another name the same way.
    other = train_lora(
        workspace, _resume_config(tiny_model, "from-path", resume_from="runs/straight/checkpoints/step-00000005")
    )
    for name, value in _lora_weights(other.lora_file).items():
        assert (value - expected[name]).abs().max().item() <= 1e-6, name
    summary = workspace.storage.read_json("runs/from-path/summary.json")
    assert summary["resumed_at_step"] == 5


def test_resume_latest_without_checkpoints(tiny_model, tmp_path):
    from demographic2art.errors import MissingFileError

    workspace = write_training_workspace(tmp_path / "ws")
    with pytest.raises(MissingFileError, match="no checkpoints"):
        train_lora(workspace, TrainConfig(model=str(tiny_model), steps=2, run_name="none", resume_from="latest"))


def test_checkpoint_rejects_nonfinite(tmp_path):
    from demographic2art.train.checkpoints import TrainingState, save_checkpoint
    from demographic2art.workspace import Workspace

    workspace = Workspace(tmp_path / "ws").create()
    state = TrainingState(
        step=4, optimizer={"state": {}}, lr_scheduler={}, generator=torch.Generator().get_state(),
        torch_rng=torch.get_rng_state(), cuda_rng=None, pending_batches=[], rows=[], validation_rows=[],
    )
    weights = {"unet.a.lora_A.weight": torch.tensor([1.0, float("nan")])}
    config = TrainConfig(model="m", run_name="bad")
    with pytest.raises(NonFiniteError, match="step 4"):
        save_checkpoint(workspace.storage, "runs/bad", config, state, weights)
    assert not workspace.storage.exists("runs/bad/checkpoints")
    moments = {"state": {0: {"exp_avg": torch.tensor([float("inf")]), "step": torch.tensor(4.0)}}}
    with pytest.raises(NonFiniteError, match="optimizer"):
        save_checkpoint(
            workspace.storage, "runs/bad", config, TrainingState(**{**state.__dict__, "optimizer": moments}),
            {"unet.a.lora_A.weight": torch.ones(2)},
        )


def test_checkpoint_rejects_other_rank(tmp_path):
    from demographic2art.train.checkpoints import TrainingState, load_checkpoint, save_checkpoint
    from demographic2art.workspace import Workspace

    storage = Workspace(tmp_path / "ws").create().storage
    state = TrainingState(
        step=2, optimizer={"state": {}}, lr_scheduler={}, generator=torch.Generator().get_state(),
        torch_rng=torch.get_rng_state(), cuda_rng=None, pending_batches=[[1]], rows=[], validation_rows=[],
    )
    folder = save_checkpoint(storage, "runs/r", TrainConfig(model="m", rank=4), state, {"unet.x": torch.ones(1)})
    weights, loaded = load_checkpoint(storage, folder, TrainConfig(model="m", rank=4))
    assert loaded.pending_batches == [[1]]
    assert torch.equal(weights["unet.x"], torch.ones(1))
    with pytest.raises(InvalidValueError, match="rank=4"):
        load_checkpoint(storage, folder, TrainConfig(model="m", rank=8))


@pytest.mark.slow
def test_gradient_checkpointing_recomputes_forward(tiny_model, tmp_path, monkeypatch):
    from demographic2art.train import loop

    calls = {"count": 0}
    original = loop.load_pipeline_for_training

    def counting(model):
        pipeline = original(model)
        # A block after the first LoRA layer: backward passes through it, so checkpointing recomputes it.
        resnet = pipeline.unet.up_blocks[-1].resnets[-1]
        # A pre-hook, because recomputation may stop before the forward returns.
        resnet.register_forward_pre_hook(lambda *_: calls.__setitem__("count", calls["count"] + 1))
        return pipeline

    monkeypatch.setattr(loop, "load_pipeline_for_training", counting)
    workspace = write_training_workspace(tmp_path / "ws")
    counts, losses = [], []
    for enabled in (False, True):
        calls["count"] = 0
        config = TrainConfig(model=str(tiny_model), steps=2, gradient_checkpointing=enabled, run_name=f"gc-{enabled}")
        losses.append(train_lora(workspace, config).losses)
        counts.append(calls["count"])
    # The block runs once more per training step when its activations are recomputed in backward.
    assert counts[1] - counts[0] == 2
    assert losses[1] == pytest.approx(losses[0], abs=1e-5)


@pytest.mark.slow
def test_aspect_buckets_train_per_size(tiny_model, tmp_path):
    import numpy as np
    from PIL import Image

    from demographic2art.workspace import Workspace

    workspace = Workspace(tmp_path / "ws").create()
    rows = []
    rng = np.random.default_rng(0)
    for i, (width, height) in enumerate([(300, 100), (100, 400), (200, 200), (210, 190)]):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(buffer, format="PNG")
        workspace.storage.write_bytes(f"images/files/{i}.png", buffer.getvalue())
        rows.append({"key": str(i), "file_name": f"{i}.png", "caption": "a painting", "split": "train"})
    workspace.storage.write_parquet("captions/captions.parquet", pd.DataFrame(rows))
    config = TrainConfig(model=str(tiny_model), steps=3, resolution=128, aspect_buckets=True, batch_size=2, run_name="b")
    result = train_lora(workspace, config)
    sizes = workspace.storage.read_json("runs/b/summary.json")["data"]["sizes"]
    assert sizes == {"64x256": 1, "128x128": 2, "192x64": 1}
    assert all(math.isfinite(loss) for loss in result.losses)


@pytest.mark.slow
def test_random_crop_encodes_per_step(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws", size=96)
    centre = train_lora(workspace, TrainConfig(model=str(tiny_model), steps=2, run_name="centre", resolution=64))
    random = train_lora(workspace, TrainConfig(model=str(tiny_model), steps=2, run_name="random", resolution=64, crop="random"))
    data = workspace.storage.read_json("runs/random/summary.json")["data"]
    assert data["latents_encoded"] == 0
    assert data["latents_from_cache"] == 0
    assert random.losses != centre.losses


def test_adam_weight_decay_shrinks_weights():
    from demographic2art.train.loop import _make_optimizer

    for decay, expected in ((0.0, 1.0), (0.5, 1.0 - 0.1 * 0.5)):
        parameter = torch.nn.Parameter(torch.ones(3))
        optimizer = _make_optimizer(TrainConfig(model="m", adam_weight_decay=decay), [{"params": [parameter], "lr": 0.1}])
        parameter.grad = torch.zeros(3)
        optimizer.step()
        assert parameter.detach().tolist() == pytest.approx([expected] * 3)


def test_eight_bit_adam_needs_cuda(tiny_model, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA present: 8-bit Adam is allowed")
    workspace = write_training_workspace(tmp_path / "ws")
    with pytest.raises(InvalidValueError, match="CUDA"):
        train_lora(workspace, TrainConfig(model=str(tiny_model), steps=1, use_8bit_adam=True))


def test_wandb_without_package_is_rejected(tiny_model, tmp_path):
    try:
        import wandb  # noqa: F401

        pytest.skip("wandb installed")
    except ImportError:
        pass
    workspace = write_training_workspace(tmp_path / "ws")
    with pytest.raises(InvalidValueError, match="wandb"):
        train_lora(workspace, TrainConfig(model=str(tiny_model), steps=1, report_to=("wandb",)))


@pytest.mark.gpu
def test_eight_bit_adam_on_gpu(tiny_model, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    pytest.importorskip("bitsandbytes")
    workspace = write_training_workspace(tmp_path / "ws")
    result = train_lora(workspace, TrainConfig(model=str(tiny_model), steps=5, learning_rate=1e-2, use_8bit_adam=True))
    assert all(math.isfinite(loss) for loss in result.losses)
    assert result.losses[-1] != result.losses[0]


@pytest.mark.gpu
def test_bf16_training_on_gpu(tiny_model, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    workspace = write_training_workspace(tmp_path / "ws")
    result = train_lora(
        workspace, TrainConfig(model=str(tiny_model), steps=5, mixed_precision="bf16", gradient_checkpointing=True)
    )
    assert all(math.isfinite(loss) for loss in result.losses)


def test_latent_cache_disabled_writes_nothing(tiny_model, tmp_path):
    from diffusers import AutoencoderKL
    from transformers import CLIPTokenizer

    from demographic2art.train.data import load_training_set
    from demographic2art.train.latents import LatentCache, encode_distributions

    workspace = write_training_workspace(tmp_path / "ws")
    vae = AutoencoderKL.from_pretrained(tiny_model, subfolder="vae")
    data = load_training_set(workspace, CLIPTokenizer.from_pretrained(tiny_model, subfolder="tokenizer"), 64)
    for _ in range(2):
        cache = LatentCache(workspace.storage, "tiny", enabled=False)
        encode_distributions(vae, data, cache, "cpu")
        assert cache.encoded == 3
        assert cache.hits == 0
    assert not workspace.storage.exists("cache/latents")


@pytest.mark.slow
def test_sample_settings_change_images(tiny_model):
    import numpy as np

    from demographic2art.train.loop import load_pipeline_for_training
    from demographic2art.train.samples import render_samples

    pipeline = load_pipeline_for_training(str(tiny_model))
    base = TrainConfig(model="m", sample_prompts=("a baroque painting",), sample_seeds=(3,), sample_inference_steps=2)
    variants = {
        "base": base,
        "steps": base.model_copy(update={"sample_inference_steps": 3}),
        "guidance": base.model_copy(update={"sample_guidance_scale": 1.0}),
        "seed": base.model_copy(update={"sample_seeds": (4,)}),
    }
    images = {
        name: np.asarray(render_samples(pipeline, pipeline.unet, pipeline.text_encoder, config, "cpu")[0][2], dtype=float)
        for name, config in variants.items()
    }
    again = np.asarray(render_samples(pipeline, pipeline.unet, pipeline.text_encoder, base, "cpu")[0][2], dtype=float)
    assert np.array_equal(again, images["base"])
    for name in ("steps", "guidance", "seed"):
        assert np.abs(images[name] - images["base"]).mean() > 0, name


def test_report_to_none_writes_no_events(tiny_model, tmp_path):
    workspace = write_training_workspace(tmp_path / "ws")
    train_lora(workspace, TrainConfig(model=str(tiny_model), steps=1, run_name="quiet", report_to=()))
    assert not workspace.storage.exists("runs/quiet/tensorboard")
    assert workspace.storage.exists("runs/quiet/summary.json")
