"""Sliding-window geometry shared by convolutions and pools (ONNX conventions).

Spatial axes are the axes after [N, C]. ``pads`` is ONNX's layout: every begin
pad, then every end pad (``(h_begin, w_begin, h_end, w_end)``). A window of
kernel ``k`` and dilation ``d`` spans ``(k - 1) * d + 1`` input positions.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import InferError


def span(k: int, d: int) -> int:
    """Input positions one window of kernel ``k`` and dilation ``d`` covers."""
    return (k - 1) * d + 1


def out_size(size: Optional[int], k: int, s: int, d: int, pb: int, pe: int, ceil: bool = False) -> Optional[int]:
    """Windows along one axis; with ``ceil`` a last partial window counts unless it starts in the end pad."""
    if size is None or k is None:
        return None
    room = size + pb + pe - span(k, d)
    if room < 0:
        raise InferError(f"a window spanning {span(k, d)} does not fit an axis of {size} padded by ({pb}, {pe})")
    n = -(-room // s) + 1 if ceil else room // s + 1
    if ceil and (n - 1) * s >= size + pb:   # PyTorch/ONNX: no window may start in the end padding
        n -= 1
    return n


def same_pads(sizes: Sequence[int], kernel, strides, dilations, upper: bool) -> tuple[int, ...]:
    """ONNX auto_pad SAME_UPPER/SAME_LOWER: output = ceil(size / stride), extra pad at end (upper) or begin."""
    begins, ends = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilations):
        total = max(0, (-(-size // s) - 1) * s + span(k, d) - size)
        small, big = total // 2, total - total // 2
        begins.append(small if upper else big)
        ends.append(big if upper else small)
    return tuple(begins + ends)


def resolve_auto_pad(auto_pad: str, sizes, kernel, strides, dilations, pads) -> Optional[tuple[int, ...]]:
    """Explicit pads for ``auto_pad``; None when SAME_* needs spatial sizes that are unknown."""
    nd = len(kernel)
    if auto_pad in ("NOTSET", ""):
        return tuple(pads) if pads else (0,) * (2 * nd)
    if auto_pad == "VALID":
        return (0,) * (2 * nd)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        if sizes is None or None in sizes:
            return None
        return same_pads(sizes, kernel, strides, dilations, auto_pad == "SAME_UPPER")
    raise InferError(f"unknown auto_pad {auto_pad!r}")


def check_geometry(nd: int, kernel, strides, dilations, pads) -> None:
    """InferError unless every per-axis attribute has one entry per spatial axis (pads two)."""
    for what, value, n in (("kernel_shape", kernel, nd), ("strides", strides, nd),
                           ("dilations", dilations, nd), ("pads", pads, 2 * nd)):
        if len(value) != n:
            raise InferError(f"{what} {tuple(value)} has {len(value)} entries, expected {n} "
                             f"for {nd} spatial axes")
    if any(v is not None and v < 1 for v in tuple(kernel) + tuple(strides) + tuple(dilations)):
        raise InferError(f"kernel {tuple(kernel)}, strides {tuple(strides)} and dilations "
                         f"{tuple(dilations)} must be positive")
    if any(p < 0 for p in pads):
        raise InferError(f"pads {tuple(pads)} must not be negative")


def pad_spatial(x: np.ndarray, begins, ends, value) -> np.ndarray:
    """``x`` padded with ``value`` on its spatial axes."""
    width = [(0, 0), (0, 0)] + [(int(b), int(e)) for b, e in zip(begins, ends)]
    return np.pad(x, width, constant_values=value)


def windows(xp: np.ndarray, kernel, strides, dilations, outs) -> np.ndarray:
    """View [N, C, *out, *kernel] of the padded input's windows (no copy)."""
    nd = len(kernel)
    axes = tuple(range(2, 2 + nd))
    spans = tuple(span(k, d) for k, d in zip(kernel, dilations))
    view = sliding_window_view(xp, spans, axis=axes)
    starts = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(outs, strides))
    taps = tuple(slice(None, None, d) for d in dilations)
    return view[(slice(None), slice(None)) + starts + taps]
