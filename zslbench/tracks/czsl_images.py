"""The CZSL image track, the paper's own protocol: an ImageNet-pretrained ResNet-18 fine-tuned
end to end on the raw CUB / SUN images with the CZSL attribute head (docs/paper-protocol.md#czsl-images, #czsl-protocol); on the real images these are the numbers comparable with the paper's CZSL table.  Data: the
official archive layouts in the data folder (``zslbench data fetch --dataset cub-images|sun-images``),
else built-in synthetic images.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from zslbench.config import CZSL_IMAGE_PITFALL_OPTIONS, CZSLImageConfig
from zslbench.errors import ConfigError, DataError
from zslbench.tracks.czsl import CZSL_DATASETS, CZSLTrackBase
from zslbench.tracks.info import TrackInfo

TRACK_NOTE = (
    "image track: ResNet-18 (ImageNet-pretrained unless backbone_weights says otherwise) fine-tuned "
    "end to end on raw images, the paper's protocol; comparable with the paper's CZSL table on the "
    "real CUB / SUN images"
)


class CZSLImagesTrack(CZSLTrackBase):
    key = "czsl-images"
    record_track = "images"
    track_note = TRACK_NOTE
    config_cls = CZSLImageConfig
    # quick: 32x32 images, a randomly initialised ResNet-18, 1 epoch per task
    profiles = {"quick": {"epochs_per_task": 1, "synthetic_scale": 0.05, "image_size": 32, "backbone_weights": "none"}}
    applicability_table = "czsl-images"
    info = TrackInfo(
        description="CZSL image track: ResNet-18 fine-tuned on raw images (the paper's protocol)",
        name_option="--methods",
        grid_datasets=CZSL_DATASETS,
        table_kind="czsl",
        # a quick A-GEM run on CUB took about 60 CPU-seconds; a paper-profile sequential+cn run
        # on CUB is projected at about 11 CPU-hours (benchmarks/bench_czsl_images.py)
        seconds={"quick": 70.0, "paper": 40000.0},
    )

    def __init__(self) -> None:
        self._sha_cache: dict[tuple[str, float, int], str] = {}

    def availability(self, dataset, source, data_dir, cfg, named):
        """Runs on the real images where they are in the data folder; on synthetic images only
        when the track is named in --tracks."""
        if named:
            return None
        if source == "synthetic":
            return ""  # left out without a note: synthetic image runs only when asked for by name
        if self.resolve_source(dataset, source, data_dir) != "images":
            return (
                f"CZSL image track on {dataset}: no raw images in the data folder, left out "
                f"(`zslbench data fetch --dataset {dataset}-images`, or --tracks images to run "
                "it on synthetic images)"
            )
        try:
            self.extra_identity(cfg, data_dir)
        except DataError as exc:  # e.g. the ImageNet checkpoint is not in the data folder
            return f"CZSL image track on {dataset} left out: {exc}"
        return None

    def resolve_source(self, dataset, source, data_dir):
        from zslbench.data.images import resolve_image_source

        return resolve_image_source(dataset, image_source(source), data_dir)

    def fingerprint(self, dataset, source, data_dir, cfg):
        from zslbench.data.images import image_fingerprint

        return image_fingerprint(
            dataset,
            source,
            data_dir,
            cfg.image_size,
            synthetic_scale=cfg.synthetic_scale,
            synthetic_seed=cfg.synthetic_seed,
        )

    def data_key(self, cfg) -> tuple:
        return ("images", cfg.image_size, cfg.synthetic_scale, cfg.synthetic_seed)

    def load(self, dataset, source, data_dir, cfg, progress=None):
        from zslbench.data.images import load_image_dataset

        return load_image_dataset(
            dataset,
            image_source(source),
            data_dir,
            image_size=cfg.image_size,
            synthetic_scale=cfg.synthetic_scale,
            synthetic_seed=cfg.synthetic_seed,
            progress=progress,
        )

    def extra_identity(self, cfg, data_dir):
        """The backbone checkpoint's SHA-256 (its content, not only its path, decides the run)."""
        from zslbench.models.resnet import checkpoint_sha256
        from zslbench.train.czsl_images import resolve_backbone_weights

        weights = resolve_backbone_weights(cfg, data_dir)
        if weights is None:
            return {}
        st = os.stat(weights)
        key = (str(weights), st.st_mtime, st.st_size)
        if key not in self._sha_cache:
            self._sha_cache[key] = checkpoint_sha256(Path(weights))
        return {"backbone_sha256": self._sha_cache[key]}

    def train(self, name, classnorm, data, seed, cfg, device, progress, data_dir=None):
        from zslbench.train.czsl_images import resolve_backbone_weights, train_czsl_images

        weights = resolve_backbone_weights(cfg, data_dir)
        return self.run_in_context(
            cfg,
            device,
            lambda: train_czsl_images(
                data, name, cfg, seed, classnorm=bool(classnorm), device=device, progress=progress, weights=weights
            ),
        )

    def image_split_record(self, data, cfg, result, split_json):
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


def image_source(source: str) -> str:
    """``--data`` of the CLI: ``auto`` and ``synthetic`` mean the same on both tracks; the
    image track's real source is ``images`` (``xlsa17`` is refused)."""
    src = str(source).strip().lower()
    if src == "xlsa17":
        raise ConfigError("--data xlsa17: the image track reads raw images (--data images, auto or synthetic)")
    return src
