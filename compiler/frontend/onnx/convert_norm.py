"""ONNX converters: convert_norm (see converters.py for the contract)."""
from __future__ import annotations
