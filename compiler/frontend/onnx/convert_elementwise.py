"""ONNX converters: convert_elementwise (see converters.py for the contract)."""
from __future__ import annotations
