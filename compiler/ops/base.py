"""The op base class, op kinds and the registry every op is declared in.

An op is a frozen dataclass: its fields are its attributes, so equality,
hashing, printing and CSE keys come from the declaration. Class data states
what kind of op it is and the algebraic facts rewrites may rely on.
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
import json
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Optional, Sequence

import numpy as np

from netjit.errors import InvalidArgumentError

from .types import TensorType, as_dtype, dtype_name


class OpKind(enum.Enum):
    """What an op does, as far as passes and backends care."""

    SOURCE = "source"              # no data inputs: Placeholder, Const, Variable
    ELEMENTWISE = "elementwise"    # out[i] = f(in[i]...) under broadcasting
    REDUCTION = "reduction"        # reduces some axes
    NORMALIZATION = "normalization"  # reduction fed back elementwise (Softmax)
    CONTRACTION = "contraction"    # MatMul, FC
    SHAPE = "shape"                # moves data, computes nothing
    STATEFUL = "stateful"          # reads/writes session state
    HOST = "host"                  # runs in Python on the host (Print, Python)
    FUSED = "fused"                # several ops as one loop nest
    COMMUNICATION = "communication"  # Send / Recv between partitions


class InferError(Exception):
    """Raised by ``Op.infer``; the caller adds which net, op and blobs."""


@dataclass(frozen=True)
class Sample:
    """Inputs an op's tests run with, and an independent NumPy expectation."""

    op: "Op"
    inputs: tuple
    expect: Callable[..., Any]


class _Registry(dict):
    """name -> op class, filled by ``register_op``; read-only for everyone else.

    The first op set registers when ``compiler.ops`` is imported; the ONNX op
    families (``LAZY_FAMILIES``, about a hundred classes, which would double
    ``import netjit``) register the first time anyone asks for a name the
    registry lacks or looks at all of it.
    """

    def load_families(self) -> None:
        """Import every lazily registered op family (once)."""
        if _FAMILIES["state"] != "pending":
            return
        _FAMILIES["state"] = "loading"
        for module in LAZY_FAMILIES:
            # deferred by design: these modules are what the lazy registry defers
            importlib.import_module(f"{__package__}.{module}")
        _FAMILIES["state"] = "loaded"

    def __missing__(self, name: str):
        if _FAMILIES["state"] != "pending":
            raise KeyError(name)
        self.load_families()
        return dict.__getitem__(self, name)

    def __contains__(self, name) -> bool:
        if not dict.__contains__(self, name) and _FAMILIES["state"] == "pending":
            self.load_families()
        return dict.__contains__(self, name)

    def get(self, name, default=None):
        return self[name] if name in self else default

    def __iter__(self):
        self.load_families()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.load_families()
        return dict.__len__(self)

    def keys(self):
        self.load_families()
        return dict.keys(self)

    def values(self):
        self.load_families()
        return dict.values(self)

    def items(self):
        self.load_families()
        return dict.items(self)


#: The ONNX op families, registered on first need (modules of ``compiler.ops``).
LAZY_FAMILIES = ("scalar_math", "bitwise", "activations", "activations_smooth", "conv", "pooling", "normalization",
                 "softmax", "einsum", "recurrent", "indexing", "tensor", "tensor_layout", "generators",
                 "reduction_more", "from_inputs", "ordering", "resize", "attention", "attention_linear",
                 "attention_cache", "modern_nn", "modern_tensor", "modern_image", "losses", "quantize", "signal",
                 "signal_windows", "vision", "vision_boxes", "control_flow", "ml", "training")
_FAMILIES = {"state": "pending"}

OP_REGISTRY: dict[str, type["Op"]] = _Registry()


def _frozen_setattr(self, name, value):
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self, name):
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _declares_fields(cls: type) -> bool:
    """True if ``cls`` itself annotates a field (anything but a ClassVar)."""
    for ann in cls.__dict__.get("__annotations__", {}).values():
        text = ann if isinstance(ann, str) else repr(ann)
        if not text.startswith(("ClassVar", "typing.ClassVar")):
            return True
    return False


def register_op(cls: type["Op"]) -> type["Op"]:
    """Class decorator: make ``cls`` a frozen dataclass and register it by name."""
    # repr=False: ops print in IR form (Op.__repr__, non-default attrs) so nested ops parse.
    # An op that adds no field keeps the dataclass methods it inherits (Op is a
    # fieldless frozen dataclass): generating them again for each of the ~60 op
    # classes was most of netjit's own import time.
    if any(_declares_fields(c) and "__dataclass_fields__" not in c.__dict__ for c in cls.__mro__):
        cls = dataclass(frozen=True, repr=False)(cls)
    name = cls.__name__
    if dict.__contains__(OP_REGISTRY, name):
        raise InvalidArgumentError(f"op {name!r} is registered twice")
    OP_REGISTRY[name] = cls
    return cls


@dataclass(frozen=True, repr=False)
class Op:
    """Base of every op. Subclasses are declared with ``@register_op``."""

    kind: ClassVar[OpKind]
    #: Number of data inputs; None means variadic (at least ``min_inputs``).
    arity: ClassVar[Optional[int]] = 1
    min_inputs: ClassVar[int] = 1
    #: Has effects beyond its outputs: never removed, merged or reordered freely.
    stateful: ClassVar[bool] = False
    #: Binary op with op(a, b) == op(b, a).
    commutative: ClassVar[bool] = False
    #: Right identity: op(x, identity) == x (e.g. Add 0, Mul 1).
    identity: ClassVar[Optional[float]] = None
    #: Runs in Python on the host, never inside generated code.
    host: ClassVar[bool] = False
    #: Why ``samples()`` is empty (an output shape only values decide); the op's own tests cover it.
    no_samples_reason: ClassVar[str] = ""

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def num_outputs(self) -> int:
        return 1

    def attrs(self) -> dict[str, Any]:
        """The op's attributes, in declaration order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def non_default_attrs(self) -> dict[str, Any]:
        """Attributes whose value differs from the declared default."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.default is dataclasses.MISSING or not _same(value, f.default):
                out[f.name] = value
        return out

    def check_arity(self, n: int) -> None:
        """Raise InferError unless ``n`` inputs fit this op."""
        if self.arity is None:
            if n < self.min_inputs:
                raise InferError(f"expects at least {self.min_inputs} inputs, got {n}")
        elif n != self.arity:
            raise InferError(f"expects {self.arity} inputs, got {n}")

    def infer(self, *inputs: TensorType) -> tuple[TensorType, ...]:
        """Output types from input types (NumPy broadcasting and promotion)."""
        raise NotImplementedError

    def reference(self, *inputs: np.ndarray) -> tuple[np.ndarray, ...]:
        """The op's meaning in NumPy: the oracle of every test."""
        raise NotImplementedError

    @classmethod
    def samples(cls) -> list[Sample]:
        """Sample inputs with independent NumPy expectations, for registry tests."""
        return []

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={format_attr(v)}" for k, v in self.non_default_attrs().items())
        return f"{self.name}({args})"


# A fieldless op inherits Op's methods; Op's own frozen __setattr__ lets a
# subclass instance take new attributes, these never do.
Op.__setattr__ = _frozen_setattr
Op.__delattr__ = _frozen_delattr


def _same(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # arrays and friends: never "default"
        return False


class ConstValue:
    """An immutable array held in an op attribute, hashable by content."""

    __slots__ = ("array", "_digest")

    def __init__(self, value, dtype=None):
        if dtype is not None:
            arr = np.array(value, dtype=as_dtype(dtype))
        else:
            arr = np.array(value)
            if arr.dtype.kind in "USO":
                arr = arr.astype(object)
        arr.setflags(write=False)
        self.array = arr
        if arr.dtype == object:
            payload = repr(arr.tolist()).encode()
        else:
            payload = np.ascontiguousarray(arr).tobytes()
        h = hashlib.sha1(payload)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        self._digest = h.hexdigest()

    @property
    def digest(self) -> str:
        return self._digest

    @property
    def type(self) -> TensorType:
        return TensorType.of(self.array)

    def __eq__(self, other) -> bool:
        return isinstance(other, ConstValue) and other._digest == self._digest

    def __hash__(self) -> int:
        return hash(self._digest)

    def __repr__(self) -> str:
        return format_attr(self)


#: Constants with at most this many elements print inline; larger ones as ``#<digest12>``.
INLINE_CONST_SIZE = 8


def format_attr(value) -> str:
    """An attribute as it appears in IR text (large constants abbreviated).

    Every form printed here parses back (compiler/ir/parser.py, docs/ir.md):
    strings are JSON-quoted, NumPy scalars print as Python numbers.
    """
    if isinstance(value, ConstValue):
        arr = value.array
        body = _format_elements(arr) if arr.size <= INLINE_CONST_SIZE else f"#{value.digest[:12]}"
        return f"{TensorType.of(arr)}{body}"
    if isinstance(value, np.dtype):
        return dtype_name(value)
    if isinstance(value, TensorType):
        return str(value)
    if isinstance(value, (str, np.str_)):
        return json.dumps(str(value))
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, np.generic):
        return format_attr(value.item())
    if isinstance(value, (tuple, list)):
        body = ", ".join(format_attr(v) for v in value)
        if isinstance(value, list):
            return f"[{body}]"
        return f"({body}{',' if len(value) == 1 else ''})"
    return repr(value)  # None, int, float (repr round-trips), nested Op


def _format_elements(arr: np.ndarray) -> str:
    """A small array's elements as nested lists; f32 and f16 in their shortest exact form."""
    if arr.ndim == 0:
        item = arr.item()
        if arr.dtype in (np.float32, np.float16):
            return str(arr[()])  # NumPy's shortest repr that round-trips the f32 (f16)
        return json.dumps(item) if isinstance(item, str) else repr(item)
    return "[" + ", ".join(_format_elements(np.asarray(sub, dtype=arr.dtype)) for sub in arr) + "]"


def normalize_axes(axes: Optional[Sequence[int]], rank: int) -> tuple[int, ...]:
    """Axes as sorted non-negative ints; None means all axes."""
    if axes is None:
        return tuple(range(rank))
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise InferError(f"axis {a} is out of range for rank {rank}")
        out.append(a % rank)
    if len(set(out)) != len(out):
        raise InferError(f"repeated axis in {tuple(axes)}")
    return tuple(sorted(out))
