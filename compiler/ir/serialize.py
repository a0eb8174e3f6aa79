"""The IR as JSON (for tools), with large constants in a side ``.npz``.

The format is versioned (``"format": "netjit-ir", "version": 1``) and
round-trips exactly: node ids, names, devices, meta, control edges (and
which of them are order-only), types
with unknown dims and every attribute value, constants bit for bit. Values
that JSON has no word for are one-key objects (see ``_TAGS``); docs/ir.md
sketches the schema. Nothing is pickled and nothing is ``eval``-ed: arrays
travel as base64 of their little-endian bytes, or in an ``.npz`` read with
``allow_pickle=False``. A malformed document raises InvalidArgumentError
naming the file and the JSON location, e.g. ``nodes[3].op.attrs.axis``.
"""
from __future__ import annotations

import base64
import json
import math
import os
from typing import Any, Optional

import numpy as np

from netjit.errors import InvalidArgumentError

from ..ops import DTYPES, OP_REGISTRY, ConstValue, InferError, Op, TensorType, as_dtype, dtype_name
from .graph import Graph
from .verify import check_attr_types

FORMAT, VERSION = "netjit-ir", 1
#: Constants with more elements than this go to the side .npz when there is one.
NPZ_MIN_SIZE = 64
_NP_SCALARS = {"f32": np.float32, "f64": np.float64, "i32": np.int32, "i64": np.int64, "bool": np.bool_}


class _Bad(Exception):
    """A decoding failure at a JSON location; turned into InvalidArgumentError at the top."""

    def __init__(self, where: str, msg: str):
        super().__init__(f"{where}: {msg}")


# -- encoding ---------------------------------------------------------------
class _Encoder:
    def __init__(self, side: Optional[dict]):
        self.side = side  # npz key -> array, or None to keep every array inline

    def value(self, v) -> Any:
        if v is None or type(v) in (bool, int, str):
            return v
        if isinstance(v, str):  # BlobReference, np.str_
            return str(v)
        if isinstance(v, float) and type(v) is float:
            return v if math.isfinite(v) else {"float": repr(v)}
        if isinstance(v, tuple) and type(v) is tuple:
            return {"tuple": [self.value(x) for x in v]}
        if isinstance(v, list) and type(v) is list:
            return [self.value(x) for x in v]
        if isinstance(v, dict) and type(v) is dict:
            return {"dict": [[self.value(k), self.value(x)] for k, x in v.items()]}
        if isinstance(v, np.dtype):
            return {"dtype": dtype_name(v)}
        if isinstance(v, np.generic) and v.dtype in _NP_SCALARS.values():
            return {"np": dtype_name(v.dtype), "value": self.value(v.item())}
        if isinstance(v, TensorType):
            return {"type": encode_type(v)}
        if isinstance(v, ConstValue):
            return {"const": self.const(v)}
        if isinstance(v, Op):
            return {"op": self.op(v)}
        raise InvalidArgumentError(f"cannot serialise a value of type {type(v).__name__}: {v!r}")

    def op(self, op: Op) -> dict:
        return {"name": op.name, "attrs": {k: self.value(v) for k, v in op.attrs().items()}}

    def const(self, cv: ConstValue) -> dict:
        arr = cv.array
        out = {"dtype": dtype_name(arr.dtype), "shape": list(arr.shape)}
        if arr.dtype == object:
            items = arr.ravel().tolist()
            if not all(isinstance(s, str) for s in items):
                raise InvalidArgumentError("cannot serialise a constant holding non-string objects")
            out["strings"] = items
        elif self.side is not None and arr.size > NPZ_MIN_SIZE:
            key = f"c{cv.digest}"
            self.side[key] = arr
            out["npz"] = key
        else:
            data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
            out["base64"] = base64.b64encode(data.tobytes()).decode("ascii")
        return out


def encode_type(t: TensorType) -> dict:
    return {"dtype": dtype_name(t.dtype), "shape": None if t.shape is None else list(t.shape)}


def _encode_node(enc: _Encoder, graph: Graph, n: int) -> dict:
    meta = graph.meta(n)
    bad = [k for k in meta if not isinstance(k, str)]
    if bad:
        raise InvalidArgumentError(f"node {n}: meta keys must be strings, got {bad!r}")
    return {"id": n, "op": enc.op(graph.op(n)), "names": list(graph.names(n)),
            "device": graph.device(n), "types": [encode_type(t) for t in graph.types(n)],
            "inputs": [list(v) for v in graph.inputs_of(n)],
            "control": graph.control_inputs(n),
            **({"order_only": oo} if (oo := graph.order_only_inputs(n)) else {}),
            "meta": {k: enc.value(v) for k, v in meta.items()}}


def graph_to_dict(graph: Graph, side: Optional[dict] = None) -> dict:
    """The JSON document as Python data; large arrays go into ``side`` if given."""
    enc = _Encoder(side)
    return {"format": FORMAT, "version": VERSION, "name": graph.name,
            "next_id": graph._next_id,
            "inputs": list(graph.inputs), "outputs": [list(v) for v in graph.outputs],
            "targets": list(graph.targets),
            "nodes": [_encode_node(enc, graph, n) for n in graph.nodes()]}


def graph_to_json(graph: Graph, npz_path: Optional[str] = None) -> str:
    """The graph as JSON text.

    With ``npz_path``, constants of more than ``NPZ_MIN_SIZE`` elements are
    written there (``np.savez``) and referenced by key; otherwise every array
    is inline (base64).
    """
    side: Optional[dict] = {} if npz_path is not None else None
    text = _dumps(graph_to_dict(graph, side))
    if side:
        with open(npz_path, "wb") as fh:
            np.savez(fh, **side)
    return text


def _dumps(doc: dict) -> str:
    """Compact but diffable: the header on one line, then one node a line."""
    head = json.dumps({k: v for k, v in doc.items() if k != "nodes"}, allow_nan=False)
    nodes = ",\n".join("  " + json.dumps(node, allow_nan=False) for node in doc["nodes"])
    return f'{head[:-1]},\n "nodes": [\n{nodes}\n ]}}' if nodes else f'{head[:-1]}, "nodes": []}}'



# -- decoding ---------------------------------------------------------------
def _field(obj, key: str, where: str, kinds=None):
    if not isinstance(obj, dict):
        raise _Bad(where, f"expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise _Bad(where, f"missing key {key!r}")
    value = obj[key]
    if kinds is not None and (not isinstance(value, kinds) or isinstance(value, bool) and bool not in _tup(kinds)):
        raise _Bad(f"{where}.{key}", f"expected {_kind_names(kinds)}, got {json.dumps(value)[:40]}")
    return value


def _tup(kinds) -> tuple:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _kind_names(kinds) -> str:
    names = {int: "an integer", str: "a string", list: "a list", dict: "an object",
             bool: "a boolean", type(None): "null"}
    return " or ".join(names.get(k, k.__name__) for k in _tup(kinds))


class _Decoder:
    def __init__(self, side):
        self.side = side  # callable key -> array, or None

    def value(self, v, where: str):
        if v is None or isinstance(v, (bool, str, int, float)):
            return v
        if isinstance(v, list):
            return [self.value(x, f"{where}[{i}]") for i, x in enumerate(v)]
        tags = [k for k in v if k in _TAGS] if isinstance(v, dict) else []
        if len(tags) != 1 or len(v) != (2 if tags == ["np"] else 1):
            raise _Bad(where, f"expected a value or a one-key tagged object {sorted(_TAGS)}, "
                              f"got {json.dumps(v)[:60]}")
        return _TAGS[tags[0]](self, v, where)

    def op(self, obj, where: str) -> Op:
        name = _field(obj, "name", where, str)
        cls = OP_REGISTRY.get(name)
        if cls is None:
            raise _Bad(f"{where}.name", f"unknown op {name!r}")
        raw = _field(obj, "attrs", where, dict)
        attrs = {k: self.value(x, f"{where}.attrs.{k}") for k, x in raw.items()}
        try:
            op = cls(**attrs)
            check_attr_types(op)
            return op
        except TypeError as exc:
            raise _Bad(f"{where}.attrs", f"bad attributes for {name}: {exc}") from None
        except (ValueError, InferError, InvalidArgumentError) as exc:
            bad = next((k for k in attrs if f"{k}=" in str(exc)), None) or \
                next((k for k in attrs if k in str(exc)), None)
            raise _Bad(f"{where}.attrs{'.' + bad if bad else ''}", f"bad attribute for {name}: {exc}") from None

    def const(self, obj, where: str) -> ConstValue:
        dtype = _dtype(_field(obj, "dtype", where, str), f"{where}.dtype")
        shape = tuple(_dims(_field(obj, "shape", where, list), f"{where}.shape", allow_none=False))
        try:
            if "strings" in obj:
                arr = np.array(_field(obj, "strings", where, list), dtype=object).reshape(shape)
            elif "npz" in obj:
                arr = self._side_array(_field(obj, "npz", where, str), f"{where}.npz")
            else:
                raw = base64.b64decode(_field(obj, "base64", where, str), validate=True)
                arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)
        except (ValueError, TypeError) as exc:
            raise _Bad(where, f"bad constant data: {exc}") from None
        if arr.dtype != dtype or arr.shape != shape:
            raise _Bad(where, f"constant data is {TensorType.of(arr)}, declared "
                              f"{TensorType(dtype, shape)}")
        return ConstValue(arr)

    def _side_array(self, key: str, where: str) -> np.ndarray:
        if self.side is None:
            raise _Bad(where, f"constant {key!r} lives in a side .npz, but none was given")
        return self.side(key, where)


def _dtype(name, where: str) -> np.dtype:
    if name not in DTYPES:
        raise _Bad(where, f"unknown dtype {name!r}; expected one of {sorted(DTYPES)}")
    return DTYPES[name]


def _dims(shape, where: str, allow_none: bool = True) -> list:
    for i, d in enumerate(shape):
        if not (isinstance(d, int) and not isinstance(d, bool) and d >= 0 or d is None and allow_none):
            raise _Bad(f"{where}[{i}]", f"expected a dim (integer >= 0{' or null' if allow_none else ''}), "
                                        f"got {json.dumps(d)}")
    return shape


def decode_type(obj, where: str) -> TensorType:
    dtype = _dtype(_field(obj, "dtype", where, str), f"{where}.dtype")
    shape = _field(obj, "shape", where, (list, type(None)))
    return TensorType(dtype, None if shape is None else tuple(_dims(shape, f"{where}.shape")))


def _np_scalar(dec, v, where):
    name = _field(v, "np", where, str)
    if name not in _NP_SCALARS:
        raise _Bad(f"{where}.np", f"unknown NumPy scalar type {name!r}")
    return _NP_SCALARS[name](dec.value(_field(v, "value", where), f"{where}.value"))


def _special_float(dec, v, where):
    text = _field(v, "float", where, str)
    if text not in ("inf", "-inf", "nan"):
        raise _Bad(f"{where}.float", f"expected 'inf', '-inf' or 'nan', got {text!r}")
    return float(text)


def _dict(dec, v, where):
    pairs = _field(v, "dict", where, list)
    out = {}
    for i, pair in enumerate(pairs):
        if not isinstance(pair, list) or len(pair) != 2:
            raise _Bad(f"{where}.dict[{i}]", "expected a [key, value] pair")
        key = dec.value(pair[0], f"{where}.dict[{i}][0]")
        try:
            out[key] = dec.value(pair[1], f"{where}.dict[{i}][1]")
        except TypeError:
            raise _Bad(f"{where}.dict[{i}][0]", "unhashable key") from None
    return out


_TAGS = {
    "tuple": lambda d, v, w: tuple(d.value(_field(v, "tuple", w, list), f"{w}.tuple")),
    "dtype": lambda d, v, w: _dtype(_field(v, "dtype", w, str), f"{w}.dtype"),
    "type": lambda d, v, w: decode_type(_field(v, "type", w, dict), f"{w}.type"),
    "const": lambda d, v, w: d.const(_field(v, "const", w, dict), f"{w}.const"),
    "op": lambda d, v, w: d.op(_field(v, "op", w, dict), f"{w}.op"),
    "np": _np_scalar,
    "float": _special_float,
    "dict": _dict,
}


def _decode_node(dec: _Decoder, graph: Graph, obj, where: str) -> None:
    n = _field(obj, "id", where, int)
    op = dec.op(_field(obj, "op", where, dict), f"{where}.op")
    types = [decode_type(t, f"{where}.types[{i}]")
             for i, t in enumerate(_field(obj, "types", where, list))]
    names = _field(obj, "names", where, list)
    for i, nm in enumerate(names):
        if nm is not None and not isinstance(nm, str):
            raise _Bad(f"{where}.names[{i}]", f"expected a string or null, got {json.dumps(nm)}")
    device = _field(obj, "device", where, (str, type(None)))
    inputs = [_value_ref(graph, v, f"{where}.inputs[{i}]")
              for i, v in enumerate(_field(obj, "inputs", where, list))]
    try:
        graph.add(op, inputs, names=names, device=device, types=types, node_id=n)
    except InvalidArgumentError as exc:
        raise _Bad(f"{where}.id", str(exc)) from None
    control = _field(obj, "control", where, list)
    order_only = _field(obj, "order_only", where, list) if "order_only" in obj else []
    for i, u in enumerate(order_only):
        if _node_ref(graph, u, f"{where}.order_only[{i}]") not in control:
            raise _Bad(f"{where}.order_only[{i}]", f"expected one of the control ids {control}, "
                                                   f"got {json.dumps(u)}")
    for i, u in enumerate(control):
        graph.add_control(_node_ref(graph, u, f"{where}.control[{i}]"), n, order_only=u in order_only)
    meta = _field(obj, "meta", where, dict)
    graph.meta(n).update({k: dec.value(v, f"{where}.meta.{k}") for k, v in meta.items()})


def _node_ref(graph: Graph, n, where: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n not in graph:
        raise _Bad(where, f"expected the id of an earlier node, got {json.dumps(n)}")
    return n


def _value_ref(graph: Graph, v, where: str) -> tuple[int, int]:
    if not isinstance(v, list) or len(v) != 2:
        raise _Bad(where, f"expected [node id, output index], got {json.dumps(v)}")
    n = _node_ref(graph, v[0], f"{where}[0]")
    if not isinstance(v[1], int) or not 0 <= v[1] < len(graph.types(n)):
        raise _Bad(f"{where}[1]", f"node {n} has no output {json.dumps(v[1])}")
    return (n, v[1])


def graph_from_dict(doc, side=None) -> Graph:
    """A Graph from the JSON document's Python data; raises _Bad."""
    fmt = _field(doc, "format", "$", str)
    version = _field(doc, "version", "$", int)
    if fmt != FORMAT or version != VERSION:
        raise _Bad("$", f"expected format {FORMAT!r} version {VERSION}, got {fmt!r} version {version}")
    dec = _Decoder(side)
    graph = Graph(_field(doc, "name", "$", str))
    for i, node in enumerate(_field(doc, "nodes", "$", list)):
        _decode_node(dec, graph, node, f"nodes[{i}]")
    graph.inputs = [_node_ref(graph, n, f"inputs[{i}]")
                    for i, n in enumerate(_field(doc, "inputs", "$", list))]
    graph.outputs = [_value_ref(graph, v, f"outputs[{i}]")
                     for i, v in enumerate(_field(doc, "outputs", "$", list))]
    graph.targets = [_node_ref(graph, n, f"targets[{i}]")
                     for i, n in enumerate(_field(doc, "targets", "$", list))]
    graph._next_id = max(graph._next_id, _field(doc, "next_id", "$", int))
    return graph


def _npz_reader(npz_path: Optional[str]):
    if npz_path is None:
        return None
    cache: dict = {}

    def read(key: str, where: str) -> np.ndarray:
        if "file" not in cache:
            try:
                cache["file"] = np.load(npz_path, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise _Bad(where, f"cannot read {npz_path}: {exc}") from None
        if key not in cache["file"].files:
            raise _Bad(where, f"{npz_path} has no array {key!r}")
        return cache["file"][key]
    return read


def graph_from_json(text: str, npz_path: Optional[str] = None, *, source: str = "<json>") -> Graph:
    """The Graph a ``graph_to_json`` text describes (``npz_path``: its side arrays).

    Raises InvalidArgumentError naming ``source`` and the JSON location.
    """
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidArgumentError(f"{source}: not JSON (or nested too deeply): {exc}") from None
    try:
        return graph_from_dict(doc, _npz_reader(npz_path))
    except _Bad as exc:
        raise InvalidArgumentError(f"{source}: {exc}") from None
    except RecursionError:
        raise InvalidArgumentError(f"{source}: values nested too deeply") from None


def _paths(path) -> tuple[str, str]:
    path = os.fspath(path)
    json_path = path if path.endswith(".json") else path + ".json"
    return json_path, json_path[:-len(".json")] + ".npz"


def save_graph(graph: Graph, path) -> str:
    """Write ``path`` (``.json`` added if missing) and, for large constants, the
    side ``.npz`` next to it; returns the JSON path."""
    json_path, npz_path = _paths(path)
    side: dict = {}
    text = _dumps(graph_to_dict(graph, side))
    if side:
        with open(npz_path, "wb") as fh:
            np.savez(fh, **side)
    elif os.path.exists(npz_path):
        os.remove(npz_path)  # a stale side file would be misleading
    with open(json_path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return json_path


def load_graph(path) -> Graph:
    """Read a graph written by ``save_graph``."""
    json_path, npz_path = _paths(path)
    try:
        with open(json_path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read IR file {json_path}: {exc}") from None
    return graph_from_json(text, npz_path if os.path.exists(npz_path) else None, source=json_path)
