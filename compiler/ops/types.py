"""Tensor types: a dtype and a shape whose entries may be unknown (None)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from netjit.errors import InvalidArgumentError

#: The dtypes tensors may have; strings exist only as host values. The narrow
#: and unsigned ones (i8 ... u64, f16) came with ONNX: ops compute them with
#: NumPy's rules (f16 results are f16, whatever precision the math used).
DTYPES = {
    "f32": np.dtype(np.float32), "f64": np.dtype(np.float64), "f16": np.dtype(np.float16),
    "i32": np.dtype(np.int32), "i64": np.dtype(np.int64),
    "i8": np.dtype(np.int8), "i16": np.dtype(np.int16),
    "u8": np.dtype(np.uint8), "u16": np.dtype(np.uint16),
    "u32": np.dtype(np.uint32), "u64": np.dtype(np.uint64),
    "bool": np.dtype(np.bool_), "str": np.dtype(object),
}
_SHORT = {v: k for k, v in DTYPES.items()}
FLOAT_DTYPES = frozenset(d for d in DTYPES.values() if d.kind == "f")
SIGNED_DTYPES = frozenset(d for d in DTYPES.values() if d.kind == "i")
UNSIGNED_DTYPES = frozenset(d for d in DTYPES.values() if d.kind == "u")
INT_DTYPES = SIGNED_DTYPES | UNSIGNED_DTYPES
NUMERIC_DTYPES = FLOAT_DTYPES | INT_DTYPES
#: The dtypes netjit had before ONNX, which every backend compiles.
CORE_DTYPES = frozenset({DTYPES["f32"], DTYPES["f64"], DTYPES["i32"], DTYPES["i64"], DTYPES["bool"]})

Dim = Optional[int]


def as_dtype(dtype) -> np.dtype:
    """Normalise a dtype spelling (np.float32, "float32", "f32", str) to np.dtype."""
    try:
        return _CANONICAL[dtype]   # every TensorType and every inference asks again
    except (KeyError, TypeError):
        pass
    dt = _as_dtype(dtype)
    try:
        if len(_CANONICAL) < 256:
            _CANONICAL[dtype] = dt
    except TypeError:
        pass
    return dt


_CANONICAL: dict = {}


def _as_dtype(dtype) -> np.dtype:
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    if dtype is str or (isinstance(dtype, np.dtype) and dtype.kind in "USO"):
        return DTYPES["str"]
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise InvalidArgumentError(f"unknown dtype {dtype!r}") from exc
    if dt.kind in "USO":
        return DTYPES["str"]
    if dt not in _SHORT:
        raise InvalidArgumentError(
            f"dtype {dt} is not supported; expected one of "
            + ", ".join(str(d) for d in DTYPES.values() if d.kind != "O"))
    return dt


def dtype_name(dtype: np.dtype) -> str:
    """Short name used in IR text: f32, i64, u8, f16, bool, str."""
    return _SHORT[np.dtype(dtype)]


@dataclass(frozen=True)
class TensorType:
    """The static type of a value: dtype plus a shape with None for unknown dims.

    ``shape`` None means the rank itself is unknown.
    """

    dtype: np.dtype
    shape: Optional[tuple[Dim, ...]]

    def __post_init__(self):
        object.__setattr__(self, "dtype", as_dtype(self.dtype))
        if self.shape is not None:
            object.__setattr__(self, "shape", tuple(
                None if d is None else int(d) for d in self.shape))

    @classmethod
    def of(cls, value) -> "TensorType":
        """The exact type of a concrete value."""
        arr = np.asarray(value)
        return cls(as_dtype(arr.dtype), arr.shape)

    @property
    def rank(self) -> Optional[int]:
        return None if self.shape is None else len(self.shape)

    @property
    def is_static(self) -> bool:
        return self.shape is not None and all(d is not None for d in self.shape)

    def accepts(self, value_type: "TensorType") -> bool:
        """True if a value of ``value_type`` may flow where ``self`` is expected."""
        if self.dtype != value_type.dtype:
            return False
        if self.shape is None or value_type.shape is None:
            return True
        if len(self.shape) != len(value_type.shape):
            return False
        return all(a is None or b is None or a == b
                   for a, b in zip(self.shape, value_type.shape))

    def __str__(self) -> str:
        if self.shape is None:
            return f"{dtype_name(self.dtype)}[*]"
        dims = ",".join("?" if d is None else str(d) for d in self.shape)
        return f"{dtype_name(self.dtype)}[{dims}]"


def broadcast_shapes(*shapes: Optional[Sequence[Dim]]) -> Optional[tuple[Dim, ...]]:
    """NumPy broadcasting over shapes with unknown (None) dims.

    Raises ValueError when known dims clash.
    """
    if any(s is None for s in shapes):
        return None
    first = shapes[0] if shapes else ()
    if all(s == first for s in shapes):      # the common case: nothing to broadcast
        return tuple(first)
    rank = max(len(s) for s in shapes)
    out: list[Dim] = []
    for i in range(-rank, 0):
        dim, unknown = 1, False
        for s in shapes:
            if len(s) >= -i:
                d = s[i]
                if d is None:
                    unknown = True
                elif d != 1:
                    if dim != 1 and dim != d:
                        raise ValueError(f"shapes {' and '.join(map(_fmt, shapes))} do not broadcast")
                    dim = d
        out.append(None if dim == 1 and unknown else dim)
    return tuple(out)


def _fmt(shape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def promote(*dtypes: np.dtype) -> np.dtype:
    """NumPy's dtype promotion, restricted to netjit's dtypes."""
    if all(d is dtypes[0] for d in dtypes):
        return as_dtype(dtypes[0])
    return as_dtype(np.result_type(*dtypes))
