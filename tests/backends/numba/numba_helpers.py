"""Build one graph from op samples and compare both backends on it."""
from __future__ import annotations

import copy

import numpy as np

from netjit.backends.base import DictStateStore
from netjit.backends.reference import evaluate
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Placeholder, TensorType


def graph_of_samples(name: str, samples, dynamic: bool = True):
    """One graph running every sample; inputs are placeholders (dims dynamic if asked)."""
    g = Graph(name)
    feeds = []
    for s_i, sample in enumerate(samples):
        ins = []
        for k, x in enumerate(sample.inputs):
            x = np.asarray(x)
            t = TensorType.of(x)
            declared = (None,) * x.ndim if dynamic else x.shape
            n = g.add(Placeholder(t.dtype, declared), names=[f"s{s_i}_in{k}"])
            g.inputs.append(n)
            feeds.append(x)
            ins.append((n, 0))
        n = g.add(sample.op, ins)
        g.outputs += [(n, k) for k in range(len(g.types(n)))]
        if not g.types(n):
            g.targets.append(n)
    return g, feeds


def _fresh(x):
    if isinstance(x, np.ndarray) and x.dtype == object and x.ndim == 0:
        v = x.item()
        if hasattr(v, "count") and hasattr(v, "reset"):     # a Counter: same count, new lock
            return np.array(type(v)(v.count), dtype=object)
    return copy.deepcopy(x)


def assert_same_results(graph, feeds, exe, rtol=2e-5, atol=2e-6):
    """The executable agrees with the reference backend: values, dtypes, shapes, state."""
    ref_state, state = DictStateStore(), DictStateStore()
    # host values (counters) are mutable: each backend gets its own copy
    expected = evaluate(graph, [_fresh(x) for x in feeds], ref_state)
    got = exe([_fresh(x) for x in feeds], state)
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(got, expected)):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype, f"output {i}: dtype {a.dtype} != {b.dtype}"
        assert a.shape == b.shape, f"output {i}: shape {a.shape} != {b.shape}"
        if a.dtype == object or a.dtype == bool or a.dtype.kind in "iu":
            np.testing.assert_array_equal(a, b, err_msg=f"output {i}")
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"output {i}")
    assert sorted(ref_state.values) == sorted(state.values)
    for key in ref_state.values:
        np.testing.assert_allclose(state.values[key], ref_state.values[key], rtol=rtol)


def fork_and_report(target, timeout: float) -> None:
    """Run ``target(queue)`` in a forked child; print ``child <exit code> <what it put>``
    (for subprocess scripts testing what survives a fork)."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(q,))
    p.start()
    p.join(timeout)
    print("child", p.exitcode, q.get(timeout=5) if p.exitcode == 0 else None)


def numba_segment(graph: Graph, prepack: bool = True, parallel=None) -> Graph:
    """``graph`` as the pipeline hands it to the numba backend: a copy after the
    numba backend's SEGMENT passes (FC and Softmax expansion, weight prepacking)."""
    from netjit.passes import Phase, make_context, run_phase
    segment = graph.copy()
    ctx = make_context(backend="numba", disabled=() if prepack else ("prepack_weights",),
                       pass_options={"prepack_weights": {"parallel": parallel}})
    run_phase(segment, Phase.SEGMENT, ctx)
    return segment


class PipelineNumba:
    """The numba backend as the pipeline drives it: the SEGMENT passes, then ``compile``."""

    name = "numba"

    def __init__(self, **defaults):
        from netjit.backends.numba import NumbaBackend
        self.defaults = defaults
        self.backend = NumbaBackend(**defaults)

    def compile(self, graph: Graph, **options):
        opts = {**self.defaults, **options}
        segment = numba_segment(graph, opts.get("prepack", True) is not False, opts.get("parallel"))
        return self.backend.compile(segment, **options)

    def compile_deferred(self, graph: Graph, prepare, **options):
        return self.backend.compile_deferred(graph, lambda g: numba_segment(prepare(g)), **options)

    def generate_source(self, graph: Graph, **options) -> str:
        opts = {**self.defaults, **options}
        segment = numba_segment(graph, opts.get("prepack", True) is not False, opts.get("parallel"))
        return self.backend.generate_source(segment, **options)
