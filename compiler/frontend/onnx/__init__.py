"""ONNX import: ``load(path_or_model) -> Net`` (see ``importer``; converters by op family).

Importing this package imports ``onnx`` and registers every converter.
"""
from __future__ import annotations

from . import convert_basic, convert_elementwise, convert_nn, convert_tensor  # noqa: F401  (registers converters)
from .converters import CONVERTERS, NodeContext, onnx_op
from .loader import load

__all__ = ["load", "onnx_op", "NodeContext", "CONVERTERS"]
