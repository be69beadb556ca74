"""pushcal: a content calendar kept as code, published through the OneAll Push API."""

__version__ = "0.1.0"
