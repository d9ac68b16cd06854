"""An example zslbench plugin, written against zslbench.api only.

It registers:

* the GZSL model ``mlp2-ln`` (zslbench_example.model): a 2-layer MLP with LayerNorm;
* the GZSL model ``bilinear-emb`` (zslbench_example.embedding): a model with a feature side;
* the GZSL model ``mean-gen`` (zslbench_example.generative): a small generative model;
* the continual-ZSL method ``replay`` (zslbench_example.method): experience replay with a small
  per-class memory;
* the continual-ZSL method ``lwf`` (zslbench_example.lwf): Learning without Forgetting, distilling
  the previous model's outputs on each step's own logits;
* the features dataset ``toyfeat`` (zslbench_example.make_data writes its features.npz).
"""

from zslbench import api
from zslbench_example.embedding import BilinearEmbedding, BilinearOptions
from zslbench_example.generative import MeanGenerator, MeanGenOptions
from zslbench_example.lwf import LearningWithoutForgetting, LwFOptions
from zslbench_example.method import ExperienceReplay, ReplayOptions
from zslbench_example.model import MLP2LN, MLP2LNOptions

api.register_model(
    "mlp2-ln", MLP2LN, options=MLP2LNOptions, deep=False, description="2-layer MLP with LayerNorm (example plugin)"
)
api.register_model(
    "bilinear-emb",
    BilinearEmbedding,
    options=BilinearOptions,
    kind="embedding",
    deep=False,
    description="attributes and image features mapped to a shared space (example plugin)",
)
api.register_model(
    "mean-gen",
    MeanGenerator,
    options=MeanGenOptions,
    kind="generative",
    deep=False,
    description="class means regressed from attributes, synthetic unseen means (example plugin)",
)
api.register_method(
    "replay",
    ExperienceReplay,
    options=ReplayOptions,
    description="experience replay, a few stored images per past class (example plugin)",
)
api.register_method(
    "lwf",
    LearningWithoutForgetting,
    options=LwFOptions,
    description="Learning without Forgetting: distillation of the previous model (example plugin)",
)
api.register_dataset("toyfeat", display="Toy", description="64-d toy features, 12 classes (example plugin)")
