"""Einsum: NumPy/ONNX Einstein summation over one equation ("bij,bjk->bik").

Letters name axes; a letter missing from the output is summed over; a letter
repeated in one operand takes its diagonal; "..." stands for broadcast
leading axes. Without "->" the output is "..." and then every letter used
once, in alphabetical order.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import NUMERIC_DTYPES, TensorType, broadcast_shapes, promote


def parse_equation(equation: str, n_inputs: int) -> tuple[list[str], str]:
    """(input terms, output term), the implicit output spelled out; InferError if malformed."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != n_inputs:
        raise InferError(f"equation {equation!r} has {len(terms)} operands, got {n_inputs} inputs")
    for term in terms + ([rhs] if arrow else []):
        letters = term.replace("...", "")
        if not all(ch.isalpha() for ch in letters) or term.count("...") > 1:
            raise InferError(f"equation {equation!r}: bad term {term!r}")
    if not arrow:
        once = sorted(ch for ch in set(lhs) if ch.isalpha() and lhs.count(ch) == 1)
        rhs = ("..." if "..." in lhs else "") + "".join(once)
    return terms, rhs


def _term_dims(term: str, shape: tuple) -> tuple[dict, tuple]:
    """The dims each letter of ``term`` has in ``shape``, and the dims "..." covers."""
    head, dots, tail = term.partition("...")
    n_ell = len(shape) - len(head) - len(tail)
    if n_ell < 0 or (not dots and n_ell):
        raise InferError(f"term {term!r} does not fit a rank-{len(shape)} operand")
    dims: dict = {}
    for ch, d in zip(head + tail, shape[:len(head)] + shape[len(shape) - len(tail):]):
        if dims.get(ch) is not None and d is not None and dims[ch] != d:
            raise InferError(f"axis {ch!r} is {dims[ch]} and {d} in one operand")
        dims[ch] = d if dims.get(ch) is None else dims[ch]
    return dims, tuple(shape[len(head):len(head) + n_ell])


@register_op
class Einsum(Op):
    """np.einsum(``equation``, *inputs)."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    equation: str = ""

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        for t in inputs:
            if t.dtype not in NUMERIC_DTYPES:
                raise InferError(f"does not accept dtype {t.dtype}")
        terms, out = parse_equation(self.equation, len(inputs))
        dtype = promote(*(t.dtype for t in inputs))
        if any(t.shape is None for t in inputs):
            return (TensorType(dtype, None),)
        sizes: dict = {}
        ellipses = []
        for term, t in zip(terms, inputs):
            dims, ell = _term_dims(term, t.shape)
            ellipses.append(ell)
            for ch, d in dims.items():
                if sizes.get(ch) is not None and d is not None and sizes[ch] != d:
                    raise InferError(f"axis {ch!r} is {sizes[ch]} in one operand and {d} in another")
                sizes[ch] = d if sizes.get(ch) is None else sizes[ch]
        try:
            ell = broadcast_shapes(*ellipses)
        except ValueError as exc:
            raise InferError(f"the '...' axes: {exc}") from None
        if any(ch not in sizes for ch in out.replace("...", "")):
            raise InferError(f"equation {self.equation!r}: an output letter is in no operand")
        head, _, tail = out.partition("...")
        shape = tuple(sizes[ch] for ch in head) + (ell if "..." in out else ()) + tuple(sizes[ch] for ch in tail)
        return (TensorType(dtype, shape),)

    def reference(self, *inputs):
        dtype = self.infer(*(TensorType.of(x) for x in inputs))[0].dtype
        return (np.asarray(np.einsum(self.equation, *(x.astype(dtype, copy=False) for x in inputs))),)

    @classmethod
    def samples(cls):
        return [Sample(cls("ij,jk->ik"), (_rand((3, 4)), _rand((4, 2))), _loop_einsum("ij,jk->ik")),
                Sample(cls("bij,bjk->bik"), (_rand((2, 3, 4)), _rand((2, 4, 2))), _loop_einsum("bij,bjk->bik")),
                Sample(cls("ij->ji"), (_rand((2, 3), np.int64),), _loop_einsum("ij->ji")),
                Sample(cls("ij->i"), (_rand((3, 4), np.float64),), _loop_einsum("ij->i")),
                Sample(cls("ii->i"), (_rand((3, 3)),), _loop_einsum("ii->i")),
                Sample(cls("i,i"), (_rand((5,)), _rand((5,))), _loop_einsum("i,i->"))]


def _loop_einsum(equation: str):
    """An independent expectation: sum products over every assignment of the letters (no "...")."""
    def expect(*xs):
        lhs, out = equation.split("->")
        terms = lhs.split(",")
        sizes = {ch: x.shape[i] for term, x in zip(terms, xs) for i, ch in enumerate(term)}
        letters = sorted(sizes)
        y = np.zeros(tuple(sizes[ch] for ch in out), np.result_type(*xs))
        for values in np.ndindex(*(sizes[ch] for ch in letters)):
            at = dict(zip(letters, values))
            prod = 1
            for term, x in zip(terms, xs):
                prod = prod * x[tuple(at[ch] for ch in term)]
            y[tuple(at[ch] for ch in out)] += prod
        return y
    return expect
