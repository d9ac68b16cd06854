"""Continual-ZSL methods (DESIGN section 3): sequential, multitask, ewc-online, mas-online, agem.

Importing this package registers them in ``CZSL_METHODS`` (in this order).
"""

from zslbench.train.methods import (
    agem,  # noqa: F401
    ewc_online,  # noqa: F401
    mas_online,  # noqa: F401
    multitask,  # noqa: F401
    sequential,  # noqa: F401  (registration, in table order)
)
from zslbench.train.methods.base import CZSL_METHODS, CZSLMethod, CZSLState, register

__all__ = ["CZSL_METHODS", "CZSLMethod", "CZSLState", "register"]
