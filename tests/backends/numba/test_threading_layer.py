"""Parallel kernels under each of numba's threading layers, called from many threads."""
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from netjit.backends.numba.threads import gate_for

SCRIPT = textwrap.dedent("""
    import sys, threading
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from test_prepack import _mlp
    from numba_helpers import PipelineNumba as NumbaBackend   # SEGMENT passes (Softmax rows, packing), then numba
    from netjit.backends.numba.threads import THREADS
    from netjit.backends.reference import evaluate
    from netjit.compiler.ir import Graph
    from netjit.compiler.ops import Placeholder, Softmax
    mlp = _mlp([784, 256, 64])          # packed products: parallel inside a serial kernel
    rows = Graph("rows")                # a prange kernel variant (big input)
    x = rows.add(Placeholder(np.float32, (None, 1024)), names=["x"])
    rows.inputs.append(x)
    rows.outputs = [(rows.add(Softmax(), [(x, 0)]), 0)]
    exes = [NumbaBackend().compile(g) for g in (mlp, rows)]
    feeds = [np.ones((64, 784), np.float32), np.random.default_rng(0).random((512, 1024), np.float32)]
    want = [evaluate(g, [f])[0] for g, f in zip((mlp, rows), feeds)]
    bad = []
    def work():
        for _ in range(40):
            for e, f, w in zip(exes, feeds, want):
                if not np.allclose(e([f])[0], w, rtol=1e-4, atol=1e-5):
                    bad.append(1)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    import numba
    print(numba.threading_layer(), type(THREADS.gate).__name__, len(bad))
""")


@pytest.mark.parametrize("layer,gate", [("workqueue", "lock"), ("omp", "_OpenGate")])
def test_parallel_kernels_called_from_many_threads(layer, gate, tmp_path):
    """numba's workqueue layer aborts the process on concurrent parallel regions;
    netjit lets one caller at a time in and runs the others serially."""
    if layer == "omp":
        pytest.importorskip("numba.np.ufunc.omppool")
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer, NETJIT_CACHE_DIR=str(tmp_path))
    res = subprocess.run([sys.executable, "-c", SCRIPT, os.path.dirname(__file__)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == [layer, gate, "0"], res.stdout + res.stderr[-2000:]


def test_the_workqueue_gate_admits_one_caller_at_a_time():
    gate = gate_for("workqueue")
    assert gate.acquire(False)
    entered = []
    t = threading.Thread(target=lambda: entered.append(gate.acquire(False)))
    t.start()
    t.join()
    assert entered == [False]
    gate.release()
    assert gate.acquire(False)
    gate.release()


@pytest.mark.parametrize("layer", ["omp", "tbb"])
def test_thread_safe_layers_admit_every_caller(layer):
    gate = gate_for(layer)
    assert gate.acquire(False) and gate.acquire(False)
    gate.release()
    gate.release()


FORK_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from numba_helpers import fork_and_report
    from test_prepack import _mlp
    from numba_helpers import PipelineNumba as NumbaBackend   # SEGMENT passes (Softmax rows, packing), then numba
    from netjit.backends.reference import evaluate
    from netjit.compiler.ir import Graph
    from netjit.compiler.ops import Placeholder, Softmax
    rows = Graph("rows")
    x = rows.add(Placeholder(np.float32, (None, 1024)), names=["x"])
    rows.inputs.append(x)
    rows.outputs = [(rows.add(Softmax(), [(x, 0)]), 0)]
    NumbaBackend().compile(rows)([np.ones((256, 1024), np.float32)])  # numba's threads start
    def child(q):
        mlp = _mlp([784, 256, 64])          # the GEMM library loads after the fork
        f = np.ones((64, 784), np.float32)
        q.put(bool(np.allclose(NumbaBackend().compile(mlp)([f])[0], evaluate(mlp, [f])[0],
                               rtol=1e-4, atol=1e-5)))
    fork_and_report(child, 300)
""")


def test_a_child_forked_before_the_gemm_library_loads_keeps_products_serial(tmp_path):
    """The fork hook's choice outlives a GEMM library the child registers later."""
    env = dict(os.environ, NETJIT_CACHE_DIR=str(tmp_path))
    res = subprocess.run([sys.executable, "-c", FORK_SCRIPT, os.path.dirname(__file__)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[-1] == "child 0 True", res.stdout + res.stderr[-2000:]
