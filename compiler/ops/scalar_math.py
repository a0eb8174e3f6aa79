"""math ops (ONNX semantics)."""
from __future__ import annotations
