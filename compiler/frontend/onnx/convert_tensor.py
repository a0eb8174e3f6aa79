"""ONNX converters: convert_tensor (see converters.py for the contract)."""
from __future__ import annotations
