"""The CZSL features track: only the attribute head trains, on fixed 2048-d image features.

The paper fine-tuned a ResNet-18 on raw images; these numbers are NOT comparable with the
paper's CZSL table (docs/paper-protocol.md#czsl-protocol, #pitfall-17).  Every record says so.
"""

from __future__ import annotations

from zslbench.config import CZSLConfig
from zslbench.tracks.base import FeatureData
from zslbench.tracks.czsl import CZSL_DATASETS, CZSLTrackBase
from zslbench.tracks.info import TrackInfo

TRACK_NOTE = (
    "features track: fixed 2048-d image features, only the attribute head trains; NOT comparable "
    "with the paper's CZSL table (image track: ResNet-18 fine-tuned on raw images)"
)


class CZSLFeaturesTrack(FeatureData, CZSLTrackBase):
    key = "czsl-features"
    record_track = "features"
    track_note = TRACK_NOTE
    config_cls = CZSLConfig
    profiles = {
        "quick": {
            "epochs_per_task": 1,
            "synthetic_scale": 0.2,
            "head_lr": 0.03,
            "multitask_max_iters_cub": 20,
            "multitask_max_iters_sun": 10,
        }
    }
    applicability_table = "czsl-features"
    info = TrackInfo(
        description="CZSL features track: the attribute head on fixed features (not comparable with the paper)",
        name_option="--methods",
        grid_datasets=CZSL_DATASETS,
        table_kind="czsl",
        # measured on 2 CPU cores: a quick run (the 80-run grid's mean); paper, per dataset: the
        # mean CPU time (user + sys, start-up included) of one run of each method with ClassNorm
        # at one thread, subnormals flushed (docs/reproduce.md#how-long-it-takes)
        seconds={"quick": 5.0, "paper": 60.0},
        dataset_seconds={"paper": {"cub": 30.0, "sun": 73.0}},
    )

    def train(self, name, classnorm, data, seed, cfg, device, progress, data_dir=None):
        from zslbench.train.czsl import train_czsl

        # the head's matmuls are small (batch 32): one thread by default (config `threads`)
        return self.run_in_context(
            cfg,
            device,
            lambda: train_czsl(data, name, cfg, seed, classnorm=bool(classnorm), device=device, progress=progress),
        )
