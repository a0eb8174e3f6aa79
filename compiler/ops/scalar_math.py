"""Scalar math ops (ONNX semantics): trigonometry, rounding, Erf, Sign, Mod, IsNaN, IsInf, bitwise."""
from __future__ import annotations
