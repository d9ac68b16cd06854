from zslbench.models import clswgan  # noqa: F401  (registers f-clswgan)
from zslbench.models.attributes import normalize_attributes
from zslbench.models.class_norm import ClassStandardization
from zslbench.models.embedders import MODELS, AttributeEmbedder, ModelSpec
from zslbench.models.head import scaled_cosine

__all__ = [
    "MODELS",
    "AttributeEmbedder",
    "ClassStandardization",
    "ModelSpec",
    "normalize_attributes",
    "scaled_cosine",
]
