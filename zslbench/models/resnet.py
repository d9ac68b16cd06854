"""ResNet-18 (He et al. 2016) with torchvision's module, parameter and buffer names.

The CZSL image track fine-tunes an ImageNet-pretrained ResNet-18 (docs/paper-protocol.md#czsl-protocol).
torchvision is not a dependency: this is the same architecture written out, so that
torchvision's checkpoint ``resnet18-f37072fd.pth`` loads into :class:`ResNet18` unchanged
(``load_state_dict(..., strict=True)``).  The image embedder is everything up to the global
average pool (512-d); ``fc`` is only there so that the checkpoint loads strictly, and
:func:`build_backbone` removes it (as the authors' code does), so it is not a parameter of
the trained model.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn

from zslbench.errors import DataError

FEATURE_DIM = 512
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # RGB
IMAGENET_STD = (0.229, 0.224, 0.225)


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """conv1 -> bn1 -> relu -> maxpool -> layer1..layer4 (2 BasicBlocks each) -> avgpool -> fc."""

    def __init__(self, num_classes: int | None = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        widths = (64, 128, 256, 512)
        cin = 64
        for i, width in enumerate(widths, start=1):
            stride = 1 if i == 1 else 2
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, width, stride), BasicBlock(width, width)))
            cin = width
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc: nn.Linear | None = nn.Linear(FEATURE_DIM, num_classes) if num_classes else None
        # The standard initialisation (as torchvision): He-normal convolutions (fan_out),
        # BatchNorm scale 1 and shift 0; fc keeps the default Linear init.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] -> [B, 512] pooled features."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.features(x)
        return feats if self.fc is None else self.fc(feats)


class ResNetEmbedder(nn.Module):
    """The image network of the CZSL image track: ResNet-18 without fc, 512-d output."""

    feature_dim = FEATURE_DIM

    def __init__(self, resnet: ResNet18) -> None:
        super().__init__()
        resnet.fc = None  # not a parameter of the trained model (the authors delete it too)
        self.resnet = resnet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resnet.features(x)


def checkpoint_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_checkpoint(model: ResNet18, path: Path) -> None:
    """Load a torchvision-format ResNet-18 state dict (strict: every name and shape must match)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: backbone checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise DataError(f"{path}: not a readable torch checkpoint ({type(exc).__name__})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise DataError(f"{path}: expected a ResNet-18 state dict")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[1:3]) if len(first) > 1 else first[0]
        raise DataError(f"{path}: not a torchvision ResNet-18 state dict ({detail[:200]})") from None


def build_backbone(weights: str | Path | None) -> ResNetEmbedder:
    """A ResNet-18 embedder, randomly initialised (``weights`` None) or loaded from a checkpoint."""
    resnet = ResNet18(num_classes=1000)
    if weights is not None:
        load_checkpoint(resnet, Path(weights))
    return ResNetEmbedder(resnet)
