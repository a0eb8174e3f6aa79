"""Dynamic dims that are 1 at run time and broadcast inside a fused loop group.

A loop group runs over the broadcast of its inputs' shapes. A value that does
not read the widest input is narrower than that domain when a dynamic dim is 1
at run time; reducing it must not count its broadcast copies. Every case is
compared with the reference backend.
"""
import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import netjit as nj
from netjit.compiler import ops as O
from netjit.compiler.ir import Graph
from netjit.config import SessionConfig

from numba_helpers import assert_same_results

REDUCE = (O.ReduceSum, O.ReduceMean, O.ReduceMax, O.ReduceMin)
F32 = np.dtype(np.float32)


def _graph(n_inputs: int, rank: int = 2):
    g = Graph("bcast")
    xs = []
    for i in range(n_inputs):
        n = g.add(O.Placeholder(F32, (None,) * rank), names=[f"x{i}"])
        g.inputs.append(n)
        xs.append((n, 0))
    return g, xs


def _feeds(*shapes):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


@pytest.mark.parametrize("red", REDUCE, ids=lambda r: r.__name__)
@pytest.mark.parametrize("shapes", [((4, 1), (4, 5)), ((4, 5), (4, 1)), ((1, 1), (4, 5))])
def test_reduction_of_the_narrow_input_beside_a_wide_one(numba_backend, red, shapes):
    """Sub(Add(x, y), Reduce(x)): the reduction joins the Add's loop, whose width is y's."""
    g, (x, y) = _graph(2)
    s = g.add(O.Add(), [x, y])
    r = g.add(red(axes=(1,)), [x])
    g.outputs = [(g.add(O.Sub(), [(s, 0), (r, 0)]), 0), (r, 0)]
    assert_same_results(g, _feeds(*shapes), numba_backend.compile(g))


@pytest.mark.parametrize("red", REDUCE, ids=lambda r: r.__name__)
def test_reduction_of_a_value_missing_one_wide_input(numba_backend, red):
    """Reduce(Add(y, z)) fused with Add(z, x): x alone is wide at run time."""
    g, (x, y, z) = _graph(3)
    g.add(O.Mul(), [z, y])
    wide = g.add(O.Add(), [z, x])
    narrow = g.add(O.Add(), [y, z])
    r = g.add(red(axes=(1,), keepdims=False), [(narrow, 0)])
    g.outputs = [(g.add(O.Sub(), [(narrow, 0), (g.add(red(axes=(1,)), [(narrow, 0)]), 0)]), 0),
                 (r, 0), (wide, 0)]
    assert_same_results(g, _feeds((1, 3), (1, 1), (5, 1)), numba_backend.compile(g))


@pytest.mark.parametrize("shapes", [((4, 5), (4, 1)), ((4, 1), (4, 5))])
def test_reduce_sum_of_add_in_a_session(shapes):
    """The issue's example end to end: ReduceSum(Add(x, y), axes=[1]) on both backends."""
    net = nj.Net("bcast_sum")
    x = net.Placeholder("x", np.float32, (None, None))
    y = net.Placeholder("y", np.float32, (None, None))
    s = net.Add([x, y])
    net.ReduceSum(s, "r", axes=[1])
    net.Sub([s, net.ReduceMean(x, axes=[1])], "c")
    feed = dict(zip(("x", "y"), _feeds(*shapes)))
    out = {}
    for backend in ("reference", "numba"):
        with nj.Session(net, config=SessionConfig(backend=backend, tiered=False)) as sess:
            out[backend] = sess.run(["r", "c"], feed)
    for a, b in zip(out["numba"], out["reference"]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_softmax_and_layer_norm_of_a_narrow_sum(numba_backend):
    """Softmax(Add(x, y)) and a layer norm over x, fused with a wider Mul(x, z)."""
    g, (x, y, z) = _graph(3)
    sm = g.add(O.Softmax(), [(g.add(O.Add(), [x, y]), 0)])
    m = g.add(O.ReduceMean(axes=(-1,)), [x])
    c = g.add(O.Sub(), [x, (m, 0)])
    v = g.add(O.ReduceMean(axes=(-1,)), [(g.add(O.Mul(), [(c, 0), (c, 0)]), 0)])
    ln = g.add(O.Div(), [(c, 0), (g.add(O.Exp(), [(v, 0)]), 0)])
    g.outputs = [(sm, 0), (ln, 0), (g.add(O.Mul(), [x, z]), 0)]
    for shapes in [((3, 1), (3, 1), (3, 6)), ((3, 6), (3, 6), (3, 6)), ((3, 1), (1, 4), (1, 4))]:
        assert_same_results(g, _feeds(*shapes), numba_backend.compile(g))


# -- property: random broadcast shapes with dynamic dims, 1s included -------------------

@st.composite
def broadcast_case(draw):
    """A chain of elementwise ops over 2-3 inputs, then a reduction, softmax or layer norm."""
    rank = draw(st.integers(1, 3))
    full = draw(st.lists(st.sampled_from((2, 3, 5)), min_size=rank, max_size=rank))
    g = Graph("prop")
    vals, feeds = [], []
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    for i in range(draw(st.integers(2, 3))):
        r = draw(st.integers(1, rank))
        shape = tuple(draw(st.sampled_from((d, 1))) for d in full[rank - r:])
        declared = tuple(draw(st.sampled_from((None, None, d))) for d in shape)
        n = g.add(O.Placeholder(F32, declared), names=[f"x{i}"])
        g.inputs.append(n)
        vals.append((n, 0))
        feeds.append(rng.standard_normal(shape).astype(np.float32))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from((O.Add, O.Sub, O.Mul, O.Max)))
        vals.append((g.add(op(), [draw(st.sampled_from(vals)), draw(st.sampled_from(vals))]), 0))
    last = vals[-1]
    r = g.type(last).rank
    tail = draw(st.sampled_from(("reduce", "reduce_input", "softmax", "layer_norm")))
    if tail == "reduce":
        axis = draw(st.sampled_from(sorted({r - 1, 0, -1})))
        out = g.add(draw(st.sampled_from(REDUCE))(axes=(axis,), keepdims=draw(st.booleans())), [last])
    elif tail == "reduce_input":      # a (maybe narrow) input reduced beside the chain
        x = draw(st.sampled_from([v for v in vals[:len(g.inputs)] if g.type(v).rank == r] or [last]))
        red = g.add(draw(st.sampled_from(REDUCE))(axes=(-1,)), [x])
        out = g.add(O.Sub(), [last, (red, 0)])
    elif tail == "softmax":
        out = g.add(O.Softmax(), [last])
    else:
        m = g.add(O.ReduceMean(axes=(-1,)), [last])
        c = g.add(O.Sub(), [last, (m, 0)])
        v = g.add(O.ReduceMean(axes=(-1,)), [(g.add(O.Mul(), [(c, 0), (c, 0)]), 0)])
        out = g.add(O.Div(), [(c, 0), (g.add(O.Exp(), [(v, 0)]), 0)])
    g.outputs = [(out, 0)] + ([last] if draw(st.booleans()) else [])
    return g, feeds


def _broadcasts(g, feeds) -> bool:
    from netjit.backends.reference import evaluate
    try:
        evaluate(g, feeds)
        return True
    except Exception:
        return False


@settings(max_examples=15, deadline=None)
@given(broadcast_case())
def test_random_runtime_broadcasts_match_reference(numba_backend, case):
    g, feeds = case
    if not _broadcasts(g, feeds):
        return
    note(f"{g}\nfeeds: {[f.shape for f in feeds]}")
    assert_same_results(g, feeds, numba_backend.compile(g), rtol=1e-4, atol=1e-5)


def test_a_loop_group_nothing_reads_compiles(numba_backend):
    """Dead code the passes left (an unused Add) is a group with no outputs: no loop is emitted."""
    g, (x,) = _graph(1, rank=3)
    z = g.add(O.Placeholder(F32, (2,)), names=["z"])
    g.inputs.append(z)
    g.add(O.Add(), [x, (z, 0)])                      # domain (?, ?, 2): its own group
    g.outputs = [(g.add(O.ReduceMax(axes=(2,), keepdims=False), [(g.add(O.Sub(), [x, x]), 0)]), 0)]
    assert_same_results(g, _feeds((3, 3, 2), (2,)), numba_backend.compile(g))


@pytest.mark.parametrize("red", REDUCE, ids=lambda r: r.__name__)
@pytest.mark.parametrize("n", [1, 3])
def test_a_reduction_without_keepdims_broadcasts_along_the_trailing_axis(numba_backend, red, n):
    """x - x.sum(-1) pairs column j with row sum j (NumPy aligns trailing axes), not row i."""
    g, (x,) = _graph(1)
    r = g.add(red(axes=(1,), keepdims=False), [x])
    g.outputs = [(g.add(O.Sub(), [x, (r, 0)]), 0)]
    assert_same_results(g, _feeds((n, n)), numba_backend.compile(g))


@pytest.mark.parametrize("red", [O.ReduceMax, O.ReduceMin], ids=lambda r: r.__name__)
def test_max_and_min_propagate_nan_and_keep_infinities(numba_backend, red):
    """Alone and fused into a softmax-like group: NaN anywhere in a row gives NaN, as np.max."""
    x = _feeds((6, 37))[0]
    x[1, 5] = np.nan
    x[2, 36] = np.nan
    x[3, :] = -np.inf
    x[4, 0] = np.inf
    x[5, :] = np.inf
    g, (xv,) = _graph(1)
    alone = g.add(red(axes=(1,), keepdims=False), [xv])
    kept = g.add(red(axes=(1,)), [xv])
    g.outputs = [(alone, 0), (g.add(O.Sub(), [xv, (kept, 0)]), 0)]
    assert_same_results(g, [x], numba_backend.compile(g))
    g64, (xv,) = _graph(1)
    g64.nx.nodes[xv[0]]["types"] = (O.TensorType(np.float64, (None, None)),)
    g64.nx.nodes[xv[0]]["op"] = O.Placeholder(np.dtype(np.float64), (None, None))
    g64.outputs = [(g64.add(red(axes=(1,), keepdims=False), [xv]), 0)]
    assert_same_results(g64, [x.astype(np.float64)], numba_backend.compile(g64))


def test_a_full_reduction_does_not_tie_its_reader_to_the_reduced_width(numba_backend):
    """x.sum() + concat(x, x): the reader's width (8) is not the reduced operand's (4)."""
    g, (x,) = _graph(1, rank=1)
    total = g.add(O.ReduceSum(keepdims=False), [x])
    both = g.add(O.Concat(axis=0), [x, x])
    g.outputs = [(g.add(O.Add(), [(total, 0), (both, 0)]), 0)]
    assert_same_results(g, _feeds((4,)), numba_backend.compile(g))


def test_a_fused_node_with_a_scalar_and_a_vector_output(numba_backend):
    """The loop runs over the broadcast of all outputs, not the first one's (a scalar)."""
    from netjit.compiler.pipeline import optimize
    g = Graph("ranks")
    s = g.add(O.Placeholder(F32, ()), names=["s"])
    v = g.add(O.Placeholder(F32, (None,)), names=["v"])
    g.inputs += [s, v]
    neg = g.add(O.Neg(), [(s, 0)])
    c = g.add(O.Const(O.ConstValue(np.float32(1.5))))
    g.outputs = [(g.add(O.Add(), [(c, 0), (neg, 0)]), 0), (g.add(O.Add(), [(neg, 0), (v, 0)]), 0)]
    g = optimize(g, SessionConfig())
    assert any(g.op(n).name == "FusedElementwise" and len(g.types(n)) == 2 for n in g.nodes())
    assert_same_results(g, [np.array(0.25, np.float32), _feeds((5,))[0]],
                        numba_backend.compile(g))


def _both(net, fetches, feeds, values):
    ref = nj.compile(net, fetches, feeds, backend="reference")(*values)
    got = nj.compile(net, fetches, feeds, backend="numba", tiered=False)(*values)
    for r, g in zip(ref, got):
        assert g.shape == r.shape and g.dtype == r.dtype
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape_a,shape_b,rows", [((1, 3), (5, 3), 5), ((None, 3), (None, 3), 5),
                                                  ((None, 3), (None, 3), 2000)])
def test_a_fetched_value_narrower_than_its_group_keeps_its_own_shape(shape_a, shape_b, rows):
    """y = Tanh(a) fused with z = b + y: y is (1, 3) though the loop runs over (rows, 3).
    numba returned y at the group's shape, statically and when a dynamic dim was 1;
    the native generator took the fused node's outputs to read every input."""
    net = nj.Net("narrow_out")
    a, b = net.Placeholder("a", np.float32, shape_a), net.Placeholder("b", np.float32, shape_b)
    net.Add([b, net.Tanh(a, "y")], "z")
    if shape_b[0] is not None:
        rows = shape_b[0]
    _both(net, ["y", "z"], ["a", "b"], [np.full((1, 3), 0.5, np.float32), np.ones((rows, 3), np.float32)])


def test_column_statistics_fetched_beside_their_use_keep_their_shape():
    net = nj.Net("colscale")
    x = net.Placeholder("x", np.float32, (4, 3))
    s = net.Mul([net.ReduceMean(x, axes=(0,), keepdims=True), net.Const(np.float32(2.0))], "s")
    net.Sub([x, s], "centered")
    _both(net, ["s", "centered"], ["x"], [np.arange(12, dtype=np.float32).reshape(4, 3)])


@pytest.mark.parametrize("rows", [4, 20000])
def test_an_output_of_lower_rank_than_its_group_in_the_parallel_kernel(rows):
    """v2 (1, 5) beside v3 (rows, 1, 5): its pooled buffer had the output's rank, not
    the domain's, and the prange variant failed to type (a bare numba TypingError)."""
    net = nj.Net("lower_rank")
    x0 = net.Placeholder("x0", np.float32, (None, 1, 5))
    x1 = net.Placeholder("x1", np.float32, (1, None))
    net.Sub([x0, net.Div([x1, x1], "v2")], "v3")
    rng = np.random.default_rng(0)
    _both(net, ["v2", "v3"], ["x0", "x1"], [rng.standard_normal((rows, 1, 5)).astype(np.float32),
                                            rng.standard_normal((1, 5)).astype(np.float32) + 3])


@pytest.mark.parametrize("n", [5000, 1_000_000])
def test_long_float32_sums_are_as_accurate_as_numpys(n):
    """One running float32 sum over a million values of about 1000 was 2.3e-4 off;
    summed in blocks it stays within a few float32 ulps of the exact sum, as NumPy's
    pairwise sum does. Row sums (fused loop) and sums over every axis (statement)."""
    net = nj.Net("long_sums")
    x = net.Placeholder("x", np.float32, (None, None))
    net.ReduceSum(x, "row_sum", axes=(-1,))
    net.ReduceMean(x, "mean", axes=None, keepdims=False)
    net.Add([x, net.ReduceMean(x, "row_mean", axes=(-1,))], "centred_plus")   # a fused row sum
    xv = (np.random.default_rng(0).uniform(0, 1, (2, n)) + 1000).astype(np.float32)
    exact = xv.astype(np.float64)
    got = nj.compile(net, ["row_sum", "mean", "row_mean"], ["x"], backend="numba", tiered=False)(xv)
    for value, want in zip(got, (exact.sum(-1, keepdims=True), exact.mean(), exact.mean(-1, keepdims=True))):
        np.testing.assert_allclose(np.asarray(value, np.float64), want, rtol=2e-6)
