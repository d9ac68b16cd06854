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
        # measured on a 2-core Intel Xeon, one thread per run, two runs at once, per dataset: paper,
        # the mean train + eval seconds of the 20 runs of `run --all --profile paper --only czsl
        # --tracks features --seeds 1 --data synthetic` (docs/reproduce.md#how-long-it-takes);
        # quick, the main job's mean training time plus 0.2 s
        seconds={"quick": 2.0, "paper": 60.0},
        dataset_seconds={"paper": {"cub": 16.2, "sun": 56.0}, "quick": {"cub": 1.0, "sun": 4.0}},
    )

    def train(self, name, classnorm, data, seed, cfg, device, progress, data_dir=None):
        from zslbench.train.czsl import train_czsl

        # the head's matmuls are small (batch 32): one thread by default (config `threads`)
        return self.run_in_context(
            cfg,
            device,
            lambda: train_czsl(data, name, cfg, seed, classnorm=bool(classnorm), device=device, progress=progress),
        )
