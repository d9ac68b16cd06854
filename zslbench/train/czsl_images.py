"""Continual ZSL on the image track: a ResNet-18 fine-tuned end to end on raw images with the
CZSL attribute head (docs/paper-protocol.md#czsl-images, #czsl-protocol, #czsl-methods).

The training loop, the methods and the metrics are those of :mod:`zslbench.train.czsl`; this
module only says how images reach the model (:func:`image_inputs`):

* the images are the decoded-image cache (uint8 [N, S, S, 3], already resized to S x S, no
  crop, no augmentation); a batch is gathered from it by index (one ``index_select``, no
  per-image Python work), then ``/255`` and the ImageNet mean/std in one fused multiply-add
  per channel, in ``channels_last`` layout (the NHWC cache permuted to NCHW is channels_last
  already, so no copy);
* ``image_channel_order="bgr_code"`` (default) reproduces the authors' code, which reads BGR
  pixels with cv2 and normalises them with the RGB statistics: the channels are reversed
  once, when the cache is copied for training; ``"rgb"`` keeps them;
* on CUDA the uint8 training images are copied to the GPU once when they fit (else each batch
  goes through pinned memory with a non-blocking copy); evaluation batches use pinned memory
  and non-blocking copies;
* ``amp="bf16"``: the backbone's forward runs under bfloat16 autocast (the head stays float32).

BatchNorm of the backbone follows the authors' code: the whole model is in train mode while
training (batch statistics, running statistics updated with momentum 0.1, also by A-GEM's
reference pass), in eval mode for the evaluation snapshots and the EWC/MAS importances.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from zslbench.config import CZSLImageConfig
from zslbench.data.images.types import ImageData
from zslbench.devices import NO_COPY, PIN_AND_COPY, transfer
from zslbench.models.resnet import IMAGENET_MEAN, IMAGENET_STD, build_backbone, checkpoint_sha256
from zslbench.train.czsl import CZSLInputs, CZSLResult, CZSLSetup, train_czsl
from zslbench.train.czsl_splits import ImageSplit

__all__ = ["ImagePreprocess", "image_inputs", "image_split_of", "train_czsl_images"]


class ImagePreprocess:
    """uint8 [B, S, S, 3] rows (any device) -> normalised float [B, 3, S, S] (channels_last) on
    ``device``: ``(x / 255 - mean) / std`` as ``x * scale - shift`` per channel."""

    def __init__(self, device: torch.device) -> None:
        self.device = device  # canonical (with its index: a tensor on it reports this device)
        mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32)
        std = torch.tensor(IMAGENET_STD, dtype=torch.float32)
        self.scale = (1.0 / (255.0 * std)).view(1, 3, 1, 1).to(device)
        self.shift = (mean / std).view(1, 3, 1, 1).to(device)

    def __call__(self, rows: torch.Tensor) -> torch.Tensor:
        how = transfer(rows.device, self.device)
        if how == PIN_AND_COPY and not rows.is_pinned():
            rows = rows.pin_memory()
        if how != NO_COPY:
            rows = rows.to(self.device, non_blocking=True)
        x = rows.permute(0, 3, 1, 2).float()  # NHWC storage = NCHW in channels_last
        return x.mul_(self.scale).sub_(self.shift)


def image_split_of(data: ImageData) -> ImageSplit:
    """The dataset's own split (CUB: train_test_split.txt; SUN: 10/5/5 with RandomState(42))."""
    parts = [np.sort(np.asarray(data.splits.get(k, []), dtype=np.int64)) for k in ("train", "val", "test")]
    return ImageSplit(*parts)


def resolve_backbone_weights(cfg: CZSLImageConfig, data_dir: Path | None) -> Path | None:
    """The checkpoint ``backbone_weights`` names: None for "none", the data folder's
    torchvision checkpoint for "imagenet" (DataError saying how to get it when missing)."""
    value = str(cfg.backbone_weights).strip()
    if value.lower() == "none":
        return None
    if value.lower() == "imagenet":
        from zslbench.data.images import backbone_checkpoint

        return Path(backbone_checkpoint(data_dir))
    path = Path(value).expanduser()
    if not path.is_file():
        from zslbench.errors import DataError

        raise DataError(
            f"backbone_weights={value}: file not found (expected a torchvision ResNet-18 state dict, imagenet or none)"
        )
    return path


def image_inputs(cfg: CZSLImageConfig, weights: Path | None):
    """The ``inputs_fn`` of :func:`zslbench.train.czsl.train_czsl` for the image track."""

    def build(data: ImageData, setup: CZSLSetup, _cfg, dev: torch.device) -> CZSLInputs:
        backbone = build_backbone(weights).to(dev, memory_format=torch.channels_last)

        def rows(idx: np.ndarray) -> torch.Tensor:
            arr = np.asarray(data.images[np.asarray(idx, dtype=np.int64)])  # a copy, out of the cache
            if cfg.image_channel_order == "bgr_code":
                arr = arr[..., ::-1]
            return torch.from_numpy(np.ascontiguousarray(arr))

        train_x = rows(setup.images.train)
        eval_x = rows(setup.eval_idx)
        if dev.type == "cuda":
            eval_x = eval_x.pin_memory()
            free, _ = torch.cuda.mem_get_info(dev)
            if train_x.numel() < free // 4:  # the uint8 training images live on the GPU
                train_x = train_x.pin_memory().to(dev, non_blocking=True)
            else:
                train_x = train_x.pin_memory()
        extras = {"backbone": "resnet18", "backbone_weights": cfg.backbone_weights, "feature_dim": backbone.feature_dim}
        if weights is not None:
            extras["backbone_checkpoint"] = {"file": Path(weights).name, "sha256": checkpoint_sha256(weights)}
        return CZSLInputs(
            train_x=train_x,
            eval_x=eval_x,
            encoder=backbone,
            feature_dim=backbone.feature_dim,
            prepare=ImagePreprocess(dev),
            autocast_dtype=torch.bfloat16 if cfg.amp == "bf16" else None,
            extras=extras,
        )

    return build


def train_czsl_images(
    data: ImageData,
    method_name: str,
    cfg: CZSLImageConfig,
    seed: int,
    classnorm: bool = True,
    device: str = "cpu",
    progress: bool | None = None,
    keep_logits: bool = False,
    weights: Path | None = None,
) -> CZSLResult:
    """One image-track CZSL run on ``data`` (``weights``: the backbone checkpoint or None)."""
    if data.image_size != cfg.image_size:
        from zslbench.errors import DataError

        raise DataError(
            f"the images are {data.image_size}x{data.image_size}, the config says image_size={cfg.image_size}"
        )
    return train_czsl(
        data,
        method_name,
        cfg,
        seed,
        classnorm=classnorm,
        device=device,
        progress=progress,
        keep_logits=keep_logits,
        inputs_fn=image_inputs(cfg, weights),
        image_split=image_split_of(data),
    )
