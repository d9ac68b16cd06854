"""Continual-ZSL methods (DESIGN section 3): sequential, multitask, ewc-online, mas-online, agem.

Importing this package registers them in ``CZSL_METHODS`` (in this order).
"""

from zslbench.train.methods.base import CZSL_METHODS, CZSLMethod, CZSLState, register
from zslbench.train.methods import sequential  # noqa: F401,E402  (registration, in table order)
from zslbench.train.methods import multitask  # noqa: F401,E402
from zslbench.train.methods import ewc_online  # noqa: F401,E402
from zslbench.train.methods import mas_online  # noqa: F401,E402
from zslbench.train.methods import agem  # noqa: F401,E402

__all__ = ["CZSL_METHODS", "CZSLMethod", "CZSLState", "register"]
