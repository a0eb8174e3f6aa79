"""Reading an ONNX model from a path or a ModelProto, treating files as hostile.

A path must name a regular file (not a device, FIFO or socket) of at most
``MAX_MODEL_BYTES``; the bytes are parsed with protobuf (no code runs), then
checked with ``onnx.checker``. Tensors stored as external data load from the
model's folder when the importer reads them (``proto.read_external``: no
absolute paths, no ``..``, nothing resolving outside the folder); every
tensor's payload is checked against its declared size, and all of them
against one byte budget (``proto.Budget``), before anything is allocated.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Optional

import onnx
from google.protobuf.message import DecodeError

from netjit.errors import InvalidArgumentError

from ..net import Net
from .importer import import_model

#: Model files larger than this are refused (protobuf itself stops at 2 GiB).
MAX_MODEL_BYTES = 2 ** 31 - 1


def load(source, name: Optional[str] = None) -> Net:
    """The net of an ONNX model: a path to a ``.onnx`` file or an ``onnx.ModelProto``.

    Raises InvalidArgumentError for a file that is not a valid model and
    UnimplementedError for what netjit does not support, both naming what.
    """
    model, base_dir = read_model(source)
    return import_model(model, name, base_dir)


def read_model(source) -> tuple[onnx.ModelProto, Optional[str]]:
    """The checked model of ``source`` and its folder (None for a ModelProto in memory)."""
    if isinstance(source, onnx.ModelProto):
        model, base_dir, checked = source, None, source
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        # the checker reads the (vetted) file again: given the path, it checks
        # external data against the model's folder, not the current directory
        model, base_dir, checked = _read(path), str(path.parent), str(path)
    else:
        raise InvalidArgumentError(f"expected a path or an onnx.ModelProto, got {type(source).__name__}")
    try:
        onnx.checker.check_model(checked)
    except (onnx.checker.ValidationError, ValueError) as exc:
        raise InvalidArgumentError(f"invalid ONNX model: {str(exc).splitlines()[0]}") from None
    return model, base_dir


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
    except (DecodeError, RuntimeWarning) as exc:
        raise InvalidArgumentError(f"ONNX model {str(path)!r} is not a valid model file "
                                   f"(truncated or corrupt): {exc}") from None
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read ONNX model {str(path)!r}: {exc.strerror}") from None
    if not model.HasField("graph"):
        raise InvalidArgumentError(f"ONNX model {str(path)!r} has no graph (empty, truncated or not a model)")
    return model
