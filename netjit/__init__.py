"""netjit: a graph compiler and session runtime for nets of tensor operators."""
__version__ = "0.1.0"
