"""Run one ONNX node through netjit's ONNX backend (reference evaluation), for the op tests here."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from netjit.onnx import backend


def run_node(op_type: str, inputs: dict, n_outputs: int = 1, opset: int = 22, shapes: dict = None,
             out_dtypes: tuple = (), **attrs):
    """Outputs of a one-node model over ``inputs`` (name -> array; ``shapes`` overrides declared shapes)."""
    shapes = shapes or {}
    outs = [f"y{i}" for i in range(n_outputs)]
    node = helper.make_node(op_type, list(inputs), outs, **attrs)
    ins = [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), shapes.get(k, v.shape))
           for k, v in inputs.items()]
    first = helper.np_dtype_to_tensor_dtype(next(iter(inputs.values())).dtype)
    dtypes = [helper.np_dtype_to_tensor_dtype(np.dtype(d)) for d in out_dtypes] + [first] * n_outputs
    # the checker wants an output shape; the importer ignores declared output shapes
    outputs = [helper.make_tensor_value_info(o, dt, [f"{o}_d{i}" for i in range(3)]) for o, dt in zip(outs, dtypes)]
    graph = helper.make_graph([node], "t", ins, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    rep = backend.prepare(model, "CPU", backend="reference")
    return rep.run([np.asarray(v) for v in inputs.values()])
