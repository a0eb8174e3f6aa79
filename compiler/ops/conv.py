"""Convolutions over [N, C, *spatial] (ONNX semantics): Conv and ConvTranspose.

Both take ``X``, ``W`` and an optional bias ``B``; auto_pad is resolved to
explicit ``pads`` by the importer (window.resolve_auto_pad), so the ops only
know explicit geometry. Any number of spatial axes (ONNX's 1-D, 2-D, 3-D).
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, TensorType, promote
from .window import check_geometry, out_size, pad_spatial, span, windows

_LETTERS = "hwdxyz"


def _ints(value) -> tuple:
    return tuple(int(v) for v in value)


class _ConvBase(Op):
    """Shared checks of Conv and ConvTranspose: inputs X, W and optional B."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 2

    def __post_init__(self):
        for f in ("strides", "dilations", "pads"):
            object.__setattr__(self, f, _ints(getattr(self, f)))

    def check_arity(self, n: int) -> None:
        if n not in (2, 3):
            raise InferError(f"expects X, W and an optional B (2 or 3 inputs), got {n}")

    def geometry(self, nd: int) -> tuple:
        """strides, dilations, pads for ``nd`` spatial axes (the defaults filled in)."""
        strides = self.strides or (1,) * nd
        dilations = self.dilations or (1,) * nd
        pads = self.pads or (0,) * (2 * nd)
        return strides, dilations, pads

    def check_types(self, inputs) -> tuple:
        """(dtype, x shape, w shape); InferError on dtypes or ranks that do not fit."""
        self.check_arity(len(inputs))
        for t in inputs:
            if t.dtype not in FLOAT_DTYPES:
                raise InferError(f"expects float inputs, got {t.dtype}")
        x, w = inputs[0], inputs[1]
        if x.shape is not None and len(x.shape) < 3:
            raise InferError(f"X must be [N, C, *spatial] with at least one spatial axis, got {x}")
        if x.shape is not None and w.shape is not None and len(x.shape) != len(w.shape):
            raise InferError(f"X is {x} but W is {w}: ranks differ")
        if len(inputs) == 3 and inputs[2].shape is not None and len(inputs[2].shape) != 1:
            raise InferError(f"B must be 1-D, got {inputs[2]}")
        return promote(*(t.dtype for t in inputs)), x.shape, w.shape


def _add_bias(y: np.ndarray, b) -> np.ndarray:
    if b is None:
        return y
    return y + b.reshape((1, -1) + (1,) * (y.ndim - 2))


@register_op
class Conv(_ConvBase):
    """Y[n, m, o] = sum over c, k of X[n, g*C/G + c, o*s + k*d - pad] * W[m, c, k] (+ B[m]); G = ``group``."""

    strides: tuple = ()
    dilations: tuple = ()
    pads: tuple = ()
    group: int = 1

    def infer(self, *inputs):
        dtype, xs, ws = self.check_types(inputs)
        if xs is None or ws is None:
            return (TensorType(dtype, None),)
        nd = len(xs) - 2
        strides, dilations, pads = self.geometry(nd)
        check_geometry(nd, ws[2:], strides, dilations, pads)
        if xs[1] is not None and ws[1] is not None and xs[1] != ws[1] * self.group:
            raise InferError(f"X has {xs[1]} channels but W takes {ws[1]} per group x {self.group} groups")
        if ws[0] is not None and ws[0] % self.group:
            raise InferError(f"W has {ws[0]} output channels, not divisible into {self.group} groups")
        spatial = tuple(out_size(xs[2 + i], ws[2 + i], strides[i], dilations[i], pads[i], pads[nd + i])
                        for i in range(nd))
        return (TensorType(dtype, (xs[0], ws[0]) + spatial),)

    def reference(self, x, w, b=None):
        nd, g = x.ndim - 2, self.group
        strides, dilations, pads = self.geometry(nd)
        dtype = self.infer(*(TensorType.of(v) for v in (x, w) + (() if b is None else (b,))))[0].dtype
        outs = [out_size(x.shape[2 + i], w.shape[2 + i], strides[i], dilations[i], pads[i], pads[nd + i])
                for i in range(nd)]
        xp = pad_spatial(x.astype(dtype, copy=False), pads[:nd], pads[nd:], 0)
        win = windows(xp, w.shape[2:], strides, dilations, outs)           # [N, C, *out, *k]
        n, c, m = x.shape[0], x.shape[1], w.shape[0]
        win = win.reshape((n, g, c // g) + win.shape[2:])
        wg = w.astype(dtype, copy=False).reshape((g, m // g, c // g) + w.shape[2:])
        o, k = _LETTERS[:nd].upper(), _LETTERS[:nd]
        y = np.einsum(f"ngc{o}{k},gmc{k}->ngm{o}", win, wg)
        return (_add_bias(y.reshape((n, m) + tuple(outs)), b).astype(dtype, copy=False),)

    @classmethod
    def samples(cls):
        return [Sample(cls(), (_rand((1, 2, 5, 5)), _rand((3, 2, 3, 3))), _loop_conv({})),
                Sample(cls(strides=(2, 1), pads=(1, 0, 0, 2), dilations=(1, 2)),
                       (_rand((2, 2, 6, 7)), _rand((2, 2, 2, 3)), _rand((2,))),
                       _loop_conv(dict(strides=(2, 1), pads=(1, 0, 0, 2), dilations=(1, 2)))),
                Sample(cls(group=4), (_rand((1, 4, 5), np.float64), _rand((4, 1, 3), np.float64)),
                       _loop_conv(dict(group=4))),
                Sample(cls(group=2, strides=(2, 2, 2)), (_rand((1, 4, 4, 4, 3)), _rand((2, 2, 2, 2, 1))),
                       _loop_conv(dict(group=2, strides=(2, 2, 2))))]


def _loop_conv(attrs: dict):
    """An independent expectation: Conv as a loop over every output element and tap."""
    def expect(x, w, b=None):
        nd, g = x.ndim - 2, attrs.get("group", 1)
        s = attrs.get("strides", (1,) * nd)
        d = attrs.get("dilations", (1,) * nd)
        p = attrs.get("pads", (0,) * (2 * nd))
        cg, mg = x.shape[1] // g, w.shape[0] // g
        outs = [(x.shape[2 + i] + p[i] + p[nd + i] - (w.shape[2 + i] - 1) * d[i] - 1) // s[i] + 1
                for i in range(nd)]
        y = np.zeros((x.shape[0], w.shape[0], *outs))
        for idx in np.ndindex(*y.shape):
            n, m, o = idx[0], idx[1], idx[2:]
            for c in range(cg):
                for k in np.ndindex(*w.shape[2:]):
                    pos = [o[i] * s[i] + k[i] * d[i] - p[i] for i in range(nd)]
                    if all(0 <= pos[i] < x.shape[2 + i] for i in range(nd)):
                        y[idx] += x[(n, (m // mg) * cg + c, *pos)] * w[(m, c, *k)]
            y[idx] += 0 if b is None else b[m]
        return y.astype(x.dtype)
    return expect


@register_op
class ConvTranspose(_ConvBase):
    """The gradient of Conv by X: each X[n, c, i] adds X * W[c, m, k] at output i*s + k*d - pad_begin.

    W is [C, M/G, *k]. The full output along an axis is (in - 1)*s + span + output_padding;
    ``pads`` crop it (negative pads from an ONNX output_shape would extend it with zeros).
    """

    strides: tuple = ()
    dilations: tuple = ()
    pads: tuple = ()
    output_padding: tuple = ()
    group: int = 1

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "output_padding", _ints(self.output_padding))

    def out_shape(self, xs, ws) -> tuple:
        nd = len(xs) - 2
        strides, dilations, pads = self.geometry(nd)
        opad = self.output_padding or (0,) * nd
        if len(strides) != nd or len(dilations) != nd or len(pads) != 2 * nd or len(opad) != nd:
            raise InferError(f"strides {strides}, dilations {dilations}, pads {pads}, output_padding {opad} "
                             f"do not fit {nd} spatial axes")
        spatial = []
        for i in range(nd):
            size = xs[2 + i]
            full = None if size is None or ws[2 + i] is None else \
                (size - 1) * strides[i] + span(ws[2 + i], dilations[i]) + opad[i]
            spatial.append(None if full is None else full - pads[i] - pads[nd + i])
        if any(v is not None and v < 1 for v in spatial):
            raise InferError(f"pads {pads} leave an empty output for X {xs} and W {ws}")
        m = None if ws[1] is None else ws[1] * self.group
        return (xs[0], m) + tuple(spatial)

    def infer(self, *inputs):
        dtype, xs, ws = self.check_types(inputs)
        if xs is None or ws is None:
            return (TensorType(dtype, None),)
        if xs[1] is not None and ws[0] is not None and xs[1] != ws[0]:
            raise InferError(f"X has {xs[1]} channels but W is for {ws[0]}")
        if ws[0] is not None and ws[0] % self.group:
            raise InferError(f"W's {ws[0]} input channels do not divide into {self.group} groups")
        return (TensorType(dtype, self.out_shape(xs, ws)),)

    def reference(self, x, w, b=None):
        nd, g = x.ndim - 2, self.group
        strides, dilations, pads = self.geometry(nd)
        dtype = self.infer(*(TensorType.of(v) for v in (x, w) + (() if b is None else (b,))))[0].dtype
        n, c, mg = x.shape[0], x.shape[1], w.shape[1]
        xg = x.astype(dtype, copy=False).reshape((n, g, c // g) + x.shape[2:])
        wg = w.astype(dtype, copy=False).reshape((g, c // g, mg) + w.shape[2:])
        i, k = _LETTERS[:nd].upper(), _LETTERS[:nd]
        cols = np.einsum(f"ngc{i},gcm{k}->ngm{i}{k}", xg, wg).reshape((n, g * mg) + x.shape[2:] + w.shape[2:])
        opad = self.output_padding or (0,) * nd
        full = [(x.shape[2 + a] - 1) * strides[a] + span(w.shape[2 + a], dilations[a]) + opad[a] for a in range(nd)]
        y = np.zeros((n, g * mg) + tuple(full), dtype)
        for tap in np.ndindex(*w.shape[2:]):
            at = tuple(slice(t * d, t * d + (size - 1) * s + 1, s)
                       for t, d, s, size in zip(tap, dilations, strides, x.shape[2:]))
            y[(slice(None), slice(None)) + at] += cols[(Ellipsis,) + tap]
        y = pad_spatial(y, [max(0, -p) for p in pads[:nd]], [max(0, -p) for p in pads[nd:]], 0)
        crop = tuple(slice(max(p, 0), y.shape[2 + a] - max(pads[nd + a], 0)) for a, p in enumerate(pads[:nd]))
        return (_add_bias(y[(slice(None), slice(None)) + crop], b).astype(dtype, copy=False),)

    @classmethod
    def samples(cls):
        geo = dict(strides=(2, 1), pads=(1, 0, 0, 1), dilations=(1, 2), output_padding=(1, 0))
        return [Sample(cls(), (_rand((1, 2, 3, 3)), _rand((2, 3, 2, 2))), _loop_conv_transpose({})),
                Sample(cls(**geo), (_rand((1, 2, 3, 4)), _rand((2, 2, 2, 2)), _rand((2,))),
                       _loop_conv_transpose(geo)),
                Sample(cls(group=2, strides=(3,)), (_rand((2, 4, 3), np.float64), _rand((4, 1, 2), np.float64)),
                       _loop_conv_transpose(dict(group=2, strides=(3,))))]


def _loop_conv_transpose(attrs: dict):
    """An independent expectation: scatter every input element times every tap."""
    def expect(x, w, b=None):
        nd, g = x.ndim - 2, attrs.get("group", 1)
        s = attrs.get("strides", (1,) * nd)
        d = attrs.get("dilations", (1,) * nd)
        p = attrs.get("pads", (0,) * (2 * nd))
        op = attrs.get("output_padding", (0,) * nd)
        cg, mg = x.shape[1] // g, w.shape[1]
        full = [(x.shape[2 + i] - 1) * s[i] + (w.shape[2 + i] - 1) * d[i] + 1 + op[i] for i in range(nd)]
        y = np.zeros((x.shape[0], g * mg, *full))
        for idx in np.ndindex(*x.shape):
            n, c, i = idx[0], idx[1], idx[2:]
            for m in range(mg):
                for k in np.ndindex(*w.shape[2:]):
                    at = tuple(i[a] * s[a] + k[a] * d[a] for a in range(nd))
                    y[(n, (c // cg) * mg + m, *at)] += x[idx] * w[(c, m, *k)]
        crop = tuple(slice(p[a], full[a] - p[nd + a]) for a in range(nd))
        y = y[(slice(None), slice(None)) + crop]
        return (y if b is None else y + b.reshape((1, -1) + (1,) * nd)).astype(x.dtype)
    return expect
