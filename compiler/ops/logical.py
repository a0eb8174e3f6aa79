"""Logical ops on bool tensors (Caffe2's Not, And, Or): NetBuilder's If/Elif/Else use them."""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Sample, register_op
from .elementwise import Binary, UnaryKeep
from .types import DTYPES

_BOOL = DTYPES["bool"]
_rng = np.random.default_rng(4321)


def _bools(shape):
    return _rng.integers(0, 2, shape).astype(bool)


@register_op
class Not(UnaryKeep):
    """Logical negation of a bool tensor."""

    accepts: ClassVar[frozenset] = frozenset({_BOOL})
    numpy_fn: ClassVar = staticmethod(np.logical_not)

    @classmethod
    def samples(cls):
        return [Sample(cls(), (_bools((3, 4)),), lambda x: x == False),  # noqa: E712
                Sample(cls(), (np.array(True),), lambda x: np.array(False))]


class _Logical(Binary):
    accepts: ClassVar[frozenset] = frozenset({_BOOL})
    commutative: ClassVar[bool] = True

    def out_dtype(self, *dtypes):
        return _BOOL


@register_op
class And(_Logical):
    """Elementwise logical and of two bool tensors (broadcasting)."""

    numpy_fn: ClassVar = staticmethod(np.logical_and)

    @classmethod
    def samples(cls):
        a, b = _bools((3, 4)), _bools((4,))
        return [Sample(cls(), (a, b), lambda a, b: (a.astype(int) * b.astype(int)) == 1)]


@register_op
class Or(_Logical):
    """Elementwise logical or of two bool tensors (broadcasting)."""

    numpy_fn: ClassVar = staticmethod(np.logical_or)

    @classmethod
    def samples(cls):
        a, b = _bools((3, 4)), _bools((3, 1))
        return [Sample(cls(), (a, b), lambda a, b: (a.astype(int) + b.astype(int)) > 0)]
