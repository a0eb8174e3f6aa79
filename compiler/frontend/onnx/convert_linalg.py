"""ONNX converters: convert_linalg (see converters.py for the contract)."""
from __future__ import annotations
