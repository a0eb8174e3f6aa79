"""Every registered op: samples, reference, inference and an independent expectation.

The registry is enumerated, so a new op without samples or a reference fails
here. An op that truly cannot run from samples alone must say why in a
``no_samples_reason`` ClassVar; the ops that need a special harness
(Placeholder: fed; FusedElementwise: hand-built programs; Recv: a rendezvous)
are covered by their own tests below.

Tolerances: f32 results are compared with rtol 1e-5 / atol 1e-5 because the
expectations are deliberately computed differently (other formulas, often in
f64, sums in another order), which costs a few f32 ulps per op and, for sums
of ~60 values in [-2, 2], absolute error near 1e-5 when the sum is near 0.
f64 gets 1e-10 for the same reasons at f64 precision; ints, bools and host
values must match exactly.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

from netjit.backends.base import DictStateStore
from netjit.backends.reference import evaluate
from netjit.compiler import ops as O
from netjit.compiler.ir import Graph
from netjit.compiler.ops import OP_REGISTRY, ConstValue, InferError, OpKind, Sample, TensorType

#: Ops tested by a dedicated harness below instead of through samples().
HARNESSED = {"Placeholder": "fed through a graph", "FusedElementwise": "hand-built programs",
             "Recv": "paired with a Send through a rendezvous"}
TOL = {np.dtype(np.float32): dict(rtol=1e-5, atol=1e-5), np.dtype(np.float64): dict(rtol=1e-10, atol=1e-10)}


def _fused_samples() -> list[Sample]:
    """FusedElementwise has no samples() of its own: the fusion pass builds it."""
    rng = np.random.default_rng(7)
    a, b = rng.uniform(-2, 2, (3, 4)).astype(np.float32), rng.uniform(-2, 2, (4,)).astype(np.float32)
    c = rng.uniform(-2, 2, (3, 1))  # f64: promotion inside the program
    tanh_mul_add = O.FusedElementwise(((O.Mul(), (0, 1)), (O.Tanh(), (3,)), (O.Add(), (4, 2))), 3, (5,))
    two_outputs = O.FusedElementwise(((O.Sub(), (0, 1)), (O.GT(), (2, 1)), (O.Where(), (3, 0, 1)),
                                      (O.Cast(np.dtype(np.int32)), (4,))), 2, (5, 2))
    return [
        Sample(tanh_mul_add, (a, b, c), lambda a, b, c: np.tanh(a * b) + c),  # tanh in f32, add in f64
        Sample(two_outputs, (a, b), lambda a, b: (np.trunc(np.where(a - b > b, a, b)).astype(np.int32), a - b)),
        Sample(O.FusedElementwise(((O.Neg(), (0,)),), 1, (0, 1)), (a,), lambda a: (a, -a)),
    ]


def _all_samples() -> list:
    out = []
    for name, cls in sorted(OP_REGISTRY.items()):
        samples = _fused_samples() if name == "FusedElementwise" else cls.samples()
        out += [pytest.param(s, id=f"{name}-{i}") for i, s in enumerate(samples)]
    return out


def run_reference(op, inputs, state=None, rendezvous=None) -> tuple:
    """Run ``op`` the way the reference backend does, for any kind of op."""
    if isinstance(op, O.StatefulOp):
        return op.reference_stateful(state if state is not None else DictStateStore(), *inputs)
    if hasattr(op, "reference_rendezvous"):
        return op.reference_rendezvous(rendezvous if rendezvous is not None else {}, *inputs)
    return op.reference(*inputs)


def assert_matches(got, want, what: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    if got.dtype == object or want.dtype == object:
        assert got.tolist() == want.tolist(), what
    elif got.dtype in TOL:
        np.testing.assert_allclose(got, want, err_msg=what, **TOL[got.dtype])
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


# -- the registry as a whole ------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OP_REGISTRY))
def test_every_op_has_samples_and_a_reference(name):
    cls = OP_REGISTRY[name]
    defines = {k for c in cls.__mro__ if c is not O.Op for k in vars(c)}
    assert defines & {"reference", "reference_stateful", "reference_rendezvous"}, f"{name} has no reference"
    if name in HARNESSED:
        return
    reason = cls.no_samples_reason
    assert cls.samples() or reason, f"{name} has no samples() and no no_samples_reason"


def test_samples_cover_every_dtype_and_host_strings():
    seen = {np.asarray(x).dtype for p in _all_samples() for x in p.values[0].inputs}
    assert {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.bool_, object)} <= seen


# -- per sample ---------------------------------------------------------------------
@pytest.mark.parametrize("sample", _all_samples())
def test_sample_inference_agrees_with_reference_and_expectation(sample, capsys):
    op, inputs = sample.op, tuple(sample.inputs)
    in_types = [TensorType.of(x) for x in inputs]
    inferred = op.infer(*in_types)
    state = DictStateStore()
    outs = run_reference(op, inputs, state)
    assert len(outs) == len(inferred) == op.num_outputs
    for i, (got, t) in enumerate(zip(outs, inferred)):
        # Static inputs give exact types, except from host ops running arbitrary Python.
        ok = t.accepts(TensorType.of(got)) if op.host else TensorType.of(got) == t
        assert ok, f"{op!r} output {i}: reference gives {TensorType.of(got)}, infer says {t}"
    expected = sample.expect(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(expected) == len(outs)
    for i, (got, want) in enumerate(zip(outs, expected)):
        assert_matches(got, want, f"{op!r} output {i}")
    if isinstance(op, (O.Assign, O.AssignAdd)):  # the new value is stored, not only returned
        assert_matches(state.values[op.key], outs[0], f"{op!r} stored value")


@pytest.mark.parametrize("sample", _all_samples())
def test_inference_with_dynamic_dims_accepts_the_actual_types(sample):
    op, inputs = sample.op, sample.inputs
    dynamic = [TensorType(np.asarray(x).dtype, (None,) * np.ndim(x)) for x in inputs]
    actual = [TensorType.of(y) for y in run_reference(op, inputs)] if not _needs_state(op) else \
        [TensorType.of(y) for y in run_reference(op, inputs, DictStateStore())]
    for t, got in zip(op.infer(*dynamic), actual):
        assert t.accepts(got), f"{op!r} with dynamic dims infers {t}, reference gives {got}"


def _needs_state(op) -> bool:
    return isinstance(op, O.StatefulOp)


@pytest.mark.parametrize("sample", [p for p in _all_samples() if p.values[0].op.kind is OpKind.ELEMENTWISE
                                    and getattr(p.values[0].op, "numpy_fn", None) is not None])
def test_elementwise_promotion_is_numpys(sample):
    """The dtype infer() promises is the one NumPy's own function returns."""
    op, inputs = sample.op, sample.inputs
    fn = type(op).numpy_fn
    numpy_dtype = np.asarray(functools.reduce(fn, inputs) if op.arity is None else fn(*inputs)).dtype
    assert op.infer(*(TensorType.of(x) for x in inputs))[0].dtype == numpy_dtype


# -- ops with their own harness ----------------------------------------------------
def test_placeholder_runs_only_when_fed():
    g = Graph("fed")
    x = g.add(O.Placeholder(np.dtype(np.float64), (None, 2)), names=["x"])
    y = g.add(O.Neg(), [(x, 0)])
    g.inputs, g.outputs = [x], [(x, 0), (y, 0)]
    assert g.types(x) == (TensorType(np.float64, (None, 2)),)
    value = np.arange(6.0).reshape(3, 2)
    got_x, got_y = evaluate(g, [value])
    assert got_x is value
    np.testing.assert_array_equal(got_y, -value)
    with pytest.raises(InferError, match="a Placeholder has no value unless fed"):
        O.Placeholder().reference()


def test_communication_ops_pass_values_through_a_rendezvous():
    comm = [c for c in OP_REGISTRY.values() if c.kind is OpKind.COMMUNICATION]
    if not comm:  # nothing to pair yet
        return
    send, recv = OP_REGISTRY["Send"], OP_REGISTRY["Recv"]
    rendezvous: dict = {}
    x = np.arange(4, dtype=np.int64)
    assert run_reference(send("k"), (x,), rendezvous=rendezvous) == ()
    (got,) = run_reference(recv("k", TensorType.of(x)), (), rendezvous=rendezvous)
    np.testing.assert_array_equal(got, x)
    with pytest.raises(InferError):
        run_reference(recv("missing", TensorType.of(x)), (), rendezvous=rendezvous)


def test_print_writes_the_blob_value(capsys):
    O.Print("b").reference(np.array([1.5], np.float32))
    O.Print("s").reference(np.array("hi", dtype=object))
    assert capsys.readouterr().out == "b: [1.5]\ns: hi\n"


def test_variable_reads_the_store_and_updates_chain():
    state = DictStateStore()
    init = ConstValue(np.array([1.0, 2.0], np.float32))
    var = O.Variable("v", init, "c")
    t = TensorType(np.float32, (2,))
    np.testing.assert_array_equal(run_reference(var, (), state)[0], [1, 2])
    run_reference(O.AssignAdd("v", t, "c", initial=init), (np.float32([10, 10]),), state)
    np.testing.assert_array_equal(run_reference(var, (), state)[0], [11, 12])
    run_reference(O.Assign("v", t, "c"), (np.float32([0, 5]),), state)
    np.testing.assert_array_equal(run_reference(var, (), state)[0], [0, 5])
    assert list(state.values) == [("c", "v")]


# -- inference errors ---------------------------------------------------------------
@pytest.mark.parametrize("op, types, message", [
    (O.Add(), [TensorType(np.float32, (3,)), TensorType(np.float32, (4,))], r"shapes \[3\] and \[4\] do not broadcast"),
    (O.MatMul(), [TensorType(np.float32, (2, 3)), TensorType(np.float32, (4, 2))], "inner dimensions differ"),
    (O.Where(), [TensorType(np.float32, (2,))] * 3, "condition must be bool"),
    (O.Softmax(), [TensorType(np.int32, (2,))], "expects a float input"),
    (O.ReduceSum(axes=(2,)), [TensorType(np.float32, (2, 2))], "axis 2 is out of range for rank 2"),
    (O.Reshape((4, 4)), [TensorType(np.float32, (3, 5))], r"cannot reshape \[3, 5\] to \[4, 4\]"),
    (O.Concat(axis=0), [TensorType(np.float32, (2,)), TensorType(np.int32, (2,))], "different dtypes"),
    (O.Neg(), [TensorType(np.bool_, (2,))], "does not accept dtype bool"),
    (O.Exp(), [TensorType(np.float32, (2,))] * 2, "expects 1 inputs, got 2"),
])
def test_inference_errors_say_what_is_wrong(op, types, message):
    with pytest.raises(InferError, match=message):
        op.infer(*types)


def test_elementwise_reference_dtype_memo_keeps_errors_and_attributes_apart():
    """``result_dtype`` memoises per op and input dtypes: rejections are not memoised,
    and ops differing only in class or attributes get their own answers."""
    for _ in range(2):
        with pytest.raises(InferError, match="does not accept dtype bool"):
            O.Tanh().reference(np.array([True, False]))
    f32, i32 = np.ones(2, np.float32), np.ones(2, np.int32)
    assert O.Add().reference(f32, f32)[0].dtype == np.float32
    assert O.Add().reference(i32, i32)[0].dtype == np.int32
    assert O.Add().reference(i32, f32)[0].dtype == np.float64
    assert O.Sub().result_dtype(f32, f32) == np.float32
    assert O.LT().reference(f32, f32)[0].dtype == np.bool_


def test_nary_sum_computes_in_its_result_dtype_on_both_backends():
    """Sum([i32 max, i32 1, i64 0]) is 2**31: the reference used to add the int32 operands
    first (overflowing) while the numba backend converted every operand first."""
    import netjit as nj
    net = nj.Net("nary")
    a, b = net.Placeholder("a", np.int32, (2,)), net.Placeholder("b", np.int32, (2,))
    c = net.Placeholder("c", np.int64, (2,))
    net.Sum([a, b, c], "s")
    f, g = net.Placeholder("f", np.float32, (2,)), net.Placeholder("g", np.float64, (2,))
    net.Sum([f, f, g], "t")
    values = [np.array([2 ** 31 - 1, 5], np.int32), np.array([1, 6], np.int32), np.array([0, 7], np.int64),
              np.array([3e38, 1], np.float32), np.array([0, 0], np.float64)]
    for backend in ("reference", "numba"):
        s, t = nj.compile(net, ["s", "t"], ["a", "b", "c", "f", "g"], backend=backend, tiered=False)(*values)
        np.testing.assert_array_equal(s, [2 ** 31, 18])
        np.testing.assert_allclose(t, [6e38, 2], rtol=1e-7)


def test_edge_values_agree_on_both_backends():
    """A max over nothing is -inf (TensorFlow, ONNX; NumPy raises), an FC of no rows is
    empty, and the sigmoid of int32's minimum is 0 (not 1 from negating in int32)."""
    import netjit as nj
    net = nj.Net("edges")
    x = net.Placeholder("x", np.float32, (None, None))
    net.ReduceMax(x, "mx", axes=(-1,), keepdims=False)
    net.ReduceMin(x, "mn", axes=(-1,), keepdims=False)
    r = net.Placeholder("r", np.float32, (None, 3))
    net.FC([r, net.Const(np.ones((2, 3), np.float32)), net.Const(np.zeros(2, np.float32))], "fc")
    i = net.Placeholder("i", np.int32, (None,))
    net.Sigmoid(i, "sig")
    values = [np.zeros((2, 0), np.float32), np.zeros((0, 3), np.float32),
              np.array([np.iinfo(np.int32).min, 3], np.int32)]
    for backend in ("reference", "numba"):
        mx, mn, fc, sig = nj.compile(net, ["mx", "mn", "fc", "sig"], ["x", "r", "i"], backend=backend,
                                     tiered=False)(*values)
        np.testing.assert_array_equal(mx, [-np.inf, -np.inf])
        np.testing.assert_array_equal(mn, [np.inf, np.inf])
        assert fc.shape == (0, 2)
        np.testing.assert_allclose(sig, [0.0, 1 / (1 + np.exp(-3.0))], rtol=1e-7)
