"""Continual-ZSL methods (DESIGN section 3): sequential, multitask, ewc-online, mas-online, agem.

Importing this package registers them in ``CZSL_METHODS`` (in this order, the order of
`zslbench list methods`; each `isort: split` keeps the import sorter from reordering them).
"""

from zslbench.train.methods.base import CZSL_METHODS, CZSLMethod, CZSLState, register

# isort: split
from zslbench.train.methods import sequential  # noqa: F401

# isort: split
from zslbench.train.methods import multitask  # noqa: F401

# isort: split
from zslbench.train.methods import ewc_online  # noqa: F401

# isort: split
from zslbench.train.methods import mas_online  # noqa: F401

# isort: split
from zslbench.train.methods import agem  # noqa: F401

__all__ = ["CZSL_METHODS", "CZSLMethod", "CZSLState", "register"]
