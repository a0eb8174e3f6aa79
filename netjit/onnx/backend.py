"""netjit as an ONNX backend (``onnx.backend.base.Backend``), as ``onnxruntime.backend`` offers one.

    import netjit.onnx.backend as backend
    rep = backend.prepare(model, device="CPU", opt_level=2)   # compiled once
    outputs = rep.run([x])            # or rep.run({"x": x}); outputs in the model's order
    outputs = backend.run_model(model, [x])

Keyword arguments of ``prepare`` are ``nj.SessionConfig`` fields.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep

from netjit.compiler.frontend.onnx import load
from netjit.compiler.frontend.onnx.importer import input_types
from netjit.errors import InvalidArgumentError
from netjit.runtime.compiled_program import compile as compile_program


class NetjitRep(BackendRep):
    """A model compiled once; ``run`` takes its inputs as a list (model order) or a dict."""

    def __init__(self, model: onnx.ModelProto, **options):
        self.net = load(model)
        self.input_names = list(input_types(model))
        self.output_names = [o.name for o in model.graph.output]
        self.program = compile_program(self.net, self.output_names, feeds=self.input_names, **options)

    def run(self, inputs: Any, **kwargs) -> tuple:
        if isinstance(inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise InvalidArgumentError(f"missing model inputs {missing}")
            values = [inputs[n] for n in self.input_names]
        else:
            values = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
            if len(values) != len(self.input_names):
                raise InvalidArgumentError(f"the model takes {len(self.input_names)} inputs "
                                           f"{self.input_names}, got {len(values)}")
        return tuple(self.program(*values))


class NetjitBackend(Backend):
    """The ``onnx.backend.base.Backend`` interface over netjit."""

    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs) -> NetjitRep:
        if not cls.supports_device(device):
            raise InvalidArgumentError(f"netjit runs ONNX models on CPU, not {device!r}")
        return NetjitRep(model, **kwargs)

    @classmethod
    def run_model(cls, model: onnx.ModelProto, inputs: Any, device: str = "CPU", **kwargs) -> tuple:
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return str(device).upper().startswith("CPU")


prepare = NetjitBackend.prepare
run_model = NetjitBackend.run_model
supports_device = NetjitBackend.supports_device
is_compatible = NetjitBackend.is_compatible
run_node = NetjitBackend.run_node
