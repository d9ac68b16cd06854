"""zslbench: a reproducibility harness for Class Normalization for (Continual)? GZSL (ICLR 2021)."""

__version__ = "0.1.0"
