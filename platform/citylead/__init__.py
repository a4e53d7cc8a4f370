"""citylead: the shared platform of a province's digital urban management (数字城管)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
