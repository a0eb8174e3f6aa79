"""netjit as an ONNX backend (``onnx.backend.base.Backend``), as ``onnxruntime.backend`` offers one.

    import netjit.onnx.backend as backend
    rep = backend.prepare(model, device="CPU", opt_level=2)   # compiled once
    outputs = rep.run([x])            # or rep.run({"x": x}); outputs in the model's order
    outputs = backend.run_model(model, [x])
    outputs = backend.run_node(node, [x, y])                  # one node, typed from its inputs

Keyword arguments of ``prepare``, ``run_model`` and ``run_node`` are
``nj.SessionConfig`` fields (``opt_level``, ``device_count``, ``tiered``,
``backend``, ...); ``run_node`` also takes ``opset``.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import onnx
from onnx import helper
from onnx.backend.base import Backend, BackendRep

from netjit.compiler.frontend.onnx import load
from netjit.compiler.frontend.onnx.importer import MIN_OPSET, input_types, model_opsets, node_converter
from netjit.errors import InvalidArgumentError, NetjitError
from netjit.runtime.compiled_program import compile as compile_program


class NetjitRep(BackendRep):
    """A model compiled once; ``run`` takes its inputs as a list (model order) or a dict."""

    def __init__(self, model: onnx.ModelProto, **options):
        self.net = load(model)
        self.input_names = list(input_types(model))
        self.output_names = [o.name for o in model.graph.output]
        self.program = compile_program(self.net, self.output_names, feeds=self.input_names, **options)

    def run(self, inputs: Any, **kwargs) -> tuple:
        """The model's outputs, in its output order, for ``inputs`` (list in input order, or dict)."""
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
        out = self.program(*values)
        return tuple(out) if isinstance(out, (list, tuple)) else (out,)


class NetjitBackend(Backend):
    """The ``onnx.backend.base.Backend`` interface over netjit."""

    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs) -> NetjitRep:
        """Import and compile ``model`` once; ``kwargs`` are SessionConfig fields."""
        if not cls.supports_device(device):
            raise InvalidArgumentError(f"netjit runs ONNX models on CPU, not {device!r}")
        return NetjitRep(model, **kwargs)

    @classmethod
    def run_model(cls, model: onnx.ModelProto, inputs: Any, device: str = "CPU", **kwargs) -> tuple:
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node: onnx.NodeProto, inputs: Any, device: str = "CPU",
                 outputs_info: Optional[Sequence] = None, **kwargs) -> tuple:
        """Run one node over ``inputs`` (arrays, in the node's input order, or a dict by name).

        The one-node model takes its input types from the arrays, its opset from
        ``opset=`` (default: onnx's current) and its output element types from
        ``outputs_info`` ((elem_type, shape) pairs, as onnx's backend passes them)
        when given.
        """
        opset = kwargs.pop("opset", onnx.defs.onnx_opset_version())
        names = [n for n in node.input if n]
        values = [inputs[n] for n in names] if isinstance(inputs, dict) else list(inputs)
        if len(values) != len(names):
            raise InvalidArgumentError(f"node {node.op_type} takes {len(names)} inputs {names}, got {len(values)}")
        model = one_node_model(node, dict(zip(names, map(np.asarray, values))), opset, outputs_info)
        return cls.run_model(model, values, device, **kwargs)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return str(device).upper().startswith("CPU")

    @classmethod
    def is_compatible(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs) -> bool:
        """True when netjit has a converter for every node at the model's opset (no import is tried)."""
        if not cls.supports_device(device):
            return False
        opsets = model_opsets(model)
        if "" in opsets and not MIN_OPSET <= opsets[""] <= onnx.defs.onnx_opset_version():
            return False
        return all(node_converter(n, opsets) is not None for n in model.graph.node)


def one_node_model(node: onnx.NodeProto, inputs: dict, opset: int,
                   outputs_info: Optional[Sequence] = None) -> onnx.ModelProto:
    """A model of ``node`` alone, its inputs typed from ``inputs`` (name -> array)."""
    try:
        ins = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
               for n, v in inputs.items()]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"node {node.op_type}: an input has no ONNX element type: {exc}") from None
    outs = []
    for i, name in enumerate(o for o in node.output if o):
        if outputs_info and i < len(outputs_info):
            outs.append(helper.make_tensor_value_info(name, outputs_info[i][0], None))
        else:
            outs.append(helper.make_empty_tensor_value_info(name))
    graph = helper.make_graph([node], f"run_node_{node.op_type}", ins, outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if outputs_info:
        return model
    try:   # onnx's shape inference types the outputs the checker wants typed
        return onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
        raise InvalidArgumentError(f"node {node.op_type}: {str(exc).splitlines()[0]}") from None


__all__ = ["NetjitBackend", "NetjitRep", "NetjitError", "prepare", "run_model", "run_node",
           "supports_device", "is_compatible", "one_node_model"]

prepare = NetjitBackend.prepare
run_model = NetjitBackend.run_model
supports_device = NetjitBackend.supports_device
is_compatible = NetjitBackend.is_compatible
run_node = NetjitBackend.run_node
