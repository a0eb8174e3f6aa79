"""Decoding ONNX protos into netjit values: dtypes, tensors, value types, attributes.

Every decoder names what it was decoding (``where``) in its errors, and
refuses what netjit cannot represent exactly (float8, int4, bfloat16,
complex, string tensors in compiled positions) with UnimplementedError.
"""
from __future__ import annotations

from typing import Any

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


def tensor_value(tensor, where: str, base_dir: str = "") -> np.ndarray:
    """A TensorProto's value as an array (external data read from ``base_dir``)."""
    onnx_dtype(tensor.data_type, where)
    try:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            return np.array(numpy_helper.to_array(tensor, base_dir))
        return np.array(numpy_helper.to_array(tensor))
    except (ValueError, TypeError, OSError) as exc:
        raise InvalidArgumentError(f"{where}: cannot decode tensor: {exc}") from None


def attribute_values(node, where: str) -> dict[str, Any]:
    """The node's attributes as Python values: ints, floats, strings (str), lists, arrays."""
    out = {}
    for a in node.attribute:
        if a.ref_attr_name:
            raise UnimplementedError(f"{where}: attribute {a.name!r} refers to a function attribute")
        if a.type == onnx.AttributeProto.TENSOR:
            out[a.name] = tensor_value(a.t, f"{where} attribute {a.name!r}")
        elif a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS,
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
