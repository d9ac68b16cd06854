"""The feature datasets of the GZSL and CZSL-on-features tracks: the xlsa17 release (ResNet-101
features, class attributes, the proposed splits), synthetic stand-ins of the same shapes, and
the fetch that installs xlsa17.  The entry points are in :mod:`zslbench.data`."""
