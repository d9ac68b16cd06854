"""One continual-ZSL run on the image track end to end: the paper's own protocol.

An ImageNet-pretrained ResNet-18 is fine-tuned end to end on the raw CUB / SUN images with the
CZSL attribute head (docs/paper-protocol.md#czsl-images, #czsl-protocol); on the real images these are the numbers
comparable with the paper's CZSL table.  Data: the official archive layouts in the data folder
(``zslbench data fetch --dataset cub-images|sun-images``), else built-in synthetic images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from zslbench import store
from zslbench.config import CZSL_IMAGE_PITFALL_OPTIONS, CZSLImageConfig, make_czsl_image_config
from zslbench.czsl_runner import CZSLTrackBase
from zslbench.tracks import RunOutcome, execute_run, planned_run_id, register

TRACK = "images"
TRACK_NOTE = (
    "image track: ResNet-18 (ImageNet-pretrained unless backbone_weights says otherwise) fine-tuned "
    "end to end on raw images, the paper's protocol; comparable with the paper's CZSL table on the "
    "real CUB / SUN images"
)


class CZSLImagesTrack(CZSLTrackBase):
    key = "czsl-images"
    track = TRACK
    table = "czsl-images"
    note = TRACK_NOTE
    config_cls = CZSLImageConfig
    description = "CZSL image track: ResNet-18 fine-tuned on raw images (the paper's protocol)"

    def make_config(self, profile, overrides):
        return make_czsl_image_config(profile, overrides)

    def resolve_source(self, dataset, source, data_dir):
        from zslbench.data.images import resolve_image_source

        return resolve_image_source(dataset, _image_source(source), data_dir)

    def fingerprint(self, dataset, source, data_dir, cfg):
        from zslbench.data.images import image_fingerprint

        return image_fingerprint(dataset, source, data_dir, cfg.image_size,
                                 synthetic_scale=cfg.synthetic_scale, synthetic_seed=cfg.synthetic_seed)

    def data_key(self, cfg) -> tuple:
        return ("images", cfg.image_size, cfg.synthetic_scale, cfg.synthetic_seed)

    def load(self, dataset, source, data_dir, cfg, progress=None):
        from zslbench.data.images import load_image_dataset

        return load_image_dataset(dataset, _image_source(source), data_dir, image_size=cfg.image_size,
                                  synthetic_scale=cfg.synthetic_scale, synthetic_seed=cfg.synthetic_seed,
                                  progress=progress)

    def extra_identity(self, cfg, data_dir):
        """The backbone checkpoint's SHA-256 (its content, not only its path, decides the run)."""
        from zslbench.models.resnet import checkpoint_sha256
        from zslbench.train.czsl_images import resolve_backbone_weights

        weights = resolve_backbone_weights(cfg, data_dir)
        return {} if weights is None else {"backbone_sha256": _cached_sha256(str(weights), checkpoint_sha256)}

    def train(self, name, classnorm, data, seed, cfg, device, progress, data_dir=None):
        from zslbench.train.czsl_images import resolve_backbone_weights, train_czsl_images
        from zslbench.numerics import numeric_context

        weights = resolve_backbone_weights(cfg, data_dir)
        with numeric_context(cfg.threads, device, cfg.cuda_tf32):
            result = train_czsl_images(data, name, cfg, seed, classnorm=bool(classnorm), device=device,
                                       progress=progress, weights=weights)
            env = store.environment(result.device)
        return result, env

    def image_split_record(self, data, cfg, result, split_json):
        import hashlib

        return {
            "file": "image_split.json",
            "source": "the dataset's own split (CUB: train_test_split.txt; SUN: 10/5/5 per class, RandomState(42))",
            "eval_split": result.eval_split,
            "counts": result.image_split.counts(),
            "sha256": hashlib.sha256(split_json.encode()).hexdigest(),
        }

    def record_extras(self, data, cfg, result):
        return {"attr_source": data.attr_source, "image_size": data.image_size, "backbone": result.extras}

    def pitfall_options(self):
        return CZSL_IMAGE_PITFALL_OPTIONS


_SHA_CACHE: dict[tuple[str, float, int], str] = {}


def _cached_sha256(path: str, fn) -> str:
    import os

    st = os.stat(path)
    key = (path, st.st_mtime, st.st_size)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = fn(Path(path))
    return _SHA_CACHE[key]


def _image_source(source: str) -> str:
    """``--data`` of the CLI: ``auto`` and ``synthetic`` mean the same on both tracks; the
    image track's real source is ``images`` (``xlsa17`` is refused)."""
    src = str(source).strip().lower()
    if src == "xlsa17":
        from zslbench.errors import ConfigError

        raise ConfigError("--data xlsa17: the image track reads raw images (--data images, auto or synthetic)")
    return src


IMAGES_TRACK = register(CZSLImagesTrack())


def czsl_image_run_id(
    method: str, dataset: str, seed: int = 1, classnorm: bool = True, profile: str = "paper",
    source: str = "auto", data_dir: Path | None = None, overrides: Mapping[str, Any] | None = None,
) -> str:
    """The run id that run_czsl_images(...) with these arguments will use, without loading data."""
    return planned_run_id(IMAGES_TRACK, method, dataset, seed, classnorm, profile, source, data_dir, overrides)


def run_czsl_images(
    method: str,
    dataset: str,
    seed: int = 1,
    classnorm: bool = True,
    profile: str = "paper",
    source: str = "auto",
    data_dir: Path | None = None,
    device: str = "cpu",
    results: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    progress: bool | None = None,
    data=None,
) -> RunOutcome:
    """Train CZSL `method` (± ClassNorm) on the image track and write its record, unless done."""
    return execute_run(IMAGES_TRACK, method, dataset, seed, classnorm, profile, source, data_dir, device,
                       results, overrides, force, progress, data)
