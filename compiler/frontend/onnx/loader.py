"""Reading an ONNX model from a path or a ModelProto, treating files as hostile.

A path must name a regular file (not a device, FIFO or socket) of at most
``MAX_MODEL_BYTES``; the bytes are parsed with protobuf (no code runs), then
checked with ``onnx.checker``. Tensors stored as external data load from the
model's folder when the importer reads them.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from netjit.errors import InvalidArgumentError

from ..net import Net
from .importer import import_model

#: Model files larger than this are refused (protobuf itself stops at 2 GiB).
MAX_MODEL_BYTES = 2 ** 31 - 1


def load(source, name: str = None) -> Net:
    """The net of an ONNX model: a path to a ``.onnx`` file or an ``onnx.ModelProto``."""
    if isinstance(source, onnx.ModelProto):
        model, base_dir = source, ""
    else:
        path = Path(source)
        model, base_dir = _read(path), str(path.parent)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise InvalidArgumentError(f"invalid ONNX model: {str(exc).splitlines()[0]}") from exc
    return import_model(model, name, base_dir)


def _read(path: Path) -> onnx.ModelProto:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read ONNX model {str(path)!r}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidArgumentError(f"ONNX model {str(path)!r} is not a regular file")
    if st.st_size > MAX_MODEL_BYTES:
        raise InvalidArgumentError(f"ONNX model {str(path)!r} is {st.st_size} bytes, more than {MAX_MODEL_BYTES}")
    model = onnx.ModelProto()
    try:
        with open(path, "rb") as fh:
            model.ParseFromString(fh.read(st.st_size + 1))
    except DecodeError as exc:
        raise InvalidArgumentError(f"ONNX model {str(path)!r} is not a valid model file "
                                   f"(truncated or corrupt): {exc}") from None
    return model
