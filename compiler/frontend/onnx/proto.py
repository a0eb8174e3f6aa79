"""Decoding ONNX protos into netjit values: dtypes, tensors, value types, attributes.

Every decoder names what it was decoding (``where``) in its errors, and
refuses what netjit cannot represent exactly (float8, int4, bfloat16,
complex, string tensors in compiled positions) with UnimplementedError.
Tensor payloads are checked against their declared size before anything of
that size is allocated; external data is read only from inside the model's
folder; all tensors of a model share one byte budget (``Budget``).
"""
from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import stat
from typing import Any, Optional

import numpy as np
import onnx
from onnx import numpy_helper

from netjit.errors import InvalidArgumentError, UnimplementedError

from ...ops import DTYPES, TensorType

#: ONNX TensorProto element types netjit computes with.
_DTYPES = {
    onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.FLOAT16: np.float16,
    onnx.TensorProto.INT8: np.int8, onnx.TensorProto.INT16: np.int16,
    onnx.TensorProto.INT32: np.int32, onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.UINT8: np.uint8, onnx.TensorProto.UINT16: np.uint16,
    onnx.TensorProto.UINT32: np.uint32, onnx.TensorProto.UINT64: np.uint64,
    onnx.TensorProto.BOOL: np.bool_,
}


def onnx_dtype(elem_type: int, where: str = "") -> np.dtype:
    """The NumPy dtype of an ONNX element type; UnimplementedError for the others."""
    dt = _DTYPES.get(elem_type)
    if dt is None:
        name = onnx.TensorProto.DataType.Name(elem_type) if elem_type in onnx.TensorProto.DataType.values() \
            else str(elem_type)
        raise UnimplementedError(f"{where}: element type {name} is not supported")
    if np.dtype(dt) not in DTYPES.values():
        raise UnimplementedError(f"{where}: element type {np.dtype(dt)} is not supported by netjit's ops")
    return np.dtype(dt)


def value_type(value_info, where: str) -> TensorType:
    """The TensorType of a ValueInfoProto: symbolic or unknown dims are None."""
    t = value_info.type
    if t.WhichOneof("value") != "tensor_type":
        raise UnimplementedError(f"{where}: only tensor values are supported, got {t.WhichOneof('value')}")
    dtype = onnx_dtype(t.tensor_type.elem_type, where)
    if not t.tensor_type.HasField("shape"):
        return TensorType(dtype, None)
    dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.tensor_type.shape.dim)
    return TensorType(dtype, dims)


#: Where each element type keeps its values when not in ``raw_data`` (TensorProto's comments).
_FIELD_OF = {
    onnx.TensorProto.FLOAT: "float_data", onnx.TensorProto.DOUBLE: "double_data",
    onnx.TensorProto.INT64: "int64_data",
    onnx.TensorProto.UINT32: "uint64_data", onnx.TensorProto.UINT64: "uint64_data",
    **dict.fromkeys([onnx.TensorProto.INT32, onnx.TensorProto.INT16, onnx.TensorProto.INT8,
                     onnx.TensorProto.UINT16, onnx.TensorProto.UINT8, onnx.TensorProto.BOOL,
                     onnx.TensorProto.FLOAT16], "int32_data"),
}


def max_tensor_bytes() -> int:
    """The budget for the tensors one model may declare (``NETJIT_ONNX_MAX_BYTES``, default 4 GiB)."""
    return int(os.environ.get("NETJIT_ONNX_MAX_BYTES", 4 << 30))


@dataclasses.dataclass
class Budget:
    """Bytes the tensors of one model may still take; spent before anything is allocated."""

    left: int = dataclasses.field(default_factory=max_tensor_bytes)

    def spend(self, nbytes: int, where: str) -> None:
        self.left -= nbytes
        if self.left < 0:
            raise InvalidArgumentError(f"{where}: the model's tensors exceed the budget of "
                                       f"{max_tensor_bytes()} bytes (NETJIT_ONNX_MAX_BYTES)")


def tensor_value(tensor, where: str, base_dir: Optional[str] = None, budget: Optional[Budget] = None) -> np.ndarray:
    """A TensorProto's value as an array, after checking that its payload is what it declares.

    The declared dims and element type fix the byte count; a payload of another
    size is refused before any array of the declared size exists. External data
    is read only from files inside ``base_dir`` (the model's folder; None for
    a model given in memory, which then may not refer to external data).
    """
    dtype = onnx_dtype(tensor.data_type, where)
    if tensor.HasField("segment"):
        raise UnimplementedError(f"{where}: segmented tensors are not supported")
    if any(d < 0 for d in tensor.dims):
        raise InvalidArgumentError(f"{where}: negative dimension in {list(tensor.dims)}")
    count = math.prod(tensor.dims)
    (budget or Budget()).spend(count * dtype.itemsize, where)
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        raw = read_external(tensor, count * dtype.itemsize, where, base_dir)
        return np.frombuffer(raw, dtype.newbyteorder("<")).astype(dtype).reshape(tuple(tensor.dims))
    if tensor.HasField("raw_data"):
        if len(tensor.raw_data) != count * dtype.itemsize:
            raise InvalidArgumentError(f"{where}: {len(tensor.raw_data)} bytes of data for "
                                       f"{dtype}{list(tensor.dims)} ({count * dtype.itemsize} bytes)")
    else:
        got = len(getattr(tensor, _FIELD_OF[tensor.data_type]))
        if got != count:
            raise InvalidArgumentError(f"{where}: {got} values for {dtype}{list(tensor.dims)} ({count} values)")
    try:
        return np.array(numpy_helper.to_array(tensor)).astype(dtype, copy=False)
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError(f"{where}: cannot decode tensor: {exc}") from None


def read_external(tensor, nbytes: int, where: str, base_dir: Optional[str]) -> bytes:
    """The ``nbytes`` a tensor keeps in an external file, read safely from ``base_dir``.

    Refused: a model given in memory, absolute paths, ``..``, a path (or a symlink)
    resolving outside the folder, anything but a regular file, an offset or
    length outside the file, a length other than the declared size.
    """
    info = {e.key: e.value for e in tensor.external_data}
    location = info.get("location", "")
    if base_dir is None:
        raise InvalidArgumentError(f"{where}: external data {location!r} needs the model's folder: "
                                   "load the model from its path")
    rel = pathlib.PurePath(location)
    if not location or rel.is_absolute() or ".." in rel.parts or rel.drive:
        raise InvalidArgumentError(f"{where}: external data location {location!r} must be a relative "
                                   "path inside the model's folder")
    root = pathlib.Path(base_dir).resolve()
    path = (root / rel).resolve()
    if root != path and root not in path.parents:
        raise InvalidArgumentError(f"{where}: external data {location!r} resolves outside the model's folder")
    try:
        offset, length = int(info.get("offset", 0)), int(info.get("length", nbytes))
    except ValueError:
        raise InvalidArgumentError(f"{where}: bad external data offset/length {info}") from None
    if length != nbytes or offset < 0:
        raise InvalidArgumentError(f"{where}: external data of {length} bytes at offset {offset} "
                                   f"for a tensor of {nbytes} bytes")
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise InvalidArgumentError(f"{where}: external data {location!r} is not a regular file")
            if offset + length > st.st_size:
                raise InvalidArgumentError(f"{where}: external data {location!r} has {st.st_size} bytes, "
                                           f"the tensor needs {length} at offset {offset}")
            fh.seek(offset)
            return fh.read(length)
    except OSError as exc:
        raise InvalidArgumentError(f"{where}: cannot read external data {location!r}: {exc.strerror}") from None


def attribute_values(node, where: str, base_dir: Optional[str] = None,
                     budget: Optional[Budget] = None) -> dict[str, Any]:
    """The node's attributes as Python values: ints, floats, strings (str), lists, arrays."""
    out = {}
    for a in node.attribute:
        if a.ref_attr_name:
            raise UnimplementedError(f"{where}: attribute {a.name!r} refers to a function attribute")
        if a.type == onnx.AttributeProto.TENSOR:
            out[a.name] = tensor_value(a.t, f"{where} attribute {a.name!r}", base_dir, budget)
        elif a.type == onnx.AttributeProto.GRAPH:
            out[a.name] = a.g          # the GraphProto: control-flow converters import it
        elif a.type in (onnx.AttributeProto.GRAPHS,
                        onnx.AttributeProto.SPARSE_TENSOR, onnx.AttributeProto.SPARSE_TENSORS,
                        onnx.AttributeProto.TYPE_PROTO, onnx.AttributeProto.TYPE_PROTOS,
                        onnx.AttributeProto.TENSORS):
            raise UnimplementedError(f"{where}: attribute {a.name!r} of type "
                                     f"{onnx.AttributeProto.AttributeType.Name(a.type)} is not supported")
        else:
            value = onnx.helper.get_attribute_value(a)
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            elif isinstance(value, list) and value and isinstance(value[0], bytes):
                value = [v.decode("utf-8", "replace") for v in value]
            out[a.name] = value
    return out
