"""zslbench: a reproducibility harness for Class Normalization for (Continual)? GZSL (ICLR 2021).

The Python API (zslbench.library) is reached from here and imported on first use, so that
``import zslbench`` stays cheap: ``zslbench.run``, ``zslbench.sweep``, ``zslbench.load_results``,
``zslbench.tables``, ``zslbench.plot_variance``, ``zslbench.plot_curves``, ``zslbench.Run``.

``zslbench.sweep`` is the function; the internal package of that name is imported as usual
(``from zslbench.sweep import plan_sweep``) but never replaces the function on the package."""

import sys
import types

__version__ = "0.1.0"

__all__ = [
    "Run",
    "SweepOutcome",
    "load_plugins",
    "load_results",
    "plot_curves",
    "plot_variance",
    "run",
    "sweep",
    "tables",
]


def __getattr__(name: str):
    if name in __all__:
        import zslbench.library as library

        return getattr(library, name)
    raise AttributeError(f"module 'zslbench' has no attribute {name!r}")


def __dir__() -> list:
    return sorted([*globals(), *__all__])


class Package(types.ModuleType):
    """The package's module type: importing the subpackage zslbench.sweep leaves the attribute
    ``sweep`` to the API function."""

    def __setattr__(self, name: str, value) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = Package
