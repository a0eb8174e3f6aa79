"""Which keys each query of an attention may see, and the head split of packed 3-D inputs.

A key j is allowed for query i (absolute position ``p = i + offset``) when every
constraint given holds: the boolean mask is True there (keys past its end are
not allowed), ``j <= p`` (causal), ``p - left <= j`` and ``j <= p + right``
(window sides >= 0) and ``j < nonpad[b]`` (valid cache length per batch).
"""
from __future__ import annotations

from typing import Optional, Union

import numpy as np


def split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """[batch, seq, heads * size] -> [batch, heads, seq, size]."""
    b, s, hidden = x.shape
    return x.reshape(b, s, heads, hidden // heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """[batch, heads, seq, size] -> [batch, seq, heads * size] (inverse of ``split_heads``)."""
    b, h, s, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, s, h * d)


def allowed_keys(queries: int, keys: int, mask: Optional[np.ndarray], offset: Union[int, np.ndarray],
                 causal: bool, left: int, right: int, nonpad: Optional[np.ndarray]) -> np.ndarray:
    """A bool array, broadcastable to [batch, heads, queries, keys]: may query i see key j.

    ``offset`` is a scalar or a [batch, 1, 1, 1] array; only a boolean ``mask``
    restricts keys here (a float mask is a bias, added by the caller).
    """
    j = np.arange(keys)
    pos = np.arange(queries)[:, None] + offset          # [q, 1] or [batch, 1, q, 1]
    ok = np.ones((queries, keys), bool)
    if causal:
        ok = ok & (j <= pos)
    if left >= 0:
        ok = ok & (pos - j <= left)
    if right >= 0:
        ok = ok & (j - pos <= right)
    if nonpad is not None:
        ok = ok & (j < nonpad.astype(np.int64).reshape(-1, 1, 1, 1))
    if mask is not None and mask.dtype == bool:
        short = keys - mask.shape[-1]
        if short > 0:
            mask = np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, short)], constant_values=False)
        ok = ok & mask
    return ok
