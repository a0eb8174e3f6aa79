"""Run an ONNX model with netjit and check it against ONNX Runtime.

    python examples/onnx_model.py [model.onnx]

Without an argument it runs SqueezeNet, one of the light models the onnx
package ships. Needs the onnx extra (and onnxruntime for the comparison).
"""
import os
import sys
import time

import numpy as np
import onnx

import netjit as nj
import netjit.onnx.backend as backend

LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(LIGHT, "light_squeezenet.onnx")
model = onnx.load(path)
initializers = {t.name for t in model.graph.initializer}
first = next(i for i in model.graph.input if i.name not in initializers)
shape = [d.dim_value or 1 for d in first.type.tensor_type.shape.dim]
x = np.random.default_rng(0).random(shape, dtype=np.float32)

t0 = time.perf_counter()
net = nj.onnx.load(path)
rep = backend.prepare(model, device="CPU")
(y,) = rep.run({first.name: x})
print(f"{os.path.basename(path)}: {len(net.ops)} ops, first result in {time.perf_counter() - t0:.2f} s, "
      f"output {y.shape} {y.dtype}")

try:
    import onnxruntime as ort
except ImportError:
    sys.exit(0)
(expected,) = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {first.name: x})
print(f"largest difference from ONNX Runtime: {np.abs(y - expected).max():.2e}")
