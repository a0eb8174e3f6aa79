"""Session basics: fetch structures, callables, nj.compile, caching, variables, errors."""
import collections

import numpy as np
import pytest

import netjit as nj
from netjit.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError

F32 = np.float32


def affine_net():
    """y = relu(x @ w + 1), z = y * 2; x: f32[?, 3]."""
    net = nj.Net("affine")
    x = net.Placeholder("x", F32, (None, 3))
    w = net.Const(np.arange(6, dtype=F32).reshape(3, 2) - 2, "w")
    h = net.Add([net.MatMul([x, w]), net.Const(1.0)], "h")
    y = net.Relu(h, "y")
    z = net.Mul([y, net.Const(2.0)], "z")
    return net, x, y, z


def expected(xv):
    w = np.arange(6, dtype=F32).reshape(3, 2) - 2
    y = np.maximum(xv @ w + 1, 0)
    return y, y * 2


X = np.float32([[1, 0, -1], [0.5, 2, 1]])
Y, Z = expected(X)


@pytest.fixture
def sess():
    net, *_ = affine_net()
    with nj.Session(net) as s:
        yield s


def test_fetch_structures_are_preserved(sess):
    Point = collections.namedtuple("Point", "a b")
    feed = {"x": X}
    np.testing.assert_allclose(sess.run("y", feed), Y)
    a, b = sess.run(["y", "z"], feed)
    np.testing.assert_allclose(b, Z)
    out = sess.run({"first": "z", "rest": ("y", ["z", {"deep": "y"}])}, feed)
    assert isinstance(out, dict) and isinstance(out["rest"], tuple) and isinstance(out["rest"][1], list)
    np.testing.assert_allclose(out["first"], Z)
    np.testing.assert_allclose(out["rest"][1][1]["deep"], Y)
    p = sess.run(Point("y", "z"), feed)
    assert isinstance(p, Point)
    np.testing.assert_allclose(p.b, Z)


def test_duplicate_fetches_return_the_same_value(sess):
    y1, z, y2 = sess.run(["y", "z", "y"], {"x": X})
    np.testing.assert_allclose(y1, Y)
    np.testing.assert_array_equal(y1, y2)


def test_blob_references_and_names_are_interchangeable():
    net, x, y, z = affine_net()
    with nj.Session(net) as s:
        by_ref = s.run(z, {x: X})
        by_name = s.run("z", {"x": X})
        np.testing.assert_array_equal(by_ref, by_name)
        assert s.compile_count == 1  # the same signature


def test_a_second_run_with_the_same_signature_does_not_compile(sess):
    sess.run("z", {"x": X})
    assert sess.compile_count == 1
    for _ in range(3):
        np.testing.assert_allclose(sess.run("z", {"x": X[:1]}), Z[:1])  # another batch size: same types
    assert sess.compile_count == 1 and sess.executor_cache_size() == 1


def test_permuted_feeds_and_fetches_reuse_the_cache():
    net = nj.Net("two")
    a = net.Placeholder("a", F32, (2,))
    b = net.Placeholder("b", F32, (2,))
    net.Sub([a, b], "d")
    net.Mul([a, b], "p")
    av, bv = np.float32([5, 6]), np.float32([1, 2])
    with nj.Session(net) as s:
        d, p = s.run(["d", "p"], {"a": av, "b": bv})
        p2, d2 = s.run(["p", "d"], {"b": bv, "a": av})
        assert s.compile_count == 1
        np.testing.assert_array_equal(d2, av - bv)
        np.testing.assert_array_equal(p2, av * bv)


def test_a_new_feed_dtype_compiles_anew():
    net = nj.Net("dtypes")
    net.Neg("v", "n")  # v is an external input: any dtype may be fed
    with nj.Session(net) as s:
        assert s.run("n", {"v": np.float32([1])}).dtype == np.float32
        assert s.run("n", {"v": np.int64([1])}).dtype == np.int64
        assert s.compile_count == 2
        s.run("n", {"v": np.float32([2])})
        assert s.compile_count == 2


def test_make_callable_takes_feeds_positionally(sess):
    f = sess.make_callable(["y", "z"], feeds=["x"])
    y, z = f(X)
    np.testing.assert_allclose(z, Z)
    before = sess.compile_count
    f(X[:1])
    assert sess.compile_count == before
    g = sess.make_callable("y", feeds=["x"])
    np.testing.assert_allclose(g([[1, 1, 1]]), expected(np.ones((1, 3), F32))[0])  # lists take the declared dtype


def test_nj_compile_program_by_position_and_by_name():
    net, x, y, z = affine_net()
    program = nj.compile(net, {"y": y, "z": z}, feeds=[x])
    out = program(X)
    np.testing.assert_allclose(out["z"], Z)
    np.testing.assert_allclose(program(x=X)["y"], Y)
    with pytest.raises(NotFoundError, match=r"unknown feeds \['q'\]"):
        program(q=X)


def test_variables_persist_across_runs_and_reset_clears_them():
    net = nj.Net("counter")
    v = net.Variable(np.float32([0, 0]), "v")
    inc = net.AssignAdd([v, net.Const(np.float32([1, 2]))], "inc")
    with nj.Session(net) as s:
        for k in (1, 2, 3):
            np.testing.assert_array_equal(s.run(inc), [k, 2 * k])
        np.testing.assert_array_equal(s.run(v), [3, 6])
        with nj.Session(net) as other:  # state is per session
            np.testing.assert_array_equal(other.run(inc), [1, 2])
        s.reset()
        with pytest.raises(FailedPreconditionError, match="uninitialized value 'v'"):
            s.run(v)


def test_fetching_a_rewritten_blob_returns_its_last_write():
    net = nj.Net("rw")
    x = net.Placeholder("x", F32, (2,))
    net.Neg(x, "t")
    net.Mul(["t", "t"], "t")
    net.Add(["t", x], "t")
    with nj.Session(net) as s:
        np.testing.assert_array_equal(s.run("t", {x: F32([1, 2])}), F32([2, 6]))


# -- errors, each followed by a correct run of the same session ---------------------
def _still_works(sess):
    np.testing.assert_allclose(sess.run("z", {"x": X}), Z)


def test_unknown_fetch_is_not_found(sess):
    with pytest.raises(NotFoundError, match=r"cannot fetch 'nope': no blob of that name in net 'affine"):
        sess.run("nope", {"x": X})
    _still_works(sess)


def test_a_fetch_the_feeds_cannot_compute_names_the_missing_input(sess):
    with pytest.raises(InvalidArgumentError, match=r"cannot fetch 'z' .*You must feed a value for placeholder "
                                                   r"'x' \(f32\[\?,3\]\)"):
        sess.run("z")
    _still_works(sess)


def test_unknown_feed_is_not_found(sess):
    with pytest.raises(NotFoundError, match=r"cannot feed 'q'"):
        sess.run("z", {"x": X, "q": X})
    _still_works(sess)


def test_wrong_feed_dtype_names_the_blob(sess):
    with pytest.raises(InvalidArgumentError, match=r"dtype int64 for (placeholder|blob) 'x'.*float32"):
        sess.run("z", {"x": np.ones((2, 3), np.int64)})
    _still_works(sess)


def test_wrong_feed_shape_names_the_blob(sess):
    with pytest.raises(InvalidArgumentError, match=r"shape \(2, 4\) for blob 'x', which has shape f32\[\?,3\]"):
        sess.run("z", {"x": np.ones((2, 4), F32)})
    with pytest.raises(InvalidArgumentError, match=r"rank 1 for placeholder 'x'"):
        sess.run("z", {"x": np.ones(3, F32)})
    _still_works(sess)


def test_wrong_feed_through_a_callable_names_the_blob(sess):
    f = sess.make_callable("z", feeds=["x"])
    with pytest.raises(InvalidArgumentError, match=r"'x'"):
        f(np.ones((1, 5), F32))
    np.testing.assert_allclose(f(X), Z)


def test_a_bad_fetch_structure_is_an_invalid_argument(sess):
    with pytest.raises(InvalidArgumentError, match="cannot fetch 3"):
        sess.run(["z", 3], {"x": X})
    _still_works(sess)


def test_a_closed_session_fails_every_call():
    net, x, y, z = affine_net()
    s = nj.Session(net)
    f = s.make_callable(z, feeds=[x])
    s.close()
    for call in (lambda: s.run(z, {x: X}), lambda: f(X), lambda: s.make_callable(z, [x]),
                 lambda: s.extend(nj.Net("more"))):
        with pytest.raises(FailedPreconditionError, match="closed Session"):
            call()
    with nj.Session(net) as fresh:  # the net itself is unharmed
        np.testing.assert_allclose(fresh.run(z, {x: X}), Z)


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_a_workspace_net_reads_then_assigns_then_reads_in_program_order(backend):
    # Caffe2 style: the whole net runs; the read before the Assign sees the old value
    net = nj.Net("ws_assign")
    v = net.Variable(F32([1, 1]), "v")
    net.Copy(v, "old")
    net.Assign([v, net.Add([v, net.Const(F32([1, 1]))])], "v_set")
    net.Copy(net.Variable(F32([1, 1]), "v"), "new")
    ws = nj.Workspace(config=nj.SessionConfig(backend=backend))
    for k in (1, 2):
        ws.run(net)
        np.testing.assert_array_equal(ws.fetch_blob("old"), [k, k])
        np.testing.assert_array_equal(ws.fetch_blob("v_set"), [k + 1, k + 1])
        np.testing.assert_array_equal(ws.fetch_blob("new"), [k + 1, k + 1])


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_a_placeholder_without_shape_compiles_once_per_fed_rank(backend):
    net = nj.Net("anyrank")
    x = net.Placeholder("x", F32)
    y = net.Exp(net.Add([x, x]))
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (2, 3)).astype(F32), rng.uniform(-1, 1, (2, 3, 4)).astype(F32)
    with nj.Session(net, nj.SessionConfig(backend=backend)) as s:
        for value in (a, b, a, b):
            np.testing.assert_allclose(s.run(y, {x: value}), np.exp(2 * value), rtol=1e-6)
        assert s.executor_cache_size() == 2 and s.compile_count == 2
        f = s.make_callable(y, [x])
        for value in (b, a, np.float32(0.5)):
            np.testing.assert_allclose(f(value), np.exp(2 * value), rtol=1e-6)
        assert s.executor_cache_size() == 3              # rank 0 is a third signature
        with pytest.raises(InvalidArgumentError, match="dtype"):
            s.run(y, {x: a.astype(np.float64)})


def test_a_partial_run_of_a_placeholder_without_shape_accepts_any_rank():
    net = nj.Net("anyrank_partial")
    x = net.Placeholder("x", F32)
    y = net.Exp(net.Add([x, x]), "y")
    a = np.arange(6, dtype=F32).reshape(2, 3) / 6
    with nj.Session(net, nj.SessionConfig(backend="reference")) as s:
        h = s.partial_run_setup([y], [x])
        np.testing.assert_allclose(s.partial_run(h, y, {x: a}), np.exp(2 * a), rtol=1e-6)
