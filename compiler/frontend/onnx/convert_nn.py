"""ONNX converters: convert_nn (see converters.py for the contract)."""
from __future__ import annotations
