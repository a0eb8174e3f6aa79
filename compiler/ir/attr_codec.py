"""Op attribute values as JSON and back: the one codec of IR graphs and saved nets.

Encoding turns an attribute value (None, bool, int, float, str, tuple, list,
dtype, NumPy scalar, TensorType, ConstValue, nested Op) into JSON data: JSON
scalars as themselves, non-finite floats and everything JSON has no word for
as a one-key tagged object (``{"dtype": "f32"}``, ``{"float": "nan"}``,
``{"type": {...}}``, ``{"op": {...}}``, a constant ``{"const"|"tensor":
{"dtype", "shape", ...}}``). Constants of more than ``INLINE_MAX`` elements go
to a side ``.npz`` when the caller collects one; string constants stay inline.

Decoding treats the document as hostile, for every format alike: unknown or
missing fields, a nesting depth limit, a byte budget for declared constants
(``NETJIT_MAX_LOAD_BYTES``, default 512 MiB), side-file keys that cannot name
a path, ``.npz`` array headers checked against the declared dtype and shape
before any data is read (never unpickled), attribute values checked against
the op's declared field types before the op is built. Every problem is a
LoadError naming the file and the JSON location (``nodes[3].op.attrs.axis``).

Each file format chooses a ``Spelling``: the IR JSON (compiler/ir/serialize.py)
and saved nets (compiler/frontend/saving.py) spell a few things differently in their
version 1, which stays readable and writable; the checks are the same.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from netjit.errors import InvalidArgumentError, NetjitError

from ..ops import DTYPES, OP_REGISTRY, ConstValue, InferError, Op, TensorType, dtype_name
from .files import check_regular
from .verify import attr_fits

#: Constants with at most this many elements stay in the JSON.
INLINE_MAX = 64
#: Saved JSON files larger than this are refused before parsing.
MAX_JSON_BYTES = 256 << 20
#: Values (lists, tags, nested ops) nest at most this deep.
MAX_DEPTH = 32
#: Side-file keys: a counter (``c0``) or a SHA-1 digest (``c5f61...``); never a path.
_NPZ_KEY = re.compile(r"c(\d{1,9}|[0-9a-f]{40})\Z")
_NP_SCALARS = {name: dt.type for name, dt in DTYPES.items() if dt.kind != "O"}
#: What a decoded JSON value must be for each element kind of a dtype.
_ELEMENT_KINDS = {"f": (int, float), "i": (int,), "u": (int,), "b": (bool,), "O": (str,)}


def max_load_bytes() -> int:
    """The budget for the constants one file may declare."""
    return int(os.environ.get("NETJIT_MAX_LOAD_BYTES", 512 << 20))


class LoadError(InvalidArgumentError):
    """A saved file is malformed; ``location`` is the JSON path of the problem."""

    def __init__(self, path, location: str, msg: str):
        self.path, self.location = str(path), location
        super().__init__(f"{path}: {location or 'top level'}: {msg}")


@dataclass(frozen=True)
class Spelling:
    """How one file format writes attribute values (decoding checks do not depend on it).

    ``exact`` (the IR JSON): tuples as ``{"tuple": [...]}`` and lists as JSON
    lists, NumPy scalars as ``{"np": "f32", "value": 1.5}``, dicts as
    ``{"dict": [[k, v], ...]}``, every attribute of an op, inline arrays as
    ``"base64"`` of their little-endian bytes (NaN payloads survive) or
    ``"strings"``, side arrays keyed by digest (dumps diff cleanly).
    Otherwise (saved nets): any sequence is a JSON list read back as a tuple,
    NumPy scalars are Python ones, only non-default attributes are written,
    inline arrays are ``"data"`` (JSON numbers or strings; non-finite floats go
    to the side file), side arrays are keyed ``c0``, ``c1``, ...
    """

    op_key: str      # the key of an op's registry name: "name" (IR) or "type" (nets)
    const_tag: str   # the tag of a constant: "const" (IR) or "tensor" (nets)
    exact: bool


def describe(v) -> str:
    """A short description of a JSON value for error messages: ``string "yes"``."""
    text = json.dumps(v) if isinstance(v, (dict, list, str, int, float, bool, type(None))) else repr(v)
    text = text if len(text) <= 40 else text[:37] + "..."
    kind = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(v), "number")
    return f"{kind} {text}"


def _quoted(v) -> str:
    """A name as ``'Relux'`` (anything else described)."""
    return repr(v) if isinstance(v, str) and len(v) <= 40 else describe(v)


def parse_json(text: str):
    """``json.loads`` that refuses the non-JSON words NaN and Infinity (ValueError)."""
    return json.loads(text, parse_constant=_reject_constant)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON; write {{\"float\": \"nan\"}} style tags")


# -- encoding -------------------------------------------------------------------

class Encoder:
    """Turns attribute values into JSON data, collecting large arrays in ``arrays``.

    ``where`` names what is being saved (``net 'mlp'``) in error messages;
    ``arrays`` None keeps every array inline.
    """

    def __init__(self, spelling: Spelling, where: str, arrays: Optional[dict] = None):
        self.spelling, self.where, self.arrays = spelling, where, arrays
        self._keys: dict[str, str] = {}  # digest -> side key: a constant used twice is stored once

    def value(self, v: Any, loc: str) -> Any:
        """The JSON data of ``v``; ``loc`` is its JSON location, for errors."""
        exact = self.spelling.exact
        if isinstance(v, (np.bool_, np.number)):
            if not exact:
                v = v.item()
            elif type(v) in _NP_SCALARS.values():
                return {"np": dtype_name(v.dtype), "value": self.value(v.item(), f"{loc}.value")}
        if v is None or type(v) in (bool, int):
            return v
        if isinstance(v, str):  # BlobReference, np.str_
            return str(v)
        if type(v) is float:
            return v if math.isfinite(v) else {"float": repr(v)}
        if type(v) in (tuple, list):
            items = [self.value(x, f"{loc}[{i}]") for i, x in enumerate(v)]
            return {"tuple": items} if exact and type(v) is tuple else items
        if exact and type(v) is dict:
            return {"dict": [[self.value(k, f"{loc}.dict[{i}][0]"), self.value(x, f"{loc}.dict[{i}][1]")]
                             for i, (k, x) in enumerate(v.items())]}
        if isinstance(v, np.dtype):
            return {"dtype": dtype_name(v)}
        if isinstance(v, TensorType):
            return {"type": tensor_type_json(v)}
        if isinstance(v, ConstValue):
            tag = self.spelling.const_tag
            return {tag: self.const(v, f"{loc}.{tag}")}
        if isinstance(v, Op):
            return {"op": self.op(v, f"{loc}.op")}
        raise InvalidArgumentError(f"cannot save {self.where}: attribute {loc} holds a "
                                   f"{type(v).__name__}, which has no saved form")

    def op(self, op: Op, loc: str) -> dict:
        """``{op_key: name, "attrs": {...}}`` for an op at ``loc``."""
        return {self.spelling.op_key: op.name, "attrs": self.attrs(op, f"{loc}.attrs")}

    def attrs(self, op: Op, loc: str) -> dict:
        """The op's attributes (all of them, or the non-default ones) as JSON data."""
        attrs = op.attrs() if self.spelling.exact else op.non_default_attrs()
        return {k: self.value(v, f"{loc}.{k}") for k, v in attrs.items()}

    def const(self, cv: ConstValue, loc: str) -> dict:
        arr, exact = cv.array, self.spelling.exact
        out: dict[str, Any] = {"dtype": dtype_name(arr.dtype), "shape": list(arr.shape)}
        if arr.dtype == object:
            items = arr.ravel().tolist()
            if not all(isinstance(s, str) for s in items):
                raise InvalidArgumentError(f"cannot save {self.where}: constant {loc} holds objects "
                                           "that are not strings")
            out["strings" if exact else "data"] = [str(s) for s in items]
        elif self.arrays is None or arr.size <= INLINE_MAX and \
                (exact or arr.dtype.kind != "f" or bool(np.isfinite(arr).all())):
            if exact:
                little = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
                out["base64"] = base64.b64encode(little.tobytes()).decode("ascii")
            else:
                out["data"] = arr.ravel().tolist()
        else:
            key = self._keys.get(cv.digest)
            if key is None:
                key = self._keys[cv.digest] = f"c{cv.digest}" if exact else f"c{len(self._keys)}"
                self.arrays[key] = np.ascontiguousarray(arr)
            out["npz"] = key
        return out


def tensor_type_json(t: TensorType) -> dict:
    """``{"dtype": "f32", "shape": [null, 3]}`` (``"shape": null`` for unknown rank)."""
    return {"dtype": dtype_name(t.dtype), "shape": None if t.shape is None else list(t.shape)}


# -- decoding -------------------------------------------------------------------

class Decoder:
    """Checks and decodes the values of one document; every error names ``path`` and a location.

    ``npz`` is the side file (None: the document must not refer to one;
    ``no_npz`` says why in that error). Call ``close()`` when done.
    """

    def __init__(self, path, spelling: Spelling, npz: Optional[Path] = None,
                 no_npz: str = "none was given"):
        self.path, self.spelling = path, spelling
        self.npz, self.no_npz = npz, no_npz
        self.budget = max_load_bytes()
        self._zip: Optional[zipfile.ZipFile] = None
        self._tags = {"dtype": self.dtype, "float": self.special_float, "type": self.tensor_type,
                      "op": self.op, spelling.const_tag: self.const}
        if spelling.exact:
            self._tags.update(tuple=self.tuple_, dict=self.dict_)

    # generic checks, for document structure too
    def fail(self, loc: str, msg: str) -> LoadError:
        return LoadError(self.path, loc, msg)

    def expect(self, v, kind, loc: str, what: str):
        """``v`` if it is a ``kind`` (an int is never a bool), else a LoadError at ``loc``."""
        if not isinstance(v, kind) or (isinstance(v, bool) and kind is int):
            raise self.fail(loc, f"expected {what}, got {describe(v)}")
        return v

    def fields(self, obj, loc: str, required: set, optional: set = frozenset()) -> dict:
        """``obj`` if it is an object with all ``required`` fields and no unknown ones."""
        self.expect(obj, dict, loc, "an object")
        extra = sorted(set(obj) - set(required) - set(optional))
        if extra:
            raise self.fail(f"{loc}.{extra[0]}" if loc else extra[0], "unknown field")
        missing = sorted(set(required) - set(obj))
        if missing:
            raise self.fail(loc, f"missing field {missing[0]!r}")
        return obj

    def shape(self, v, loc: str, dynamic: bool) -> tuple:
        self.expect(v, list, loc, "a shape (list of dims)")
        for i, d in enumerate(v):
            if not ((d is None and dynamic) or (type(d) is int and 0 <= d < 2**62)):
                raise self.fail(f"{loc}[{i}]", f"expected a dim (integer >= 0{' or null' if dynamic else ''}), "
                                               f"got {describe(d)}")
        return tuple(v)

    # values
    def value(self, v, loc: str, depth: int = 0):
        """The attribute value JSON data ``v`` at ``loc`` stands for."""
        if depth > MAX_DEPTH:
            raise self.fail(loc, f"values nested too deeply (more than {MAX_DEPTH} levels)")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            items = [self.value(x, f"{loc}[{i}]", depth + 1) for i, x in enumerate(v)]
            return items if self.spelling.exact else tuple(items)
        if isinstance(v, dict) and len(v) == 1 and next(iter(v)) in self._tags:
            tag, body = next(iter(v.items()))
            return self._tags[tag](body, f"{loc}.{tag}", depth + 1)
        if isinstance(v, dict) and "np" in v and self.spelling.exact:  # the one two-key tag
            return self.np_scalar(v, loc, depth + 1)
        tags = ", ".join([*self._tags, *(["np"] if self.spelling.exact else [])])
        raise self.fail(loc, f"expected a value or a one-key tagged object ({tags}), got {describe(v)}")

    def dtype(self, body, loc: str, depth: int = 0) -> np.dtype:
        if not isinstance(body, str) or body not in DTYPES:
            raise self.fail(loc, f"unknown dtype {_quoted(body)}; expected one of {sorted(DTYPES)}")
        return DTYPES[body]

    def special_float(self, body, loc: str, depth: int = 0) -> float:
        if body not in ("nan", "inf", "-inf"):
            raise self.fail(loc, f"expected 'nan', 'inf' or '-inf', got {describe(body)}")
        return float(body)

    def tensor_type(self, body, loc: str, depth: int = 0) -> TensorType:
        self.fields(body, loc, {"dtype", "shape"})
        dt = self.dtype(body["dtype"], f"{loc}.dtype")
        shape = None if body["shape"] is None else self.shape(body["shape"], f"{loc}.shape", True)
        return TensorType(dt, shape)

    def tuple_(self, body, loc: str, depth: int = 0) -> tuple:
        self.expect(body, list, loc, "a list")
        return tuple(self.value(x, f"{loc}[{i}]", depth + 1) for i, x in enumerate(body))

    def dict_(self, body, loc: str, depth: int = 0) -> dict:
        out = {}
        for i, pair in enumerate(self.expect(body, list, loc, "a list of [key, value] pairs")):
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.fail(f"{loc}[{i}]", f"expected a [key, value] pair, got {describe(pair)}")
            key = self.value(pair[0], f"{loc}[{i}][0]", depth + 1)
            try:
                out[key] = self.value(pair[1], f"{loc}[{i}][1]", depth + 1)
            except TypeError:
                raise self.fail(f"{loc}[{i}][0]", "unhashable key") from None
        return out

    def np_scalar(self, body, loc: str, depth: int = 0):
        self.fields(body, loc, {"np", "value"})
        name = body["np"]
        if name not in _NP_SCALARS:
            raise self.fail(f"{loc}.np", f"unknown NumPy scalar type {_quoted(name)}")
        v = self.value(body["value"], f"{loc}.value", depth + 1)
        if not isinstance(v, _ELEMENT_KINDS[DTYPES[name].kind]) or isinstance(v, bool) != (name == "bool"):
            raise self.fail(f"{loc}.value", f"expected a {name} value, got {describe(body['value'])}")
        try:
            return _NP_SCALARS[name](v)
        except (OverflowError, ValueError) as exc:
            raise self.fail(f"{loc}.value", f"does not fit {name}: {exc}") from None

    # ops
    def op(self, body, loc: str, depth: int = 0) -> Op:
        key = self.spelling.op_key
        self.fields(body, loc, {key, "attrs"})
        return self.make_op(body[key], body["attrs"], loc, depth)

    def make_op(self, type_name, attrs, loc: str, depth: int = 0) -> Op:
        """The op ``type_name`` with JSON ``attrs``; ``loc`` is the op's object."""
        if not isinstance(type_name, str) or type_name not in OP_REGISTRY:
            raise self.fail(f"{loc}.{self.spelling.op_key}", f"unknown op {_quoted(type_name)}")
        cls = OP_REGISTRY[type_name]
        self.expect(attrs, dict, f"{loc}.attrs", "an object of attributes")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for k, raw in attrs.items():
            at = f"{loc}.attrs.{k}"
            if k not in fields:
                raise self.fail(at, f"{type_name} has no attribute {k!r} (it has {sorted(fields) or 'none'})")
            kwargs[k] = v = self.value(raw, at, depth + 1)
            if not attr_fits(fields[k], v, bool_is_number=False):
                raise self.fail(at, f"bad attribute for {type_name}: attribute {k}={v!r} is not {fields[k].type}")
        try:
            return cls(**kwargs)
        except (InferError, NetjitError, TypeError, ValueError, OverflowError) as exc:
            # Name the attribute when the op's own check names it ("at most one -1 in a Reshape shape").
            bad = next((k for k in kwargs if f"{k}=" in str(exc)), None) or \
                next((k for k in kwargs if k in str(exc)), None)
            raise self.fail(f"{loc}.attrs{'.' + bad if bad else ''}",
                            f"bad attributes for {type_name}: {exc}") from None

    # constants
    def const(self, body, loc: str, depth: int = 0) -> ConstValue:
        obj = self.expect(body, dict, loc, "a constant object")
        sources = ("npz", "base64", "strings") if self.spelling.exact else ("npz", "data")
        source = next((s for s in sources if s in obj), sources[1])
        self.fields(obj, loc, {"dtype", "shape", source})
        dt = self.dtype(obj["dtype"], f"{loc}.dtype")
        shape = self.shape(obj["shape"], f"{loc}.shape", False)
        self.budget -= math.prod(shape) * dt.itemsize
        if self.budget < 0:
            raise self.fail(f"{loc}.shape", f"constants of {list(shape)} exceed the load budget of "
                                            f"{max_load_bytes()} bytes (NETJIT_MAX_LOAD_BYTES)")
        if source == "npz":
            return ConstValue(self.from_npz(obj["npz"], dt, shape, f"{loc}.npz"))
        if source == "base64":
            return ConstValue(self.from_base64(obj["base64"], dt, shape, loc))
        if source == "strings" and dt != object:
            raise self.fail(f"{loc}.strings", f"only str constants are strings, this one is {dtype_name(dt)}")
        return ConstValue(self.inline(obj[source], dt, shape, f"{loc}.{source}"))

    def inline(self, data, dt: np.dtype, shape: tuple, loc: str) -> np.ndarray:
        self.expect(data, list, loc, "a flat list of values")
        if len(data) != math.prod(shape):
            raise self.fail(loc, f"{len(data)} values for shape {list(shape)}")
        kinds = _ELEMENT_KINDS[dt.kind]
        for i, x in enumerate(data):
            if not isinstance(x, kinds) or isinstance(x, bool) != (dt.kind == "b"):
                raise self.fail(f"{loc}[{i}]", f"expected a {dtype_name(dt)} value, got {describe(x)}")
        try:
            if dt == object:
                arr = np.empty(len(data), dtype=object)
                arr[:] = data
                return arr.reshape(shape)
            return np.array(data, dtype=dt).reshape(shape)
        except (OverflowError, ValueError) as exc:
            raise self.fail(loc, f"values do not fit {dtype_name(dt)}: {exc}") from None

    def from_base64(self, text, dt: np.dtype, shape: tuple, loc: str) -> np.ndarray:
        if dt == object:
            raise self.fail(f"{loc}.base64", "str constants are stored as strings, never as bytes")
        try:
            raw = base64.b64decode(self.expect(text, str, f"{loc}.base64", "a base64 string"), validate=True)
        except ValueError as exc:
            raise self.fail(loc, f"bad constant data: {exc}") from None
        if len(raw) != math.prod(shape) * dt.itemsize:
            raise self.fail(loc, f"bad constant data: {len(raw)} bytes for {dtype_name(dt)}{list(shape)}")
        return np.frombuffer(raw, dtype=dt.newbyteorder("<")).astype(dt).reshape(shape)

    def from_npz(self, key, dt: np.dtype, shape: tuple, loc: str) -> np.ndarray:
        if not isinstance(key, str) or not _NPZ_KEY.match(key):
            raise self.fail(loc, f"expected an array key like 'c0', got {describe(key)}")
        if dt == object:
            raise self.fail(loc, "str constants are stored inline, never in the side file")
        zf, member = self.side_file(key, loc), f"{key}.npy"
        try:
            with zf.open(member) as fh:
                version = np.lib.format.read_magic(fh)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                got_shape, _, got_dt = read(fh)
            if got_dt != dt or tuple(got_shape) != shape:
                raise self.fail(loc, f"array {key!r} of {self.npz.name} is {got_dt}{list(got_shape)}, "
                                     f"declared {dtype_name(dt)}{list(shape)}")
            with zf.open(member) as fh:
                return np.lib.format.read_array(fh, allow_pickle=False)
        except KeyError:
            raise self.fail(loc, f"no array {key!r} in {self.npz.name}") from None
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise self.fail(loc, f"cannot read array {key!r} of {self.npz.name}: {exc}") from None

    def side_file(self, key: str, loc: str) -> zipfile.ZipFile:
        if self.npz is None:
            raise self.fail(loc, f"constant {key!r} lives in a side .npz, but {self.no_npz}")
        if self._zip is None:
            try:
                check_regular(self.npz)
                self._zip = zipfile.ZipFile(self.npz)
            except InvalidArgumentError as exc:
                raise self.fail(loc, str(exc)) from None
            except (OSError, zipfile.BadZipFile) as exc:
                raise self.fail(loc, f"cannot open {self.npz.name}: {exc}") from None
        return self._zip

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None
