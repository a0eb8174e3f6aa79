"""The value codec of saved nets: op attributes to JSON and back, treating files as hostile.

An attribute value is a JSON scalar, a list (a tuple), or a one-key tagged
object: ``{"dtype": "f32"}``, ``{"type": {"dtype": "f32", "shape": [null, 3]}}``,
``{"float": "nan"}``, ``{"op": {"type": "Add", "attrs": {}}}`` or
``{"tensor": {"dtype": "f32", "shape": [2], "data": [1.0, 2.0]}}`` (small,
finite constants inline) / ``{"tensor": {..., "npz": "c0"}}`` (an array of the
side file, written with ``np.savez`` and read with ``allow_pickle=False``).

``_Decoder`` checks every field before use, the side file's array headers
against the declared dtype and shape before any data is read, and the
declared constants against a byte budget (``NETJIT_MAX_LOAD_BYTES``, default
512 MiB); every problem is a LoadError naming the file and the JSON location.
``compiler/net_io.py`` builds nets and plans on top of it.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import zipfile
from pathlib import Path
from typing import Any, Optional

import numpy as np

from netjit.errors import InvalidArgumentError, NetjitError

from . import ops as O
from .ops import DTYPES, ConstValue, InferError, TensorType, dtype_name

#: Constants with at most this many elements (and finite values) stay in the JSON.
INLINE_MAX = 64
MAX_JSON_BYTES = 256 << 20
_MAX_DEPTH = 32
_NPZ_KEY = re.compile(r"c\d{1,9}\Z")
_CHECKS = {"int": lambda v: isinstance(v, int) and not isinstance(v, bool),
           "bool": lambda v: isinstance(v, bool),
           "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
           "str": lambda v: isinstance(v, str), "tuple": lambda v: isinstance(v, tuple),
           "np.dtype": lambda v: isinstance(v, np.dtype),
           "ConstValue": lambda v: isinstance(v, ConstValue),
           "TensorType": lambda v: isinstance(v, TensorType)}


def max_load_bytes() -> int:
    """The budget for the constants one file may declare."""
    return int(os.environ.get("NETJIT_MAX_LOAD_BYTES", 512 << 20))


class LoadError(InvalidArgumentError):
    """A saved file is malformed; ``location`` is the JSON path of the problem."""

    def __init__(self, path, location: str, msg: str):
        self.path, self.location = str(path), location
        super().__init__(f"{path}: {location or 'top level'}: {msg}")


# -- saving -------------------------------------------------------------------

class _Encoder:
    """Turns op attributes into JSON, collecting large arrays for the side file."""

    def __init__(self, where: str):
        self.where = where
        self.arrays: dict[str, np.ndarray] = {}

    def value(self, v: Any, loc: str) -> Any:
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return float(v) if math.isfinite(v) else {"float": repr(float(v))}
        if isinstance(v, (tuple, list)):
            return [self.value(x, f"{loc}[{i}]") for i, x in enumerate(v)]
        if isinstance(v, np.dtype):
            return {"dtype": dtype_name(v)}
        if isinstance(v, TensorType):
            shape = None if v.shape is None else list(v.shape)
            return {"type": {"dtype": dtype_name(v.dtype), "shape": shape}}
        if isinstance(v, ConstValue):
            return {"tensor": self.tensor(v.array)}
        if isinstance(v, O.Op):
            return {"op": {"type": v.name, "attrs": self.attrs(v, loc)}}
        raise InvalidArgumentError(f"cannot save {self.where}: attribute {loc} holds a "
                                   f"{type(v).__name__}, which has no saved form")

    def attrs(self, op: O.Op, loc: str) -> dict:
        return {k: self.value(v, f"{loc}.{k}") for k, v in op.non_default_attrs().items()}

    def tensor(self, arr: np.ndarray) -> dict:
        out = {"dtype": dtype_name(arr.dtype), "shape": list(arr.shape)}
        inline = arr.dtype == object or (arr.size <= INLINE_MAX and
                                         (arr.dtype.kind != "f" or bool(np.isfinite(arr).all())))
        if inline:
            out["data"] = arr.ravel().tolist()
        else:
            key = f"c{len(self.arrays)}"
            self.arrays[key] = np.ascontiguousarray(arr)
            out["npz"] = key
        return out


class _Decoder:
    """Checks and decodes one document; every error names ``path`` and a location."""

    def __init__(self, path: Path):
        self.path = path
        self.npz_name: Optional[str] = None
        self.budget = max_load_bytes()
        self._zip: Optional[zipfile.ZipFile] = None

    def fail(self, loc: str, msg: str) -> LoadError:
        return LoadError(self.path, loc, msg)

    def expect(self, v, kind: type, loc: str, what: str):
        if not isinstance(v, kind):
            raise self.fail(loc, f"expected {what}, got {_describe(v)}")
        return v

    def fields(self, obj, loc: str, required: set, optional: set = frozenset()) -> dict:
        self.expect(obj, dict, loc, "an object")
        extra = sorted(set(obj) - required - set(optional))
        if extra:
            raise self.fail(f"{loc}.{extra[0]}" if loc else extra[0], "unknown field")
        missing = sorted(required - set(obj))
        if missing:
            raise self.fail(loc, f"missing field {missing[0]!r}")
        return obj

    def names(self, v, loc: str) -> list[str]:
        self.expect(v, list, loc, "a list of blob names")
        for i, b in enumerate(v):
            if not isinstance(b, str) or not b:
                raise self.fail(f"{loc}[{i}]", f"expected a blob name, got {_describe(b)}")
        return v

    def value(self, v, loc: str, depth: int = 0):
        if depth > _MAX_DEPTH:
            raise self.fail(loc, f"nested deeper than {_MAX_DEPTH} levels")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return tuple(self.value(x, f"{loc}[{i}]", depth + 1) for i, x in enumerate(v))
        if isinstance(v, dict) and len(v) == 1:
            tag, body = next(iter(v.items()))
            decode = getattr(self, f"tag_{tag}", None)
            if decode is not None:
                return decode(body, f"{loc}.{tag}", depth)
        raise self.fail(loc, f"expected a scalar, list or tagged value (dtype, type, float, op, "
                             f"tensor), got {_describe(v)}")

    def tag_dtype(self, body, loc, depth=0) -> np.dtype:
        if not isinstance(body, str) or body not in DTYPES:
            raise self.fail(loc, f"unknown dtype {body!r}; expected one of {sorted(DTYPES)}")
        return DTYPES[body]

    def tag_float(self, body, loc, depth=0) -> float:
        if body not in ("nan", "inf", "-inf"):
            raise self.fail(loc, f"expected 'nan', 'inf' or '-inf', got {_describe(body)}")
        return float(body)

    def shape(self, v, loc: str, dynamic: bool) -> tuple:
        self.expect(v, list, loc, "a shape (list of dims)")
        for i, d in enumerate(v):
            ok = (d is None and dynamic) or (isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**62)
            if not ok:
                raise self.fail(f"{loc}[{i}]", f"expected a non-negative dim{' or null' if dynamic else ''}, "
                                               f"got {_describe(d)}")
        return tuple(v)

    def tag_type(self, body, loc, depth=0) -> TensorType:
        self.fields(body, loc, {"dtype", "shape"})
        dt = self.tag_dtype(body["dtype"], f"{loc}.dtype")
        shape = None if body["shape"] is None else self.shape(body["shape"], f"{loc}.shape", True)
        return TensorType(dt, shape)

    def tag_op(self, body, loc, depth=0) -> O.Op:
        self.fields(body, loc, {"type", "attrs"})
        return self.make_op(body["type"], body["attrs"], loc, depth + 1)

    def make_op(self, type_name, attrs, loc: str, depth: int = 0) -> O.Op:
        if not isinstance(type_name, str) or type_name not in O.OP_REGISTRY:
            raise self.fail(f"{loc}.type", f"unknown op {_describe(type_name)}")
        cls = O.OP_REGISTRY[type_name]
        self.expect(attrs, dict, f"{loc}.attrs", "an object of attributes")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for k, raw in attrs.items():
            if k not in fields:
                raise self.fail(f"{loc}.attrs.{k}", f"{type_name} has no attribute {k!r} "
                                                    f"(it has {sorted(fields) or 'none'})")
            kwargs[k] = v = self.value(raw, f"{loc}.attrs.{k}", depth + 1)
            if not _fits(fields[k].type, v):
                raise self.fail(f"{loc}.attrs.{k}", f"expected {fields[k].type}, got {_describe(raw)}")
        try:
            return cls(**kwargs)
        except (InferError, NetjitError, TypeError, ValueError, OverflowError) as exc:
            raise self.fail(f"{loc}.attrs", f"bad attributes for {type_name}: {exc}") from None

    def tag_tensor(self, body, loc, depth=0) -> ConstValue:
        obj = self.expect(body, dict, loc, "a tensor object")
        source = "npz" if "npz" in obj else "data"
        self.fields(obj, loc, {"dtype", "shape", source})
        dt = self.tag_dtype(obj["dtype"], f"{loc}.dtype")
        shape = self.shape(obj["shape"], f"{loc}.shape", False)
        size = math.prod(shape)
        self.budget -= size * dt.itemsize
        if self.budget < 0:
            raise self.fail(f"{loc}.shape", f"constants of {shape} exceed the load budget of "
                                            f"{max_load_bytes()} bytes (NETJIT_MAX_LOAD_BYTES)")
        if source == "data":
            return ConstValue(self.inline(obj["data"], dt, shape, f"{loc}.data"))
        return ConstValue(self.from_npz(obj["npz"], dt, shape, f"{loc}.npz"))

    def inline(self, data, dt: np.dtype, shape: tuple, loc: str) -> np.ndarray:
        self.expect(data, list, loc, "a flat list of values")
        if len(data) != math.prod(shape):
            raise self.fail(loc, f"{len(data)} values for shape {list(shape)}")
        check = {"f": _CHECKS["float"], "i": _CHECKS["int"], "b": _CHECKS["bool"], "O": _CHECKS["str"]}[dt.kind]
        for i, x in enumerate(data):
            if not check(x):
                raise self.fail(f"{loc}[{i}]", f"expected a {dtype_name(dt)} value, got {_describe(x)}")
        try:
            if dt == object:
                arr = np.empty(len(data), dtype=object)
                arr[:] = data
                return arr.reshape(shape)
            return np.array(data, dtype=dt).reshape(shape)
        except (OverflowError, ValueError) as exc:
            raise self.fail(loc, f"values do not fit {dtype_name(dt)}: {exc}") from None

    def from_npz(self, key, dt: np.dtype, shape: tuple, loc: str) -> np.ndarray:
        if not isinstance(key, str) or not _NPZ_KEY.match(key):
            raise self.fail(loc, f"expected an array key like 'c0', got {_describe(key)}")
        if dt == object:
            raise self.fail(loc, "str constants are stored inline, never in the side file")
        zf = self.side_file(loc)
        member = f"{key}.npy"
        try:
            with zf.open(member) as fh:
                version = np.lib.format.read_magic(fh)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                got_shape, _, got_dt = read(fh)
            if got_dt != dt or tuple(got_shape) != shape:
                raise self.fail(loc, f"array {key!r} of {self.npz_name} is {got_dt}{list(got_shape)}, "
                                     f"declared {dtype_name(dt)}{list(shape)}")
            with zf.open(member) as fh:
                return np.lib.format.read_array(fh, allow_pickle=False)
        except KeyError:
            raise self.fail(loc, f"no array {key!r} in {self.npz_name}") from None
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise self.fail(loc, f"cannot read array {key!r} of {self.npz_name}: {exc}") from None

    def side_file(self, loc: str) -> zipfile.ZipFile:
        if self.npz_name is None:
            raise self.fail(loc, "the net refers to a side file but 'constants' is null")
        if self._zip is None:
            npz = self.path.parent / self.npz_name
            try:
                self._zip = zipfile.ZipFile(npz)
            except (OSError, zipfile.BadZipFile) as exc:
                raise self.fail("constants", f"cannot open {npz}: {exc}") from None
        return self._zip

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _fits(annotation: str, v) -> bool:
    """Does decoded ``v`` fit a dataclass field annotation (unknown ones accept anything)?"""
    if annotation.startswith("Optional[") and annotation.endswith("]"):
        return v is None or _fits(annotation[9:-1], v)
    check = _CHECKS.get(annotation)
    return check is None or check(v)


def _describe(v) -> str:
    text = json.dumps(v) if isinstance(v, (dict, list, str, int, float, bool, type(None))) else repr(v)
    text = text if len(text) <= 40 else text[:37] + "..."
    kind = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(v), "number")
    return f"{kind} {text}"


def read_document(path) -> dict:
    """Parse ``path`` as JSON with limits; errors are LoadErrors naming the file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise LoadError(path, "", f"file is {size} bytes, more than {MAX_JSON_BYTES}")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise LoadError(path, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(path, "", f"cannot read: {exc}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise LoadError(path, f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise LoadError(path, "", f"not valid JSON: {exc}") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON; write {{\"float\": \"nan\"}} style tags")
