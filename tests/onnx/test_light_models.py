"""The nine light models onnx ships (``onnx/backend/test/data/light``), run as onnx's runner runs them.

Inputs are what ``onnx.backend.test.runner.Runner.generate_dummy_data(random=False)``
makes (``arange(n).reshape(shape) / n`` as float32, unknown dims 1); the
expected outputs are the shipped ``light_<name>_output_0.pb``; tolerances come
from ``data/real/test_<name>/data.json``; outputs are compared with the runner's
``assert_similar_outputs``. A model with an op netjit does not convert yet is
skipped with the op named. Times (import, compile, run) are printed per model
(``pytest -s``).
"""
from __future__ import annotations

import json
import os
import time

import onnx
import pytest
from onnx import numpy_helper
from onnx.backend.test.runner import Runner

import netjit as nj
from netjit.errors import UnimplementedError
from netjit.onnx.backend import NetjitRep

DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
MODELS = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
          "shufflenet", "squeezenet", "vgg19", "zfnet512"]


def _tolerances(name: str) -> tuple[float, float]:
    path = os.path.join(DATA, "real", f"test_{name}", "data.json")
    with open(path) as fh:
        data = json.load(fh)
    return data.get("rtol", 1e-3), data.get("atol", 1e-7)


@pytest.mark.parametrize("name", MODELS)
def test_light_model(name):
    path = os.path.join(DATA, "light", f"light_{name}.onnx")
    t0 = time.perf_counter()
    try:
        nj.onnx.load(path)
    except UnimplementedError as exc:
        print(f"\n{name}: skipped: {exc}")
        pytest.skip(f"{name}: {exc}")
    t1 = time.perf_counter()
    model = onnx.load(path)
    rep = NetjitRep(model, backend="reference")
    t2 = time.perf_counter()
    inits = {t.name for t in model.graph.initializer}
    inputs = [Runner.generate_dummy_data(x, seed=0, name=name, random=False)
              for x in model.graph.input if x.name not in inits]
    outputs = list(rep.run(inputs))
    t3 = time.perf_counter()
    expected = [numpy_helper.to_array(onnx.load_tensor(os.path.join(DATA, "light", f"light_{name}_output_{i}.pb")))
                for i in range(len(model.graph.output))]
    rtol, atol = _tolerances(name)
    Runner.assert_similar_outputs(expected, outputs, rtol=rtol, atol=atol)
    print(f"\n{name}: import {t1 - t0:.3f}s, compile {t2 - t1:.3f}s, run {t3 - t2:.3f}s")
