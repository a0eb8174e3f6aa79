"""ONNX-ML ops (``ai.onnx.ml``), numeric tensors only."""
from __future__ import annotations
