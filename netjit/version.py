"""The version of netjit: a leaf, so that cache keys can name it without importing the package."""
__version__ = "0.1.0"
