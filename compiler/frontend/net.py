"""The Caffe2-style frontend: ``Net`` is an ordered program of ops over named blobs.

Op methods (``net.Add``, ``net.MatMul``...) are made from the op registry;
``Const``, ``Placeholder``, ``Variable``, ``Assign``, ``AssignAdd`` and
``Print`` add frontend conveniences. Each call is checked at build time: the
op exists, the attributes and arity fit, and, where the input types are
known, the shapes and dtypes agree.
"""
from __future__ import annotations

import itertools
import threading
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import numpy as np

from netjit.errors import InvalidArgumentError

from .. import ops as O
from ..device import current_device
from ..ir.verify import attr_fits
from ..ops import ConstValue, InferError, TensorType
from ..ops.python_op import python_op_adder
from .saving import save_net

#: Frontend op types whose IR op lowering builds (the variable they name is resolved there).
VARIABLE_UPDATES = {"Assign": O.Assign, "AssignAdd": O.AssignAdd}


class UnknownOpError(InvalidArgumentError, AttributeError):
    """``net.Foo`` for an op nobody registered (an AttributeError too, so hasattr() works)."""


class BlobReference(str):
    """A blob name, bound to the net that made it. ``==``/hash are the name's."""

    __slots__ = ("net",)

    def __new__(cls, name: str, net: Optional["Net"] = None):
        ref = super().__new__(cls, name)
        ref.net = net
        return ref

    def __add__(self, suffix: str) -> "BlobReference":
        return BlobReference(str(self) + suffix, self.net)

    def __repr__(self) -> str:
        return f"BlobReference({str(self)!r})"

    def __getattr__(self, op_type: str):
        """``ref.Relu()`` forwards to the producing net with this blob as first input."""
        if op_type.startswith("_") or self.net is None:
            raise AttributeError(op_type)
        method = getattr(self.net, op_type)

        def forward(inputs=None, *args, **kwargs):
            extra = [] if inputs is None else ([inputs] if isinstance(inputs, str) else list(inputs))
            return method([self] + extra, *args, **kwargs)
        return forward


@dataclass
class OpDef:
    """One recorded op: what the user wrote, before lowering."""

    type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    op: Optional[O.Op]                 # None for Assign/AssignAdd until lowering
    device: Optional[str] = None
    attrs: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{', '.join(self.outputs) or '()'} = {self.type}({', '.join(self.inputs)})"


_names_lock = threading.Lock()
_used_net_names: set[str] = set()


def _unique_net_name(name: str) -> str:
    with _names_lock:
        candidate = name
        for i in itertools.count(1):
            if candidate not in _used_net_names:
                _used_net_names.add(candidate)
                return candidate
            candidate = f"{name}_{i}"


BlobLike = Union[str, BlobReference]


class Net:
    """An ordered program of ops over named blobs (Caffe2's ``core.Net``)."""

    def __init__(self, name: str = "net"):
        self.name = _unique_net_name(str(name))
        self.ops: list[OpDef] = []
        self._written: set[str] = set()
        self._external_inputs: list[str] = []
        self._external_outputs: list[str] = []
        self._types: dict[str, TensorType] = {}
        self._name_counts: dict[str, int] = {}

    # -- introspection ----------------------------------------------------
    @property
    def external_inputs(self) -> list[BlobReference]:
        """Blobs read before any op of this net writes them."""
        return [BlobReference(b, self) for b in self._external_inputs]

    @property
    def external_outputs(self) -> list[BlobReference]:
        return [BlobReference(b, self) for b in self._external_outputs]

    def AddExternalOutput(self, *blobs: BlobLike) -> None:
        """Declare blobs whose values must survive (the rest may be optimised away)."""
        for b in blobs:
            if str(b) not in self._external_outputs:
                self._external_outputs.append(str(b))

    def AddExternalInput(self, *blobs: BlobLike) -> None:
        for b in blobs:
            if str(b) not in self._external_inputs and str(b) not in self._written:
                self._external_inputs.append(str(b))

    def blob_type(self, blob: BlobLike) -> Optional[TensorType]:
        """The static type of ``blob``'s latest write, when known at build time."""
        return self._types.get(str(blob))

    def written_blobs(self) -> list[str]:
        """Every blob some op of this net writes, in first-write order."""
        return list(dict.fromkeys(o for d in self.ops for o in d.outputs))

    def has_blob(self, blob: BlobLike) -> bool:
        return str(blob) in self._written or str(blob) in self._external_inputs

    def NextName(self, prefix: str) -> str:
        """A fresh blob name ``<net>/<prefix>``, ``..._2``, ... (Caffe2's auto names)."""
        base = f"{self.name}/{prefix}"
        while True:
            k = self._name_counts.get(base, 0) + 1
            self._name_counts[base] = k
            candidate = base if k == 1 else f"{base}_{k}"
            if candidate not in self._written and candidate not in self._external_inputs:
                return candidate

    def Clone(self, name: Optional[str] = None) -> "Net":
        """A copy of this net under a new unique name (blob names unchanged)."""
        clone = Net(name or self.name)
        clone.ops = [OpDef(d.type, d.inputs, d.outputs, d.op, d.device, dict(d.attrs)) for d in self.ops]
        clone._written = set(self._written)
        clone._external_inputs = list(self._external_inputs)
        clone._external_outputs = list(self._external_outputs)
        clone._types = dict(self._types)
        clone._name_counts = dict(self._name_counts)
        return clone

    def save(self, path) -> None:
        """Write this net to ``path`` (versioned JSON; large constants in a side ``.npz``).

        Load it back with ``nj.load(path)``; the format is in ``compiler/frontend/saving.py``.
        """
        save_net(self, path)

    def save_onnx(self, path, fetches, feeds=(), opset: Optional[int] = None) -> None:
        """Write the ONNX model computing ``fetches`` from ``feeds`` to ``path`` (``nj.onnx.export``)."""
        # onnx is an optional dependency (netjit[onnx]): imported only when a net is exported
        import onnx
        from .onnx.export import export_net
        onnx.save(export_net(self, fetches, feeds, opset), str(path))

    def __str__(self) -> str:
        return f"net {self.name}:\n" + "\n".join(f"  {d}" for d in self.ops)

    def __repr__(self) -> str:
        return f"<Net {self.name!r}: {len(self.ops)} ops>"

    def __dir__(self):
        return list(super().__dir__()) + sorted(O.OP_REGISTRY)

    # -- building ---------------------------------------------------------
    def __getattr__(self, op_type: str):
        if op_type.startswith("_"):
            raise AttributeError(op_type)
        if op_type not in O.OP_REGISTRY:
            raise UnknownOpError(f"Net {self.__dict__.get('name', '?')!r} has no op or attribute {op_type!r} "
                                 f"(registered ops: {', '.join(sorted(O.OP_REGISTRY))})")

        def method(inputs=(), outputs=None, **attrs):
            return self._add_op(op_type, inputs, outputs, attrs)
        method.__name__ = op_type
        method.__doc__ = O.OP_REGISTRY[op_type].__doc__
        return method

    def _fail(self, op_type: str, outputs: Sequence[str], msg: str) -> InvalidArgumentError:
        blob = f" {outputs[0]!r}" if outputs else ""
        return InvalidArgumentError(f"{op_type}{blob} in net {self.name!r}: {msg}")

    def _rectify_outputs(self, op_type, outputs, n_default) -> list[str]:
        if outputs is None:
            return [self.NextName(op_type) for _ in range(n_default)]
        if isinstance(outputs, (int, np.integer)) and not isinstance(outputs, bool):
            return [self.NextName(op_type) for _ in range(int(outputs))]
        if isinstance(outputs, str):
            return [str(outputs)]
        if isinstance(outputs, (list, tuple)) and all(isinstance(o, str) for o in outputs):
            return [str(o) for o in outputs]
        raise self._fail(op_type, [], f"outputs must be None, a name, a list of names or a count, got {outputs!r}")

    @staticmethod
    def _rectify_inputs(inputs) -> list[str]:
        if inputs is None:
            return []
        if isinstance(inputs, str):
            return [str(inputs)]
        if isinstance(inputs, (list, tuple)):
            out = []
            for i in inputs:
                if not isinstance(i, str):
                    raise InvalidArgumentError(f"input {i!r} is not a blob name or BlobReference")
                out.append(str(i))
            return out
        raise InvalidArgumentError(f"inputs must be a blob, a name or a list, got {type(inputs).__name__}")

    def _make_op(self, op_type, attrs, n_outputs, outputs):
        cls = O.OP_REGISTRY[op_type]
        if op_type == "Split" and "split" not in attrs and "num" not in attrs:
            attrs = dict(attrs, num=n_outputs)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key, value in attrs.items():
            if key in fields and not _attr_kind_fits(fields[key], value):
                raise self._fail(op_type, outputs, f"attribute {key}={value!r} has type {type(value).__name__}, "
                                                   f"expected {fields[key].type}"[:300])
        try:
            return cls(**attrs)
        except TypeError as exc:
            raise self._fail(op_type, outputs, f"bad attributes {sorted(attrs)}: {exc}") from None
        except (InferError, ValueError, InvalidArgumentError) as exc:
            raise self._fail(op_type, outputs, f"bad attribute: {exc}") from None

    def _add_op(self, op_type, inputs, outputs, attrs, op=None):
        ins = self._rectify_inputs(inputs)
        default_n = 1
        if op_type == "Split":
            default_n = attrs.get("num", len(attrs["split"]) if attrs.get("split") else 2)
        if op is None and op_type in VARIABLE_UPDATES:
            default_n = 1
        outs = self._rectify_outputs(op_type, outputs, default_n)
        if op is None and op_type not in VARIABLE_UPDATES:
            op = self._make_op(op_type, attrs, len(outs), outs)
        if op is not None:
            try:
                op.check_arity(len(ins))
            except InferError as exc:
                raise self._fail(op_type, outs, str(exc)) from None
            if op.num_outputs != len(outs):
                raise self._fail(op_type, outs, f"produces {op.num_outputs} outputs, {len(outs)} named")
        elif len(ins) != 2 or len(outs) != 1:
            raise self._fail(op_type, outs, f"expects [variable, value] and one output, got {len(ins)} inputs")
        self._check_types(op_type, op, ins, outs)
        for b in ins:
            if b not in self._written and b not in self._external_inputs:
                self._external_inputs.append(b)
        self.ops.append(OpDef(op_type, tuple(ins), tuple(outs), op, current_device(), dict(attrs)))
        self._written.update(outs)
        refs = tuple(BlobReference(o, self) for o in outs)
        return None if not refs else refs[0] if len(refs) == 1 else refs

    def _check_types(self, op_type, op, ins, outs):
        in_types = [self._types.get(b) for b in ins]
        if op is None:  # Assign/AssignAdd: the value must fit the variable
            var_t, val_t = in_types
            if var_t is not None and val_t is not None and var_t.dtype != val_t.dtype:
                raise self._fail(op_type, outs, f"variable {ins[0]!r} is {var_t}, value {ins[1]!r} is {val_t}")
        try:
            infer_into(self._types, op, ins, outs)
        except InferError as exc:
            desc = ", ".join(f"{b!r} is {t}" for b, t in zip(ins, in_types))
            raise self._fail(op_type, outs, f"input {desc}: {exc}") from None


    # -- frontend conveniences -------------------------------------------
    def Const(self, value: Any, blob_out: Optional[BlobLike] = None, dtype=None) -> BlobReference:
        """A constant. As Caffe2: Python int -> int64, float -> float32, bool -> bool."""
        if dtype is None:
            arr = np.array(value)
            if arr.dtype.kind == "f":
                dtype = np.float32
            elif arr.dtype.kind in "USO":
                dtype = object
        try:
            cv = ConstValue(value, dtype if dtype is not object else None)
            if cv.array.dtype != object:
                O.as_dtype(cv.array.dtype)
            elif not all(isinstance(v, str) for v in cv.array.flat):
                raise TypeError("host constants must be strings; got "
                                f"{sorted({type(v).__name__ for v in cv.array.flat})}")
        except (ValueError, TypeError, InvalidArgumentError) as exc:
            raise self._fail("Const", [str(blob_out)] if blob_out else [], f"bad value: {exc}") from None
        return self._add_op("Const", [], blob_out, {}, op=O.Const(cv))

    def Placeholder(self, name: BlobLike, dtype, shape=None) -> BlobReference:
        """A blob fed at run time; None in ``shape`` is a dynamic dim."""
        try:
            op = O.Placeholder(dtype, None if shape is None else tuple(shape))
        except (InvalidArgumentError, TypeError, ValueError) as exc:
            raise self._fail("Placeholder", [str(name)], str(exc)) from None
        return self._add_op("Placeholder", [], str(name), {}, op=op)

    def Variable(self, initial_value: Any, name: BlobLike, container: Optional[str] = None) -> BlobReference:
        """A persistent, session-scoped variable initialised to ``initial_value``."""
        arr = np.asarray(initial_value)
        if arr.dtype.kind == "f" and not isinstance(initial_value, np.ndarray):
            arr = arr.astype(np.float32)
        op = O.Variable(str(name), ConstValue(arr), container or "")
        return self._add_op("Variable", [], str(name), {}, op=op)

    def Print(self, blob: BlobLike, to_file: int = 0) -> None:
        """Print ``blob``'s value when the net runs (a host op)."""
        return self._add_op("Print", [blob], [], {}, op=O.Print(str(blob), int(to_file)))

    def Python(self, f, dtypes=None):
        """A host op running ``f(inputs, outputs)``; use as ``net.Python(f)(inputs, outputs)``.

        ``f`` may be ``(builder, args, kwargs)``: ``builder(*args, **kwargs)`` makes the
        function once per op instance (per workspace it runs in). See ``ops.python_op``.
        """
        return python_op_adder(self, f, dtypes)


#: Field annotations whose values the frontend checks before building an op; the
#: others (dtypes, constants, tuples given as lists) are converted by the op itself.
_CHECKED_KINDS = {"int", "float", "bool", "str", "Optional[int]", "Optional[float]", "Optional[str]"}


def _attr_kind_fits(field: dataclasses.Field, value) -> bool:
    """A Python attribute fits an int, float, bool or str field (``attr_fits``); tuples may be lists."""
    ann = str(field.type)
    if ann in ("tuple", "Optional[tuple]"):
        return isinstance(value, (tuple, list)) or (value is None and ann.startswith("Optional"))
    return ann not in _CHECKED_KINDS or attr_fits(field, value)


def infer_into(types: dict, op: Optional[O.Op], ins, outs) -> None:
    """Record in ``types`` (blob -> TensorType) the types of ``outs``, written by ``op``
    over ``ins``: unknown (absent) when an input's is. ``op`` None is an Assign or
    AssignAdd, whose output is the variable's. Raises InferError."""
    in_types = [types.get(b) for b in ins]
    if op is None:
        out_types = [in_types[0]] * len(outs)
    elif any(t is None for t in in_types):
        out_types = [None] * len(outs)
    else:
        out_types = op.infer(*in_types)
    for o, t in zip(outs, out_types):
        if t is None:
            types.pop(o, None)
        else:
            types[o] = t


def static_types(ops: Sequence[OpDef]) -> dict:
    """Blob name -> the type every writer in ``ops`` gives it before anything is fed
    (placeholders at their declared types). Blobs of unknown type, or written with
    different types (Caffe2 lets a net rewrite a blob), are absent."""
    types: dict = {}
    seen: dict = {}
    for d in ops:
        try:
            infer_into(types, d.op, d.inputs, d.outputs)
        except InferError:
            for o in d.outputs:
                types.pop(o, None)
        for o in d.outputs:
            t = types.get(o)
            seen[o] = t if seen.get(o, t) == t else None
    return {b: t for b, t in seen.items() if t is not None}
