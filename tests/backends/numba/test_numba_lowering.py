"""The numba lowering package (backends/numba/lowering): the scalar-form table, statement rows, compiled_ops."""

import numpy as np
import pytest

from netjit.backends.numba.lowering import SCALAR_FORMS, compiled_ops, lower_stmt, scalar_expr
from netjit.backends.numba.lowering.elementwise import has_scalar_form, register_scalar_form
from netjit.compiler.ops import PackedMatMul
from netjit.compiler.ops import (OP_REGISTRY, Add, Exp, FusedElementwise, LT, OpKind, Pow, Relu,
                                 Softmax)
from netjit.compiler.ops import elementwise as E

F32, F64, I32, I64 = (np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64))


class _Ctx:
    """A ScalarContext: constants print as ``K(value)``; ``n`` is known nonpositive."""

    def __init__(self, fastmath=1, literals=None):
        self.fastmath, self.literals = fastmath, literals or {}

    def const(self, value, dtype):
        return f"K({value})"

    def literal_of(self, arg):
        return self.literals.get(arg)

    def is_nonpositive(self, arg):
        return arg == "n"


#: The elementwise ops of netjit's first op set; the ONNX families' run on the reference
#: backend until they get a row (``compiled_ops`` lists what has one).
CORE_ELEMENTWISE = ("Abs", "Add", "And", "Cast", "Copy", "Div", "EQ", "Exp", "GE", "GT", "LE", "LT", "Log", "Max",
                    "Min", "Mul", "Neg", "Not", "Or", "Pow", "Relu", "Sigmoid", "Sqrt", "Sub", "Sum", "Tanh", "Where")


def test_every_core_elementwise_op_has_a_row_in_the_table():
    assert all(OP_REGISTRY[n] in SCALAR_FORMS for n in CORE_ELEMENTWISE)


def test_an_elementwise_op_without_a_row_is_not_listed_as_compiled():
    missing = {c for c in OP_REGISTRY.values() if c.kind is OpKind.ELEMENTWISE and not has_scalar_form(c)}
    assert missing and not missing & compiled_ops()


def test_the_ir_ops_carry_no_numba_source():
    assert not hasattr(E.Elementwise, "scalar_expr") and not hasattr(E.Add, "scalar")


def test_compiled_ops_lists_lowered_ops_and_not_host_or_expanded_ones():
    ops = compiled_ops()
    assert {Add, Exp, LT, FusedElementwise, PackedMatMul} <= ops
    assert {OP_REGISTRY[n] for n in ("ReduceSum", "MatMul", "Reshape", "Concat", "Slice")} <= ops
    assert not ops & {OP_REGISTRY[n] for n in ("Print", "Python", "Placeholder", "Const")}
    assert Softmax not in ops          # expanded into ops that are listed
    assert all(has_scalar_form(c) or lower_stmt.dispatch(c) is not lower_stmt.dispatch(object)
               for c in ops - {FusedElementwise})


@pytest.mark.parametrize("op, in_dtypes, out, ctx, expected", [
    (Add(), [F32, F32], F32, _Ctx(), "(a + b)"),
    (Add(), [I32, I64], I64, _Ctx(), "np.int64((np.int64(a) + b))"),
    (LT(), [I32, F32], np.dtype(bool), _Ctx(), "(a < b)"),
    (Relu(), [F32], F32, _Ctx(), "np.maximum(a, K(0))"),
    (Exp(), [F32], F32, _Ctx(fastmath=1), "fexp(a)"),
    (Exp(), [F32], F32, _Ctx(fastmath=0), "np.float32(math.exp(a))"),
    (Exp(), [F64], F64, _Ctx(fastmath=1), "np.float64(math.exp(a))"),
    (E.Max(), [F32, F32, F64], F64, _Ctx(), "np.maximum(np.maximum(np.float64(a), np.float64(b)), c)"),
    (E.Cast(np.dtype(bool)), [F32], np.dtype(bool), _Ctx(), "(a != 0)"),
    (Pow(), [F32, F32], F32, _Ctx(literals={"b": 2.0}), "np.float32((a * a))"),
])
def test_scalar_forms(op, in_dtypes, out, ctx, expected):
    args = ["a", "b", "c"][:len(in_dtypes)]
    assert scalar_expr(op, args, in_dtypes, out, ctx) == expected


def test_exp_of_a_nonpositive_value_skips_the_overflow_check():
    assert scalar_expr(Exp(), ["n"], [F32], F32, _Ctx()) == "fexp_capped(n)"


class _Cube(E.UnaryKeep):
    """A plugin's op: it registers its numba form."""


register_scalar_form(_Cube, "({0} * {0} * {0})")


class _NoForm(E.UnaryKeep):
    pass


def test_an_op_from_outside_netjit_lowers_from_its_registered_form_or_not_at_all():
    assert scalar_expr(_Cube(), ["a"], [I32], I64, _Ctx()) == "np.int64((np.int64(a) * np.int64(a) * np.int64(a)))"
    assert has_scalar_form(_Cube) and not has_scalar_form(_NoForm)
    with pytest.raises(NotImplementedError, match="_NoForm"):
        scalar_expr(_NoForm(), ["a"], [F32], F32, _Ctx())
