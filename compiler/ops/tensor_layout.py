"""Layout ops with ONNX semantics: padding, depth <-> space, sequence reversal, exact reshape."""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .types import TensorType

_PAD_MODES = frozenset({"constant", "reflect", "edge", "wrap"})


def _ints(value):
    return None if value is None else tuple(int(v) for v in value)


class LayoutOp(Op):
    kind: ClassVar[OpKind] = OpKind.SHAPE


@register_op
class Pad(LayoutOp):
    """ONNX Pad: ``pads`` is [begin of each axis..., end of each axis...] over ``axes``
    (None: all); negative pads crop, before any padding. ``mode`` is constant (with ``value``),
    reflect, edge or wrap.
    """

    pads: tuple = ()
    mode: str = "constant"
    value: float = 0.0
    axes: Optional[tuple] = None

    def __post_init__(self):
        object.__setattr__(self, "pads", _ints(self.pads))
        object.__setattr__(self, "axes", _ints(self.axes))
        if self.mode not in _PAD_MODES:
            raise InferError(f"unknown pad mode {self.mode!r}; expected one of {sorted(_PAD_MODES)}")
        if len(self.pads) % 2:
            raise InferError(f"pads must hold a begin and an end per axis, got {len(self.pads)} values")

    def widths(self, rank: int) -> list[tuple[int, int]]:
        axes = tuple(range(rank)) if self.axes is None else tuple(a % rank for a in self.axes)
        if self.axes is not None:
            normalize_axes(self.axes, rank)
        if len(self.pads) != 2 * len(axes):
            raise InferError(f"{len(self.pads)} pads for {len(axes)} axes")
        out = [(0, 0)] * rank
        for i, a in enumerate(axes):
            out[a] = (self.pads[i], self.pads[len(axes) + i])
        return out

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, None),)
        shape = tuple(None if d is None else d + b + e for d, (b, e) in zip(t.shape, self.widths(len(t.shape))))
        if any(d is not None and d < 0 for d in shape):
            raise InferError(f"pads {self.pads} crop more than shape {list(t.shape)} holds")
        return (TensorType(t.dtype, shape),)

    def reference(self, x):
        widths = self.widths(x.ndim)
        x = x[tuple(slice(max(-b, 0), d - max(-e, 0)) for d, (b, e) in zip(x.shape, widths))]
        grow = [(max(b, 0), max(e, 0)) for b, e in widths]
        if self.mode == "constant":
            return (np.pad(x, grow, constant_values=np.array(self.value).astype(x.dtype)),)
        return (np.pad(x, grow, mode=self.mode),)

    @classmethod
    def samples(cls):
        x = _rand((2, 3))
        return [Sample(cls((1, 0, 0, 2), value=1.5), (x,),
                       lambda x: np.block([[np.full((1, 3), 1.5, x.dtype), np.full((1, 2), 1.5, x.dtype)],
                                           [x, np.full((2, 2), 1.5, x.dtype)]])),
                Sample(cls((2, -1), "reflect", axes=(1,)), (x,), lambda x: x[:, [0, 1, 0, 1]]),
                Sample(cls((1, 1, 1, 1), "edge"), (x,), lambda x: x[[0, 0, 1, 1]][:, [0, 0, 1, 2, 2]]),
                Sample(cls((0, 2, 0, 1), "wrap"), (x,), lambda x: x[:, [1, 2, 0, 1, 2, 0]])]


@register_op
class DepthToSpace(LayoutOp):
    """NCHW: move channel blocks into ``blocksize`` x ``blocksize`` spatial tiles (DCR or CRD order)."""

    blocksize: int = 2
    mode: str = "DCR"

    def __post_init__(self):
        if self.mode not in ("DCR", "CRD"):
            raise InferError(f"mode must be DCR or CRD, got {self.mode!r}")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, (None,) * 4),)
        if len(t.shape) != 4:
            raise InferError(f"expects a 4-D input, got rank {len(t.shape)}")
        n, c, h, w = t.shape
        b = self.blocksize
        if c is not None and c % (b * b):
            raise InferError(f"{c} channels do not split into blocks of {b}x{b}")
        return (TensorType(t.dtype, (n, None if c is None else c // (b * b),
                                     None if h is None else h * b, None if w is None else w * b)),)

    def reference(self, x):
        n, c, h, w = x.shape
        b = self.blocksize
        if self.mode == "DCR":
            y = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
        else:
            y = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
        return (y.reshape(n, c // (b * b), h * b, w * b),)

    @classmethod
    def samples(cls):
        x = np.arange(16, dtype=np.float32).reshape(1, 4, 2, 2)

        def expect(dcr):
            def f(x):
                out = np.empty((1, 1, 4, 4), x.dtype)
                for i in range(4):
                    for j in range(4):
                        out[0, 0, i, j] = x[0, (i % 2) * 2 + j % 2, i // 2, j // 2]
                return out
            return f
        return [Sample(cls(2), (x,), expect(True)), Sample(cls(2, "CRD"), (x,), expect(False))]


@register_op
class SpaceToDepth(LayoutOp):
    """NCHW: move ``blocksize`` x ``blocksize`` spatial tiles into channels; the inverse of
    DepthToSpace in the same ``mode`` (DCR: block offset major, CRD: channel major)."""

    blocksize: int = 2
    mode: str = "DCR"

    def __post_init__(self):
        if self.mode not in ("DCR", "CRD"):
            raise InferError(f"mode must be DCR or CRD, got {self.mode!r}")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, (None,) * 4),)
        if len(t.shape) != 4:
            raise InferError(f"expects a 4-D input, got rank {len(t.shape)}")
        n, c, h, w = t.shape
        b = self.blocksize
        if any(d is not None and d % b for d in (h, w)):
            raise InferError(f"spatial dims {h}x{w} do not split into blocks of {b}")
        return (TensorType(t.dtype, (n, None if c is None else c * b * b,
                                     None if h is None else h // b, None if w is None else w // b)),)

    def reference(self, x):
        n, c, h, w = x.shape
        b = self.blocksize
        perm = (0, 3, 5, 1, 2, 4) if self.mode == "DCR" else (0, 1, 3, 5, 2, 4)
        y = x.reshape(n, c, h // b, b, w // b, b).transpose(perm)
        return (y.reshape(n, c * b * b, h // b, w // b),)

    @classmethod
    def samples(cls):
        x = _rand((1, 2, 4, 6))
        return [Sample(cls(2), (x,), lambda x: np.concatenate(
            [x[:, :, i::2, j::2] for i in range(2) for j in range(2)], axis=1)),
                Sample(cls(2, "CRD"), (x,), lambda x: np.stack(
                    [x[:, :, i::2, j::2] for i in range(2) for j in range(2)], axis=2).reshape(1, 8, 2, 3))]


@register_op
class ReverseSequence(LayoutOp):
    """Reverse the first ``lens[b]`` steps along ``time_axis`` of each batch ``b`` (along ``batch_axis``)."""

    arity: ClassVar[int] = 2
    batch_axis: int = 1
    time_axis: int = 0

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        if {self.batch_axis, self.time_axis} != {0, 1}:
            raise InferError(f"batch_axis and time_axis must be 0 and 1, got {self.batch_axis}, {self.time_axis}")
        return (inputs[0],)

    def reference(self, x, lens):
        y = np.moveaxis(x, (self.batch_axis, self.time_axis), (0, 1)).copy()
        for b, n in enumerate(np.asarray(lens).reshape(-1)):
            y[b, :n] = y[b, :n][::-1]
        return (np.moveaxis(y, (0, 1), (self.batch_axis, self.time_axis)),)

    @classmethod
    def samples(cls):
        x = np.arange(12, dtype=np.float32).reshape(3, 4)
        lens = np.array([1, 3, 0], np.int64)
        return [Sample(cls(0, 1), (x, lens), lambda x, lens: np.float32(
            [[0, 1, 2, 3], [6, 5, 4, 7], [8, 9, 10, 11]]))]


@register_op
class ReshapeAllowZero(LayoutOp):
    """Reshape to exactly ``shape`` (ONNX allowzero=1): a 0 is a zero dim, one -1 is inferred."""

    shape: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "shape", _ints(self.shape))
        if sum(d == -1 for d in self.shape) > 1 or any(d < -1 for d in self.shape):
            raise InferError(f"bad Reshape shape {self.shape}")
        if -1 in self.shape and 0 in self.shape:
            raise InferError(f"shape {self.shape} has both -1 and 0: the -1 is ambiguous")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if -1 not in self.shape:
            return (TensorType(t.dtype, self.shape),)
        if t.shape is None or None in t.shape:
            return (TensorType(t.dtype, tuple(None if d == -1 else d for d in self.shape)),)
        total, rest = int(np.prod(t.shape)), int(np.prod([d for d in self.shape if d != -1]))
        if total % rest:
            raise InferError(f"cannot reshape {list(t.shape)} to {list(self.shape)}")
        return (TensorType(t.dtype, tuple(total // rest if d == -1 else d for d in self.shape)),)

    def reference(self, x):
        return (np.reshape(x, self.shape),)

    @classmethod
    def samples(cls):
        return [Sample(cls((3, 0)), (np.zeros((0, 3), np.float32),), lambda x: np.zeros((3, 0), np.float32)),
                Sample(cls((-1, 2)), (np.arange(6, dtype=np.int64),), lambda x: np.int64([[0, 1], [2, 3], [4, 5]]))]
