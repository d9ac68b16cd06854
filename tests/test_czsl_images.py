"""CZSL image track: the in-package ResNet-18, preprocessing, the trainer over all parameters
(backbone included), records and determinism.  Runs use tiny in-memory images (tests/_image_data)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from _image_data import make_image_data

from support import zsl_in_process as _cli
from zslbench.config import CZSLConfig, CZSLImageConfig
from zslbench.errors import ConfigError, DataError
from zslbench.models.resnet import ResNet18, build_backbone, load_checkpoint
from zslbench.tracks import execute_run, get_track, make_config, planned_run_id

# torchvision's resnet18 state dict (resnet18-f37072fd.pth): name and shape of every entry,
# in order ("-": a scalar, num_batches_tracked).
TORCHVISION_RESNET18 = """
    conv1.weight 64,3,7,7
    bn1.weight 64
    bn1.bias 64
    bn1.running_mean 64
    bn1.running_var 64
    bn1.num_batches_tracked -
    layer1.0.conv1.weight 64,64,3,3
    layer1.0.bn1.weight 64
    layer1.0.bn1.bias 64
    layer1.0.bn1.running_mean 64
    layer1.0.bn1.running_var 64
    layer1.0.bn1.num_batches_tracked -
    layer1.0.conv2.weight 64,64,3,3
    layer1.0.bn2.weight 64
    layer1.0.bn2.bias 64
    layer1.0.bn2.running_mean 64
    layer1.0.bn2.running_var 64
    layer1.0.bn2.num_batches_tracked -
    layer1.1.conv1.weight 64,64,3,3
    layer1.1.bn1.weight 64
    layer1.1.bn1.bias 64
    layer1.1.bn1.running_mean 64
    layer1.1.bn1.running_var 64
    layer1.1.bn1.num_batches_tracked -
    layer1.1.conv2.weight 64,64,3,3
    layer1.1.bn2.weight 64
    layer1.1.bn2.bias 64
    layer1.1.bn2.running_mean 64
    layer1.1.bn2.running_var 64
    layer1.1.bn2.num_batches_tracked -
    layer2.0.conv1.weight 128,64,3,3
    layer2.0.bn1.weight 128
    layer2.0.bn1.bias 128
    layer2.0.bn1.running_mean 128
    layer2.0.bn1.running_var 128
    layer2.0.bn1.num_batches_tracked -
    layer2.0.conv2.weight 128,128,3,3
    layer2.0.bn2.weight 128
    layer2.0.bn2.bias 128
    layer2.0.bn2.running_mean 128
    layer2.0.bn2.running_var 128
    layer2.0.bn2.num_batches_tracked -
    layer2.0.downsample.0.weight 128,64,1,1
    layer2.0.downsample.1.weight 128
    layer2.0.downsample.1.bias 128
    layer2.0.downsample.1.running_mean 128
    layer2.0.downsample.1.running_var 128
    layer2.0.downsample.1.num_batches_tracked -
    layer2.1.conv1.weight 128,128,3,3
    layer2.1.bn1.weight 128
    layer2.1.bn1.bias 128
    layer2.1.bn1.running_mean 128
    layer2.1.bn1.running_var 128
    layer2.1.bn1.num_batches_tracked -
    layer2.1.conv2.weight 128,128,3,3
    layer2.1.bn2.weight 128
    layer2.1.bn2.bias 128
    layer2.1.bn2.running_mean 128
    layer2.1.bn2.running_var 128
    layer2.1.bn2.num_batches_tracked -
    layer3.0.conv1.weight 256,128,3,3
    layer3.0.bn1.weight 256
    layer3.0.bn1.bias 256
    layer3.0.bn1.running_mean 256
    layer3.0.bn1.running_var 256
    layer3.0.bn1.num_batches_tracked -
    layer3.0.conv2.weight 256,256,3,3
    layer3.0.bn2.weight 256
    layer3.0.bn2.bias 256
    layer3.0.bn2.running_mean 256
    layer3.0.bn2.running_var 256
    layer3.0.bn2.num_batches_tracked -
    layer3.0.downsample.0.weight 256,128,1,1
    layer3.0.downsample.1.weight 256
    layer3.0.downsample.1.bias 256
    layer3.0.downsample.1.running_mean 256
    layer3.0.downsample.1.running_var 256
    layer3.0.downsample.1.num_batches_tracked -
    layer3.1.conv1.weight 256,256,3,3
    layer3.1.bn1.weight 256
    layer3.1.bn1.bias 256
    layer3.1.bn1.running_mean 256
    layer3.1.bn1.running_var 256
    layer3.1.bn1.num_batches_tracked -
    layer3.1.conv2.weight 256,256,3,3
    layer3.1.bn2.weight 256
    layer3.1.bn2.bias 256
    layer3.1.bn2.running_mean 256
    layer3.1.bn2.running_var 256
    layer3.1.bn2.num_batches_tracked -
    layer4.0.conv1.weight 512,256,3,3
    layer4.0.bn1.weight 512
    layer4.0.bn1.bias 512
    layer4.0.bn1.running_mean 512
    layer4.0.bn1.running_var 512
    layer4.0.bn1.num_batches_tracked -
    layer4.0.conv2.weight 512,512,3,3
    layer4.0.bn2.weight 512
    layer4.0.bn2.bias 512
    layer4.0.bn2.running_mean 512
    layer4.0.bn2.running_var 512
    layer4.0.bn2.num_batches_tracked -
    layer4.0.downsample.0.weight 512,256,1,1
    layer4.0.downsample.1.weight 512
    layer4.0.downsample.1.bias 512
    layer4.0.downsample.1.running_mean 512
    layer4.0.downsample.1.running_var 512
    layer4.0.downsample.1.num_batches_tracked -
    layer4.1.conv1.weight 512,512,3,3
    layer4.1.bn1.weight 512
    layer4.1.bn1.bias 512
    layer4.1.bn1.running_mean 512
    layer4.1.bn1.running_var 512
    layer4.1.bn1.num_batches_tracked -
    layer4.1.conv2.weight 512,512,3,3
    layer4.1.bn2.weight 512
    layer4.1.bn2.bias 512
    layer4.1.bn2.running_mean 512
    layer4.1.bn2.running_var 512
    layer4.1.bn2.num_batches_tracked -
    fc.weight 1000,512
    fc.bias 1000
"""

METHODS = ["sequential", "multitask", "ewc-online", "mas-online", "agem"]
TINY = {
    "tasks_cub": 4,
    "tasks_sun": 4,
    "epochs_per_task": 1,
    "batch_size": 8,
    "inference_batch_size": 16,
    "hidden_dim": 16,
    "image_size": 32,
    "backbone_weights": "none",
    "multitask_max_iters_cub": 3,
    "agem_ref_batch": 6,
    "agem_mem_per_class_cub": 1,
}


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _expected_entries() -> list[tuple[str, tuple[int, ...]]]:
    rows = []
    for line in TORCHVISION_RESNET18.strip().splitlines():
        name, shape = line.split()
        rows.append((name, () if shape == "-" else tuple(int(v) for v in shape.split(","))))
    return rows


# ---------------------------------------------------------------------------- ResNet-18
def test_resnet18_has_torchvision_names_and_shapes():
    expected = _expected_entries()
    assert len(expected) == 122
    got = [(k, tuple(v.shape)) for k, v in ResNet18().state_dict().items()]
    assert got == expected
    assert sum(p.numel() for p in ResNet18().parameters()) == 11_689_512  # torchvision's count


def test_a_torchvision_format_checkpoint_round_trips(tmp_path):
    torch.manual_seed(0)
    src = ResNet18()
    with torch.no_grad():  # non-trivial BatchNorm statistics, as in a trained checkpoint
        for name, buf in src.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_()
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 2.0)
            elif name.endswith("num_batches_tracked"):
                buf.fill_(7)
    path = tmp_path / "resnet18-test.pth"
    torch.save(src.state_dict(), path)
    dst = ResNet18()
    load_checkpoint(dst, path)
    for (ka, a), (kb, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        assert ka == kb and torch.equal(a, b)
    x = torch.rand(2, 3, 64, 64)
    src.eval(), dst.eval()
    torch.testing.assert_close(dst(x), src(x), rtol=0, atol=0)
    # the embedder: the 512-d pooled output, no fc among its parameters
    emb = build_backbone(path)
    emb.eval()
    assert emb(x).shape == (2, 512)
    torch.testing.assert_close(emb(x), src.features(x), rtol=0, atol=0)
    assert not any(k.startswith("resnet.fc") for k in emb.state_dict())
    assert len(list(emb.parameters())) == len(list(src.parameters())) - 2


def test_a_foreign_or_broken_checkpoint_is_one_clear_error(tmp_path):
    bad = tmp_path / "other.pth"
    state = ResNet18().state_dict()
    state.pop("layer4.1.bn2.running_var")
    torch.save(state, bad)
    with pytest.raises(DataError, match="other.pth") as exc:
        load_checkpoint(ResNet18(), bad)
    assert "\n" not in str(exc.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="junk.pth"):
        load_checkpoint(ResNet18(), junk)


# ---------------------------------------------------------------------------- preprocessing, config
def test_preprocessing_normalises_in_channels_last_and_bgr_is_the_code_s_order():
    from zslbench.train.czsl_images import ImagePreprocess

    rows = torch.randint(0, 256, (2, 5, 5, 3), dtype=torch.uint8)
    x = ImagePreprocess(torch.device("cpu"))(rows)
    assert x.shape == (2, 3, 5, 5) and x.dtype == torch.float32
    assert x.is_contiguous(memory_format=torch.channels_last)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    expected = (rows.permute(0, 3, 1, 2).float() / 255 - mean) / std
    torch.testing.assert_close(x, expected, rtol=1e-5, atol=1e-5)
    # bgr_code: the training copy of the images has its channels reversed (cv2 order)
    data = make_image_data(n_classes=4, per_class=2, size=8)
    from zslbench.train.czsl import prepare_czsl
    from zslbench.train.czsl_images import image_inputs, image_split_of

    for order, flip in (("bgr_code", True), ("rgb", False)):
        cfg = CZSLImageConfig(tasks_cub=2, image_channel_order=order, image_size=8)
        setup = prepare_czsl(data, cfg, 1, image_split_of(data))
        inputs = image_inputs(cfg, None)(data, setup, cfg, torch.device("cpu"))
        want = data.images[setup.images.train]
        want = want[..., ::-1] if flip else want
        assert np.array_equal(inputs.train_x.numpy(), want)
        assert inputs.feature_dim == 512


def test_image_config_defaults_and_the_features_config_is_unchanged():
    cfg = CZSLImageConfig()
    assert (cfg.image_size, cfg.backbone_weights, cfg.image_channel_order, cfg.amp) == (
        256,
        "imagenet",
        "bgr_code",
        "off",
    )
    assert (cfg.attr_param_group, cfg.sun_eval_split) == ("head", "val")
    assert (cfg.head_lr, cfg.head_momentum, cfg.embedder_lr, cfg.embedder_momentum) == (1e-3, 0.9, 5e-3, 0.0)
    # the image-track fields are not in the features config, so features-track ids do not move
    assert not {"image_size", "backbone_weights", "image_channel_order", "amp"} & set(CZSLConfig().to_dict())
    assert "split_cub" not in cfg.to_dict() and "image_size" in cfg.to_dict()
    quick = make_config("czsl-images", "quick")
    assert (quick.image_size, quick.epochs_per_task, quick.backbone_weights) == (32, 1, "none")
    with pytest.raises(ConfigError, match="amp"):
        CZSLImageConfig(amp="fp16")
    with pytest.raises(ConfigError, match="split_cub"):
        CZSLImageConfig(split_cub="1/1/1")


def test_optimizer_groups_backbone_embedder_and_head():
    from zslbench.train.czsl import _optimizer

    state, _ = _image_state("sequential", make_image_data(size=32), CZSLImageConfig(**{**TINY, "tasks_cub": 4}))
    optim = _optimizer(state, state.cfg)
    (emb, head) = optim.param_groups
    assert (emb["lr"], emb["momentum"], head["lr"], head["momentum"]) == (5e-3, 0.0, 1e-3, 0.9)
    assert {id(p) for p in emb["params"]} == {id(p) for p in state.encoder.parameters()}
    assert {id(p) for p in head["params"]} == {id(p) for p in state.model.parameters()}


# ---------------------------------------------------------------------------- trainer
def _image_state(method_name: str, data, cfg):
    from zslbench.train.czsl import CZSL_METHODS, _make_state, build_czsl_head, prepare_czsl
    from zslbench.train.czsl_images import image_inputs, image_split_of

    torch.manual_seed(1)
    dev = torch.device("cpu")
    setup = prepare_czsl(data, cfg, 1, image_split_of(data))
    inputs = image_inputs(cfg, None)(data, setup, cfg, dev)
    head = build_czsl_head(data.attr_dim, inputs.feature_dim, cfg, True)
    state = _make_state(data, setup, cfg, head, dev, 1, inputs)
    return state, CZSL_METHODS.get(method_name)(cfg, setup.settings)


@pytest.mark.parametrize("name", ["ewc-online", "mas-online"])
def test_ewc_and_mas_importances_cover_the_backbone(name):
    from zslbench.train.czsl import train_task

    state, method = _image_state(name, make_image_data(size=32), CZSLImageConfig(**TINY))
    train_task(state, method, 0)
    train_task(state, method, 1)  # importances are taken when task 2 starts
    params = state.params()
    n_backbone = len(list(state.encoder.parameters()))
    assert n_backbone == 60 and len(method.omega) == len(params) == n_backbone + len(list(state.model.parameters()))
    named = dict(zip([f"encoder.{k}" for k, _ in state.encoder.named_parameters()], method.omega[:n_backbone]))
    for key in ("encoder.resnet.conv1.weight", "encoder.resnet.layer4.1.conv2.weight", "encoder.resnet.bn1.weight"):
        assert named[key].abs().sum() > 0, key
    nonzero = sum(bool(o.abs().sum() > 0) for o in method.omega[:n_backbone])
    assert nonzero >= n_backbone - 2  # every backbone tensor gets some importance
    # the penalty's gradient reaches the backbone
    for p in params:
        p.grad = None
    method.after_backward(state)
    moved = [p for p in state.encoder.parameters()]
    assert all(p.grad is not None for p in moved)


def test_agem_projects_the_flat_gradient_of_all_parameters(monkeypatch):
    import zslbench.train.methods.agem as agem_module
    from zslbench.train.czsl import train_task

    state, method = _image_state("agem", make_image_data(size=32), CZSLImageConfig(**TINY))
    train_task(state, method, 0)
    assert method.memory_x is None  # the encoder trains: memory images go through it each step
    seen = []
    original = agem_module.agem_project_

    def spy(grads, refs):
        before = torch.cat([g.reshape(-1) for g in grads]).clone()
        flat_ref = torch.cat([r.reshape(-1) for r in refs]).clone()
        out = original(grads, refs)
        seen.append((before, flat_ref, torch.cat([g.reshape(-1) for g in grads]).clone(), out))
        return out

    monkeypatch.setattr(agem_module, "agem_project_", spy)
    train_task(state, method, 1)
    n_all = sum(p.numel() for p in state.params())
    n_backbone = sum(p.numel() for p in state.encoder.parameters())
    assert seen and n_backbone > 11_000_000
    for before, ref, after, projected in seen:
        assert before.numel() == ref.numel() == n_all
        assert ref[:n_backbone].abs().sum() > 0  # the reference gradient covers the backbone
        expected = agem_module.agem_project(before, ref)
        torch.testing.assert_close(after, expected, rtol=1e-4, atol=1e-7)
        if projected:
            assert abs(float(torch.dot(after, ref))) <= 1e-3 * float(ref.norm() * before.norm())
    assert method.n_steps == len(seen)


def _run(tmp_path, method, classnorm=True, data=None, **over):

    data = data or make_image_data(size=32)
    return execute_run(
        get_track("czsl-images"),
        method,
        data.name,
        seed=1,
        classnorm=classnorm,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides={**TINY, **over},
        progress=False,
        data=data,
    )


@pytest.mark.slow
@pytest.mark.parametrize("classnorm", [True, False], ids=["cn", "no-cn"])
@pytest.mark.parametrize("method", METHODS)
def test_every_method_writes_an_image_track_record(method, classnorm, tmp_path):
    out = _run(tmp_path, method, classnorm)
    rec = json.loads((out.path / "record.json").read_text())
    assert (rec["kind"], rec["track"], rec["method"], rec["classnorm"]) == ("czsl", "images", method, classnorm)
    assert "image track" in rec["track_note"] and rec["data_source"] == "synthetic"
    for key in ("mAUC", "mH", "mJA", "forgetting"):
        assert math.isfinite(rec["metrics"][key]), key
    assert 0 <= rec["metrics"]["mJA"] <= 100 and -1 <= rec["metrics"]["forgetting"] <= 1
    # the fields that act on this run (zslbench.applicability), with the values given
    from zslbench.applicability import active_config, czsl_traits

    traits = czsl_traits(method, classnorm, "cub", "synthetic")
    assert rec["config"] == active_config("czsl-images", traits, make_config("czsl-images", "quick", TINY))
    assert "image_size" in rec["config"] and "split_cub" not in rec["config"]
    assert rec["backbone"]["backbone"] == "resnet18" and rec["image_size"] == 32
    assert rec["n_parameters"] > 11_000_000  # the backbone trains
    assert rec["image_split"]["counts"] == {"train": 24, "val": 0, "test": 24}
    assert len(rec["task_seconds"]) == 4 and (out.path / "steps.csv").is_file()
    again = _run(tmp_path, method, classnorm)
    assert again.skipped and again.run_id == out.run_id


@pytest.mark.slow
def test_same_seed_same_metrics_and_the_backbone_weights(tmp_path):
    a = _run(tmp_path / "a", "ewc-online")
    b = _run(tmp_path / "b", "ewc-online")
    assert a.run_id == b.run_id and a.record["metrics"] == b.record["metrics"]
    assert (a.path / "steps.csv").read_text() == (b.path / "steps.csv").read_text()
    c = _run(tmp_path / "a", "ewc-online", image_channel_order="rgb")
    assert c.run_id != a.run_id
    # the quick profile's size and weights are not the paper's: every record says so
    assert c.record["non_default_options"] == {
        "image_channel_order": "rgb",
        "image_size": 32,
        "backbone_weights": "none",
    }


def test_sun_is_evaluated_on_val_and_a_checkpoint_path_is_recorded(tmp_path):
    path = tmp_path / "weights.pth"
    torch.manual_seed(3)
    torch.save(ResNet18().state_dict(), path)
    data = make_image_data("sun", per_class=8)
    out = _run(tmp_path / "r", "sequential", data=data, backbone_weights=str(path))
    rec = out.record
    assert rec["image_split"]["eval_split"] == "val" and rec["image_split"]["counts"]["val"] == 16
    assert rec["backbone"]["backbone_checkpoint"]["file"] == "weights.pth"
    assert len(rec["backbone_sha256"]) == 64
    with pytest.raises(DataError, match="nowhere.pth"):
        _run(tmp_path / "r", "sequential", data=data, backbone_weights=str(tmp_path / "nowhere.pth"))


@pytest.mark.slow
def test_bf16_autocast_runs_and_is_recorded(tmp_path):
    out = _run(tmp_path, "sequential", amp="bf16")
    assert out.record["non_default_options"]["amp"] == "bf16"
    assert all(math.isfinite(v) for v in out.record["metrics"].values())


# ---------------------------------------------------------------------------- CLI, sweep, table
@pytest.mark.slow
def test_cli_image_run_on_synthetic_images_and_its_table_section(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZSLBENCH_DATA", str(tmp_path / "empty-data"))
    args = [
        "run",
        "--czsl",
        "--track",
        "images",
        "--method",
        "agem",
        "--cn",
        "--dataset",
        "cub",
        "--profile",
        "quick",
        "--results",
        str(tmp_path / "res"),
        "--set",
        "synthetic_scale=0.01",
        "--set",
        "image_size=16",
        "--set",
        "tasks_cub=2",
        "--set",
        "agem_ref_batch=8",
    ]
    code, out, err = _cli(capsys, *args)
    assert code == 0, err
    assert "images track" in out and "mAUC=" in out and "SYNTHETIC" in out
    assert "SYNTHETIC images" in err and err.count("\n") == 1
    (run,) = (tmp_path / "res" / "runs").iterdir()
    rec = json.loads((run / "record.json").read_text())
    assert (rec["track"], rec["data_source"], rec["config"]["image_size"]) == ("images", "synthetic", 16)
    assert all(math.isfinite(rec["metrics"][k]) for k in ("mAUC", "mH", "mJA", "forgetting"))
    # run --from-record reproduces it exactly
    code, out, err = _cli(capsys, "run", "--from-record", str(run / "record.json"))
    assert code == 0 and "match the record exactly" in out, out + err
    # the table gives the image track its own section, labelled synthetic
    from zslbench.report.paper_tables import build_table

    table = build_table("czsl", tmp_path / "res")
    (section,) = table.sections
    assert section.track == "images" and "image track" in section.title and "SYNTHETIC" in section.title
    assert any("Image track" in n for n in section.notes)


def test_cli_image_track_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZSLBENCH_DATA", str(tmp_path / "empty-data"))
    base = ["run", "--czsl", "--track", "images", "--method", "agem", "--dataset", "cub", "--results", str(tmp_path)]
    code, _, err = _cli(capsys, *base)  # the paper profile wants the ImageNet checkpoint
    assert code == 2 and err.count("\n") == 1 and "resnet18-imagenet" in err
    code, _, err = _cli(capsys, *base, "--data", "xlsa17")
    assert code == 2 and err.count("\n") == 1 and "--data" in err
    code, _, err = _cli(capsys, *base, "--set", "amp=fp16")
    assert code == 2 and "amp" in err
    code, _, err = _cli(capsys, "run", "--track", "images", "--method", "agem", "--dataset", "cub")
    assert code == 2 and "--czsl" in err
    assert not (tmp_path / "runs").exists()


def test_sweep_plans_image_runs_only_when_asked_or_with_real_images(tmp_path):
    from zslbench.sweep import plan_sweep

    common = dict(results=tmp_path / "res", only="czsl", methods=["agem"], datasets=["cub"], seeds=[1])
    default = plan_sweep("quick", source="synthetic", **common)
    assert {j.track for j in default.jobs} == {"features"}  # no synthetic image-track runs by default
    both = plan_sweep("quick", source="synthetic", tracks=["features", "images"], **common)
    images = [j for j in both.jobs if j.track == "images"]
    assert len(images) == 2 and {j.classnorm for j in images} == {False, True}
    assert len({j.run_id for j in both.jobs}) == 4 and images[0].label.startswith("czsl/images agem")
    auto = plan_sweep("quick", source="auto", data_dir=tmp_path / "no-data", **common)
    assert {j.track for j in auto.jobs} == {"features"} and any("image track on cub" in n for n in auto.notes)

    assert images[0].run_id == planned_run_id(
        get_track("czsl-images"), "agem", "cub", 1, images[0].classnorm, "quick", "synthetic"
    )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*official")  # a small CUB: fewer images than the official counts
def test_cli_image_run_on_a_cub_folder_in_the_official_layout(tmp_path, capsys):
    from zslbench.data.images.synthetic_files import write_cub_layout

    data_dir = tmp_path / "data"
    write_cub_layout(data_dir, classes=20, per_class=4, image_size=40)
    code, out, err = _cli(
        capsys,
        "run",
        "--czsl",
        "--track",
        "images",
        "--method",
        "agem",
        "--cn",
        "--dataset",
        "cub",
        "--data-dir",
        str(data_dir),
        "--profile",
        "quick",
        "--set",
        "backbone_weights=none",
        "--set",
        "tasks_cub=2",
        "--results",
        str(tmp_path / "res"),
    )
    assert code == 0, err
    assert "SYNTHETIC" not in out + err and "[images, images track]" in out
    (run,) = (tmp_path / "res" / "runs").iterdir()
    rec = json.loads((run / "record.json").read_text())
    assert (rec["track"], rec["data_source"], rec["image_size"]) == ("images", "images", 32)
    assert rec["image_split"]["counts"] == {"train": 40, "val": 0, "test": 40}
    assert all(math.isfinite(rec["metrics"][k]) for k in ("mAUC", "mH", "mJA", "forgetting"))
    from zslbench.report.paper_tables import build_table

    (section,) = build_table("czsl", tmp_path / "res").sections
    assert section.source == "images" and "comparable with the paper" in section.title


@pytest.mark.filterwarnings("ignore:.*official")
def test_sweep_includes_image_runs_where_the_real_images_are(tmp_path):
    from zslbench.data.images.synthetic_files import write_cub_layout
    from zslbench.sweep import plan_sweep

    data_dir = tmp_path / "data"
    write_cub_layout(data_dir, classes=20, per_class=2, image_size=16)
    common = dict(
        results=tmp_path / "res",
        only="czsl",
        methods=["agem"],
        datasets=["cub"],
        seeds=[1],
        source="auto",
        data_dir=data_dir,
    )
    quick = plan_sweep("quick", **common)  # quick: backbone_weights=none
    assert [j.track for j in quick.jobs].count("images") == 2
    # the paper profile needs the ImageNet checkpoint: without it the image runs are left out, said in a note
    paper = plan_sweep("paper", **common)
    assert {j.track for j in paper.jobs} == {"features"}
    assert any("left out" in n and "resnet18" in n for n in paper.notes)
    with pytest.raises(DataError, match="resnet18"):
        plan_sweep("paper", tracks=["images"], **common)
