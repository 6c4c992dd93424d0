"""The package's version (pyproject.toml gives the same to pip)."""
__version__ = "0.1.0"
