"""The same workloads as ONNX graphs (onnx.helper), run with ONNX Runtime."""
from __future__ import annotations

import numpy as np

from .workloads import EPS, W2_B, W2_W, W4_B, W4_G


def _session(nodes, inits, inputs, name):
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in inputs]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, name, ins, [out],
                              [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return lambda **feeds: sess.run(None, feeds)[0]


def _n(op, ins, out, **attrs):
    from onnx import helper
    return helper.make_node(op, ins, [out], **attrs)


def w1():
    c = {"c05": 0.5, "c1": 1.0, "ck": 0.7978845608, "ca": 0.044715, "c3": 3.0, "c15": 1.5}
    nodes = [_n("Pow", ["x", "c3"], "p"), _n("Mul", ["ca", "p"], "ap"), _n("Add", ["x", "ap"], "in"),
             _n("Mul", ["ck", "in"], "z"), _n("Tanh", ["z"], "t"), _n("Mul", ["c05", "x"], "hx"),
             _n("Add", ["c1", "t"], "t1"), _n("Mul", ["hx", "t1"], "g"), _n("Mul", ["g", "c15"], "g2"),
             _n("Sigmoid", ["x"], "s"), _n("Add", ["g2", "s"], "y")]
    return _session(nodes, c, [("x", [None])], "w1")


def w2():
    inits = {f"w{i}": w for i, w in enumerate(W2_W)} | {f"b{i}": b for i, b in enumerate(W2_B)}
    nodes, h = [], "x"
    for i in range(3):
        nodes += [_n("MatMul", [h, f"w{i}"], f"m{i}"), _n("Add", [f"m{i}", f"b{i}"], f"a{i}")]
        h = f"a{i}"
        if i < 2:
            nodes.append(_n("Relu", [h], f"r{i}"))
            h = f"r{i}"
    nodes.append(_n("Softmax", [h], "y", axis=-1))
    return _session(nodes, inits, [("x", [None, 784])], "w2")


def w3():
    return _session([_n("Add", ["x", "y_in"], "y")], {}, [("x", [4]), ("y_in", [4])], "w3")


def w4():
    nodes = [_n("ReduceMean", ["x"], "m", axes=[-1]), _n("Sub", ["x", "m"], "d"), _n("Mul", ["d", "d"], "dd"),
             _n("ReduceMean", ["dd"], "v", axes=[-1]), _n("Add", ["v", "eps"], "ve"), _n("Sqrt", ["ve"], "s"),
             _n("Div", ["d", "s"], "n"), _n("Mul", ["n", "g"], "ng"), _n("Add", ["ng", "b"], "y")]
    return _session(nodes, {"eps": EPS, "g": W4_G, "b": W4_B}, [("x", [None, 1024])], "w4")


def w5():
    return _session([_n("Softmax", ["x"], "y", axis=-1)], {}, [("x", [None, 1024])], "w5")
