"""Shape ops: they move or view data and compute nothing."""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .types import TensorType


class ShapeOp(Op):
    kind: ClassVar[OpKind] = OpKind.SHAPE


def _ints(value):
    return None if value is None else tuple(int(v) for v in value)


@register_op
class Reshape(ShapeOp):
    """Reshape to ``shape``; 0 copies the input's dim there, one -1 is inferred (ONNX/Caffe2)."""

    shape: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "shape", _ints(self.shape))
        if sum(d == -1 for d in self.shape) > 1:
            raise InferError("at most one -1 in a Reshape shape")
        if any(d < -1 for d in self.shape):
            raise InferError(f"bad dim in Reshape shape {self.shape}")

    def out_shape(self, in_shape):
        dims = []
        for i, d in enumerate(self.shape):
            if d == 0:
                if i >= len(in_shape):
                    raise InferError(f"0 at position {i} but input has rank {len(in_shape)}")
                dims.append(in_shape[i])
            else:
                dims.append(d)
        if -1 in dims:
            known = [d for d in dims if d != -1]
            if None in known or None in in_shape:
                return tuple(None if d == -1 else d for d in dims)
            total, rest = int(np.prod(in_shape)), int(np.prod(known))
            if rest == 0 or total % rest:
                raise InferError(f"cannot reshape {list(in_shape)} to {list(self.shape)}")
            dims[dims.index(-1)] = total // rest
        elif None not in dims and None not in in_shape and int(np.prod(dims)) != int(np.prod(in_shape)):
            raise InferError(f"cannot reshape {list(in_shape)} to {list(self.shape)}")
        return tuple(dims)

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, tuple(None if d in (0, -1) else d for d in self.shape)),)
        return (TensorType(t.dtype, self.out_shape(t.shape)),)

    def reference(self, x):
        try:
            return (np.reshape(x, self.out_shape(x.shape)),)
        except InferError as exc:
            raise ValueError(str(exc)) from None

    @classmethod
    def samples(cls):
        x = _rand((2, 3, 4))
        return [Sample(cls((6, 4)), (x,), lambda x: np.array(x.ravel().tolist(), x.dtype).reshape(6, 4)),
                Sample(cls((0, -1)), (x,), lambda x: x.reshape(2, 12)),
                Sample(cls((-1,)), (x,), lambda x: x.ravel())]


@register_op
class Transpose(ShapeOp):
    """Permute axes; ``perm`` None reverses them (NumPy/ONNX default)."""

    perm: Optional[tuple] = None

    def __post_init__(self):
        object.__setattr__(self, "perm", _ints(self.perm))

    def full_perm(self, rank):
        perm = tuple(reversed(range(rank))) if self.perm is None else self.perm
        if sorted(perm) != list(range(rank)):
            raise InferError(f"perm {perm} is not a permutation of rank {rank}")
        return perm

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, None if self.perm is None else (None,) * len(self.perm)),)
        perm = self.full_perm(len(t.shape))
        return (TensorType(t.dtype, tuple(t.shape[p] for p in perm)),)

    def reference(self, x):
        return (np.transpose(x, self.full_perm(x.ndim)),)

    @classmethod
    def samples(cls):
        x = _rand((2, 3, 4))
        return [Sample(cls(), (x,), lambda x: np.einsum("abc->cba", x)),
                Sample(cls((1, 0, 2)), (x,), lambda x: np.einsum("abc->bac", x))]


@register_op
class Concat(ShapeOp):
    """Join inputs along ``axis``."""

    arity: ClassVar = None
    axis: int = 0

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        dtypes = {t.dtype for t in inputs}
        if len(dtypes) != 1:
            raise InferError(f"inputs have different dtypes {sorted(map(str, dtypes))}")
        shapes = [t.shape for t in inputs if t.shape is not None]
        if not shapes:
            return (TensorType(inputs[0].dtype, None),)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise InferError("inputs have different ranks")
        (axis,) = normalize_axes((self.axis,), rank)
        out = []
        for i in range(rank):
            dims = [s[i] for s in shapes]
            if i == axis:
                out.append(None if None in dims or len(shapes) < len(inputs) else sum(dims))
            else:
                known = {d for d in dims if d is not None}
                if len(known) > 1:
                    raise InferError(f"dim {i} differs between inputs: {sorted(known)}")
                out.append(known.pop() if known else None)
        return (TensorType(inputs[0].dtype, tuple(out)),)

    def reference(self, *xs):
        return (np.concatenate(xs, axis=self.axis),)

    @classmethod
    def samples(cls):
        a, b = _rand((2, 3)), _rand((2, 1))
        return [Sample(cls(axis=1), (a, b), lambda a, b: np.block([a, b])),
                Sample(cls(axis=0), (a, a, a), lambda a, b, c: np.vstack([a, b, c]))]


@register_op
class Split(ShapeOp):
    """Split along ``axis`` into ``split`` sizes, or ``num`` equal parts."""

    axis: int = 0
    split: Optional[tuple] = None
    num: int = 2

    def __post_init__(self):
        object.__setattr__(self, "split", _ints(self.split))
        if self.split is not None:
            object.__setattr__(self, "num", len(self.split))
        if self.num < 1:
            raise InferError(f"num must be >= 1, got {self.num}")

    @property
    def num_outputs(self) -> int:
        return self.num

    def sizes(self, dim):
        if self.split is not None:
            if dim is not None and sum(self.split) != dim:
                raise InferError(f"split {self.split} does not add up to dim {dim}")
            return self.split
        if dim is None:
            return (None,) * self.num
        if dim % self.num:
            raise InferError(f"dim {dim} does not split into {self.num} equal parts")
        return (dim // self.num,) * self.num

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, None),) * self.num
        (axis,) = normalize_axes((self.axis,), len(t.shape))
        return tuple(TensorType(t.dtype, t.shape[:axis] + (s,) + t.shape[axis + 1:])
                     for s in self.sizes(t.shape[axis]))

    def reference(self, x):
        axis = self.axis % x.ndim
        bounds = np.cumsum(self.sizes(x.shape[axis]))[:-1]
        return tuple(np.split(x, bounds, axis=axis))

    @classmethod
    def samples(cls):
        x = _rand((4, 6))
        return [Sample(cls(axis=1, num=3), (x,), lambda x: (x[:, :2], x[:, 2:4], x[:, 4:])),
                Sample(cls(axis=0, split=(1, 3)), (x,), lambda x: (x[:1], x[1:]))]


@register_op
class Slice(ShapeOp):
    """ONNX Slice: ``x[starts:ends:steps]`` on ``axes`` (default: the first len(starts))."""

    starts: tuple = ()
    ends: tuple = ()
    axes: Optional[tuple] = None
    steps: Optional[tuple] = None

    def __post_init__(self):
        for f in ("starts", "ends", "axes", "steps"):
            object.__setattr__(self, f, _ints(getattr(self, f)))
        n = len(self.starts)
        if len(self.ends) != n or (self.axes and len(self.axes) != n) or (self.steps and len(self.steps) != n):
            raise InferError("starts, ends, axes and steps must have the same length")
        if self.steps and 0 in self.steps:
            raise InferError("slice step cannot be 0")

    def index(self, rank):
        axes = normalize_axes(self.axes, rank) if self.axes else tuple(range(len(self.starts)))
        if self.axes:
            axes = tuple(a % rank for a in self.axes)
        steps = self.steps or (1,) * len(self.starts)
        idx = [slice(None)] * rank
        for a, s, e, st in zip(axes, self.starts, self.ends, steps):
            idx[a] = slice(s, e, st)
        return tuple(idx)

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, None),)
        if len(self.starts) > len(t.shape) and not self.axes:
            raise InferError(f"{len(self.starts)} slices for rank {len(t.shape)}")
        idx = self.index(len(t.shape))
        shape = tuple(None if d is None else len(range(*sl.indices(d)))
                      for d, sl in zip(t.shape, idx))
        return (TensorType(t.dtype, shape),)

    def reference(self, x):
        return (x[self.index(x.ndim)],)

    @classmethod
    def samples(cls):
        x = _rand((4, 6))
        return [Sample(cls((1,), (3,)), (x,), lambda x: np.stack([x[1], x[2]])),
                Sample(cls((0, -3), (4, 100), axes=(0, 1), steps=(2, 1)), (x,),
                       lambda x: np.take(np.take(x, [0, 2], axis=0), [3, 4, 5], axis=1))]
