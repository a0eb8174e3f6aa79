"""``nj.onnx``: ONNX models in (``load``), out (``export``) and, through ``netjit.onnx.backend``,
run as ONNX runs them.

Needs the ``onnx`` package (``pip install "netjit[onnx]"``).
"""
from netjit.compiler.frontend.onnx import export_net as export
from netjit.compiler.frontend.onnx import load

__all__ = ["load", "export"]
