"""Elementwise ops: out[i] = f(inputs[i]...) under NumPy broadcasting.

Each op gives ``numpy_fn`` (its reference). How a backend computes one
element is the backend's business (the numba backend's scalar forms are in
``backends/numba/lowering/elementwise.py``).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .types import (DTYPES, FLOAT_DTYPES, NUMERIC_DTYPES, TensorType, as_dtype,
                    broadcast_shapes, promote)

_F32, _F64, _I32, _I64, _BOOL = (DTYPES[k] for k in ("f32", "f64", "i32", "i64", "bool"))
_rng = np.random.default_rng(1234)
#: (op class, op, input dtypes) -> result dtype, for ``Elementwise.result_dtype``
_RESULT_DTYPES: dict = {}


def _rand(shape, dtype=np.float32, low=-2.0, high=2.0):
    if np.dtype(dtype).kind == "f":
        return _rng.uniform(low, high, shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return _rng.integers(0, 2, shape).astype(bool)
    return _rng.integers(int(np.floor(low)), int(np.ceil(high)) + 1, shape).astype(dtype)


class Elementwise(Op):
    """Shared inference: broadcast the shapes, promote the dtypes."""

    kind: ClassVar[OpKind] = OpKind.ELEMENTWISE
    numpy_fn: ClassVar = None
    #: Allowed input dtypes.
    accepts: ClassVar[frozenset] = NUMERIC_DTYPES

    def out_dtype(self, *dtypes):
        return promote(*dtypes)

    def infer(self, *inputs: TensorType) -> tuple[TensorType, ...]:
        self.check_arity(len(inputs))
        for t in inputs:
            if t.dtype not in self.accepts:
                raise InferError(f"does not accept dtype {t.dtype}")
        try:
            shape = broadcast_shapes(*(t.shape for t in inputs))
        except ValueError as exc:
            raise InferError(str(exc)) from None
        return (TensorType(self.out_dtype(*(t.dtype for t in inputs)), shape),)

    def reference(self, *inputs):
        out = type(self).numpy_fn(*inputs)
        return (np.asarray(out).astype(self.result_dtype(*inputs), copy=False),)

    def result_dtype(self, *values) -> np.dtype:
        """The dtype ``infer`` gives an op over ``values`` (NumPy already broadcast them).

        Memoised per op and input dtypes: the reference backend asks on every
        call of every op, and building the types cost more than the op on
        small arrays (a 200-op chain on 1024 floats ran 2.6 -> ~1 ms).
        """
        dtypes = tuple(np.asarray(v).dtype for v in values)
        key = (type(self), self, dtypes)
        try:
            return _RESULT_DTYPES[key]
        except KeyError:
            pass
        except TypeError:      # an op with an unhashable attribute: no memo
            key = None
        dtype = self.infer(*(TensorType(d, ()) for d in dtypes))[0].dtype
        if key is not None and len(_RESULT_DTYPES) < 4096:
            _RESULT_DTYPES[key] = dtype
        return dtype


class Unary(Elementwise):
    arity: ClassVar[int] = 1


class UnaryKeep(Unary):
    """Unary op whose output dtype is its input dtype."""

    def out_dtype(self, dtype):
        return dtype


class UnaryFloat(Unary):
    """Transcendental op: float stays float, ints compute in f64 (as NumPy)."""

    def out_dtype(self, dtype):
        return dtype if dtype in FLOAT_DTYPES else _F64

    def reference(self, x):
        # an int operand becomes float first: -x of int32's minimum wraps in int32
        dt = self.result_dtype(x)
        return (np.asarray(type(self).numpy_fn(np.asarray(x).astype(dt, copy=False))).astype(dt, copy=False),)


class Binary(Elementwise):
    arity: ClassVar[int] = 2


class Compare(Binary):
    accepts: ClassVar[frozenset] = NUMERIC_DTYPES | {_BOOL}

    def out_dtype(self, *dtypes):
        return _BOOL


def _unary_samples(cls, fn, low=-2.0, high=2.0, ints=True):
    out = [Sample(cls(), (_rand((3, 4), np.float32, low, high),), fn),
           Sample(cls(), (_rand((5,), np.float64, low, high),), fn)]
    if ints:
        out.append(Sample(cls(), (_rand((2, 3), np.int64, max(low, 1), high),), fn))
    return out


def _binary_samples(cls, fn, ints=True, low=-2.0, high=2.0):
    out = [Sample(cls(), (_rand((3, 4), np.float32, low, high), _rand((3, 4), np.float32, low, high)), fn),
           Sample(cls(), (_rand((2, 1, 4), np.float32, low, high), _rand((3, 1), np.float32, low, high)), fn),
           Sample(cls(), (_rand((4,), np.float32, low, high), _rand((4,), np.float64, low, high)), fn)]
    if ints:
        out.append(Sample(cls(), (_rand((3,), np.int32, low, high), _rand((2, 3), np.int64, low, high)), fn))
        out.append(Sample(cls(), (_rand((3,), np.int32, low, high), _rand((3,), np.float32, low, high)), fn))
    return out


@register_op
class Copy(UnaryKeep):
    """Identity; also copies host values (strings)."""

    numpy_fn: ClassVar = staticmethod(np.copy)
    accepts: ClassVar[frozenset] = NUMERIC_DTYPES | {_BOOL, DTYPES["str"]}

    def reference(self, x):
        return (np.array(x, copy=True),)

    @classmethod
    def samples(cls):
        return _unary_samples(cls, lambda x: x.copy()) + [
            Sample(cls(), (np.array([True, False]),), lambda x: x.copy()),
            Sample(cls(), (np.array("hello", dtype=object),), lambda x: x.copy())]


@register_op
class Neg(UnaryKeep):
    numpy_fn: ClassVar = staticmethod(np.negative)

    @classmethod
    def samples(cls):
        return _unary_samples(cls, lambda x: 0 - x)


@register_op
class Abs(UnaryKeep):
    numpy_fn: ClassVar = staticmethod(np.abs)

    @classmethod
    def samples(cls):
        return _unary_samples(cls, lambda x: np.where(x < 0, -x, x))


@register_op
class Relu(UnaryKeep):
    numpy_fn: ClassVar = staticmethod(lambda x: np.maximum(x, 0))

    @classmethod
    def samples(cls):
        return _unary_samples(cls, lambda x: np.where(x > 0, x, 0).astype(x.dtype))


@register_op
class Exp(UnaryFloat):
    numpy_fn: ClassVar = staticmethod(np.exp)

    @classmethod
    def samples(cls):
        return _unary_samples(cls, lambda x: np.e ** x)


@register_op
class Log(UnaryFloat):
    numpy_fn: ClassVar = staticmethod(np.log)

    @classmethod
    def samples(cls):
        return _unary_samples(cls, lambda x: np.log2(x) / np.log2(np.e), low=0.1, high=5.0)


@register_op
class Sqrt(UnaryFloat):
    numpy_fn: ClassVar = staticmethod(np.sqrt)

    @classmethod
    def samples(cls):
        return _unary_samples(cls, lambda x: x ** 0.5, low=0.0, high=9.0)


@register_op
class Tanh(UnaryFloat):
    numpy_fn: ClassVar = staticmethod(np.tanh)

    @classmethod
    def samples(cls):
        return _unary_samples(cls, lambda x: (np.exp(2.0 * x) - 1) / (np.exp(2.0 * x) + 1))


@register_op
class Sigmoid(UnaryFloat):
    numpy_fn: ClassVar = staticmethod(lambda x: 1.0 / (1.0 + np.exp(-x)))

    @classmethod
    def samples(cls):
        return _unary_samples(cls, lambda x: 0.5 * (1 + np.tanh(0.5 * np.asarray(x, np.float64))))


@register_op
class Add(Binary):
    commutative: ClassVar[bool] = True
    identity: ClassVar[float] = 0
    numpy_fn: ClassVar = staticmethod(np.add)

    @classmethod
    def samples(cls):
        return _binary_samples(cls, lambda a, b: a + b)


@register_op
class Sub(Binary):
    identity: ClassVar[float] = 0
    numpy_fn: ClassVar = staticmethod(np.subtract)

    @classmethod
    def samples(cls):
        return _binary_samples(cls, lambda a, b: a + (-b))


@register_op
class Mul(Binary):
    commutative: ClassVar[bool] = True
    identity: ClassVar[float] = 1
    numpy_fn: ClassVar = staticmethod(np.multiply)

    @classmethod
    def samples(cls):
        return _binary_samples(cls, lambda a, b: a * b)


@register_op
class Div(Binary):
    """True division, as NumPy: integer inputs give float64."""

    identity: ClassVar[float] = 1
    numpy_fn: ClassVar = staticmethod(np.true_divide)

    def out_dtype(self, *dtypes):
        dt = promote(*dtypes)
        return dt if dt in FLOAT_DTYPES else _F64

    @classmethod
    def samples(cls):
        return _binary_samples(cls, lambda a, b: a * (1.0 / np.asarray(b, np.float64)),
                               ints=False, low=0.5, high=3.0)


@register_op
class Pow(Binary):
    identity: ClassVar[float] = 1
    numpy_fn: ClassVar = staticmethod(np.power)

    @classmethod
    def samples(cls):
        return _binary_samples(cls, lambda a, b: np.exp(np.log(np.asarray(a, np.float64)) * b),
                               ints=False, low=0.5, high=2.0)


class _Extremum(Elementwise):
    """Caffe2's Max/Min: elementwise over one or more inputs."""

    arity: ClassVar = None
    commutative: ClassVar[bool] = True

    def reference(self, *inputs):
        # every operand in the result dtype first: Sum([i32 max, i32 1, i64 0]) is 2**31, not
        # an int32 overflow of its first two operands (and the code generators agree)
        dt = self.result_dtype(*inputs)
        out = np.asarray(inputs[0]).astype(dt, copy=False)
        for x in inputs[1:]:
            out = type(self).numpy_fn(out, np.asarray(x).astype(dt, copy=False))
        return (np.asarray(out).astype(dt, copy=False),)


@register_op
class Max(_Extremum):
    numpy_fn: ClassVar = staticmethod(np.maximum)

    @classmethod
    def samples(cls):
        a, b, c = (_rand((3, 4)) for _ in range(3))
        return _binary_samples(cls, lambda a, b: np.where(a > b, a, b)) + [
            Sample(cls(), (a, b, c), lambda a, b, c: np.sort(np.stack([a, b, c]), axis=0)[-1])]


@register_op
class Min(_Extremum):
    numpy_fn: ClassVar = staticmethod(np.minimum)

    @classmethod
    def samples(cls):
        a, b, c = (_rand((3, 4)) for _ in range(3))
        return _binary_samples(cls, lambda a, b: np.where(a < b, a, b)) + [
            Sample(cls(), (a, b, c), lambda a, b, c: np.sort(np.stack([a, b, c]), axis=0)[0])]


@register_op
class Sum(_Extremum):
    """Caffe2's n-ary Sum."""

    identity: ClassVar[float] = 0
    numpy_fn: ClassVar = staticmethod(np.add)

    @classmethod
    def samples(cls):
        a, b, c = _rand((3, 4)), _rand((4,)), _rand((3, 1))
        return [Sample(cls(), (a,), lambda a: a.copy()),
                Sample(cls(), (a, b, c), lambda a, b, c: np.add(np.add(a, b), c))]


def _compare(name, symbol, fn, expect):
    cls = type(name, (Compare,), {
        "numpy_fn": staticmethod(fn),
        "samples": classmethod(lambda c: _binary_samples(c, expect)),
        "__module__": __name__, "__qualname__": name,
        "__doc__": f"Elementwise comparison (a {symbol} b), giving bool.",
    })
    return register_op(cls)


LT = _compare("LT", "<", np.less, lambda a, b: ~(a >= b))
LE = _compare("LE", "<=", np.less_equal, lambda a, b: ~(a > b))
GT = _compare("GT", ">", np.greater, lambda a, b: ~(a <= b))
GE = _compare("GE", ">=", np.greater_equal, lambda a, b: ~(a < b))
EQ = _compare("EQ", "==", np.equal, lambda a, b: ~(a != b))


@register_op
class Where(Elementwise):
    """Where(cond, a, b): a where cond is true, else b."""

    arity: ClassVar[int] = 3
    accepts: ClassVar[frozenset] = NUMERIC_DTYPES | {_BOOL}
    numpy_fn: ClassVar = staticmethod(np.where)

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        if inputs[0].dtype != _BOOL:
            raise InferError(f"condition must be bool, got {inputs[0].dtype}")
        try:
            shape = broadcast_shapes(*(t.shape for t in inputs))
        except ValueError as exc:
            raise InferError(str(exc)) from None
        return (TensorType(promote(inputs[1].dtype, inputs[2].dtype), shape),)

    @classmethod
    def samples(cls):
        c = _rand((3, 4), bool)
        a, b = _rand((3, 4)), _rand((4,))
        return [Sample(cls(), (c, a, b), lambda c, a, b: c * a + (~c) * b),
                Sample(cls(), (c[:1], _rand((3, 4), np.int64), _rand((3, 1), np.float64)),
                       lambda c, a, b: c * a + (~c) * b)]


@register_op
class Cast(Unary):
    """Cast to ``dtype`` (NumPy ``astype`` semantics)."""

    dtype: np.dtype = _F32
    accepts: ClassVar[frozenset] = NUMERIC_DTYPES | {_BOOL}

    def __post_init__(self):
        object.__setattr__(self, "dtype", as_dtype(self.dtype))

    def out_dtype(self, dtype):
        return self.dtype

    def reference(self, x):
        return (np.asarray(x).astype(self.dtype),)

    @classmethod
    def samples(cls):
        return [Sample(cls(_I32), (_rand((3, 4), np.float32, -9, 9),), lambda x: np.trunc(x).astype(np.int32)),
                Sample(cls(_F64), (_rand((5,), np.int64),), lambda x: x * 1.0),
                Sample(cls(_BOOL), (_rand((5,), np.float32),), lambda x: x != 0),
                Sample(cls(_F32), (_rand((2, 2), bool),), lambda x: np.where(x, 1.0, 0.0).astype(np.float32))]
