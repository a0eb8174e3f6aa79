"""ONNX converters: convert_rnn (see converters.py for the contract)."""
from __future__ import annotations
