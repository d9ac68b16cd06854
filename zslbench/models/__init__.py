from zslbench.models.attributes import normalize_attributes
from zslbench.models.class_norm import ClassStandardization
from zslbench.models.embedders import MODELS, AttributeEmbedder, ModelSpec
from zslbench.models.head import scaled_cosine

# isort: split
# f-clswgan registers after the paper's five models (embedders): their order is that of `zslbench
# list`, of the sweep's plan and of the tables' rows.
from zslbench.models import clswgan  # noqa: F401

__all__ = [
    "MODELS",
    "AttributeEmbedder",
    "ClassStandardization",
    "ModelSpec",
    "normalize_attributes",
    "scaled_cosine",
]
