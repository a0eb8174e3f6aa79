"""Which segments the native code generator takes, and their argument layout.

A segment qualifies when every node is a Placeholder, a Const or an
elementwise op (plain or fused) with a native lowering (checked by
``lower.unsupported`` only before compiling: a cache hit never imports
llvmlite's IR builder), every value is
float32, float64 or bool (bool only inside the loop), and nothing broadcasts
except single elements: each input is either *full* (the outputs' rank, no
dimension statically 1 where the output's is not) or *uniform* (statically
one element, where the outputs have more). Dynamic dimensions are checked at call time; a call whose
full inputs turn out to differ in shape is broadcast by NumPy first
(``executable``). Everything else compiles through numba as before.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import Const, FusedElementwise, OpKind, Placeholder

from .layout import DTYPES, F32, Arg, Layout, program_dtypes

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def native_layout(graph: Graph, vector_bytes: int, min_size: int = 0) -> tuple[Optional[Layout], dict, str]:
    """``(layout, consts, "")`` for a qualifying segment, else ``(None, {}, reason)``.
    Outputs of a static shape must hold at least ``min_size`` elements.

    ``consts`` maps each Const node to its value: a Python scalar when it is
    baked into the code, the array (also an ``Arg``) when it is passed in.
    """
    if graph.targets:
        return None, {}, "the segment has run targets"
    out_types = [graph.type(v) for v in graph.outputs]
    if not out_types or any(t.shape is None for t in out_types):
        return None, {}, "no outputs, or outputs of unknown rank"
    rank = len(out_types[0].shape)
    if any(len(t.shape) != rank for t in out_types):
        return None, {}, "outputs of different ranks"
    dims = [next((t.shape[k] for t in out_types if t.shape[k] is not None), None) for k in range(rank)]
    if None not in dims and int(np.prod(dims)) < min_size:
        return None, {}, f"static outputs of fewer than {min_size} elements"
    args, consts, inner = [], {}, {}
    deps: dict = {}                 # value -> indices of the full args it depends on
    for n in graph.nodes():
        op = graph.op(n)
        types = graph.types(n)
        n_args = len(args)
        if any(t.dtype not in DTYPES for t in types):
            return None, {}, f"{op.name} has a value of dtype outside {[d.name for d in DTYPES]}"
        if isinstance(op, (Placeholder, Const)):
            reason = _source(graph, n, op, types[0], rank, dims, args, consts)
            if reason:
                return None, {}, reason
            deps[(n, 0)] = frozenset([n_args]) if len(args) > n_args and not args[-1].uniform else frozenset()
        elif op.kind is OpKind.ELEMENTWISE or isinstance(op, FusedElementwise):
            in_deps = [deps[v] for v in graph.inputs_of(n)]
            if isinstance(op, FusedElementwise):
                inner[n] = program_dtypes(op, [graph.type(v).dtype for v in graph.inputs_of(n)])
                if any(d not in DTYPES for d in inner[n]):
                    return None, {}, "a fused program with a value of dtype outside float32, float64, bool"
                # per output: a fused node's outputs may read different inputs
                for port, d in enumerate(_program_deps(op, in_deps)):
                    deps[(n, port)] = d
            else:
                deps[(n, 0)] = frozenset().union(*in_deps)
        else:
            return None, {}, f"{op.name} is not elementwise"
    full = frozenset(i for i, a in enumerate(args) if not a.uniform)
    if not full:
        return None, {}, "no full input"
    if any(graph.type(v).dtype not in _FLOATS for v in graph.outputs):
        return None, {}, "an output that is not float"
    if any(not deps[v] for v in graph.outputs):
        # it is one element (uniform inputs and constants only): the loop would fill it out
        return None, {}, "an output that reads no full input"
    # with dynamic shapes, an output that misses a full arg could have a shape of
    # its own (Tanh(x) beside Exp(y)); with static ones, all have the outputs' shape
    static = None not in dims and all(_static_shape(graph, args[i]) == tuple(dims) for i in full)
    if not static and any(deps[v] != full for v in graph.outputs):
        return None, {}, "an output that does not depend on every full input, with dynamic shapes"
    values = [t.dtype for n in graph.nodes() for t in graph.types(n)] + [d for ds in inner.values() for d in ds]
    lanes = vector_bytes // (8 if F32 not in values else F32.itemsize)
    return Layout(args, [graph.type(v).dtype for v in graph.outputs], lanes, inner), consts, ""


def _program_deps(op: FusedElementwise, in_deps: list) -> list:
    """The full args each output of a fused node depends on, through its program."""
    vals = list(in_deps)
    for _, refs in op.program:
        vals.append(frozenset().union(*(vals[r] for r in refs)))
    return [vals[r] for r in op.outputs]


def _static_shape(graph, arg) -> Optional[tuple]:
    return arg.const.shape if arg.input < 0 else graph.type((graph.inputs[arg.input], 0)).shape


def _source(graph, n, op, t, rank, dims, args, consts) -> str:
    """Classify a Placeholder or Const: a full or uniform argument (appended to ``args``),
    or a scalar baked into the code; returns why it does not qualify, or ""."""
    if isinstance(op, Const):
        arr = op.value.array
        if arr.dtype.kind not in "fb":
            return f"constant of dtype {arr.dtype}"
        if arr.size == 1:
            consts[n] = arr.reshape(()).item()
            return ""
        if arr.dtype.kind != "f":         # arguments are float arrays; bool ones are numba's
            return "a bool constant of more than one element"
        if arr.ndim != rank or any(d is None or d != s for d, s in zip(dims, arr.shape)):
            return "a constant that broadcasts"
        arr = np.ascontiguousarray(arr, dtype=t.dtype)
        consts[n] = arr
        args.append(Arg(np.dtype(t.dtype), False, -1, arr))
        return ""
    if t.dtype not in _FLOATS:
        return f"input of dtype {t.dtype}"
    index = graph.inputs.index(n)
    if t.shape is not None and all(d == 1 for d in t.shape) and not (len(t.shape) == rank and dims == [1] * rank):
        args.append(Arg(np.dtype(t.dtype), True, index))
        return ""
    if t.shape is None or len(t.shape) != rank:
        return "an input whose rank differs from the outputs'"
    if any(d == 1 and o != 1 for d, o in zip(t.shape, dims)):
        return "an input that broadcasts"
    args.append(Arg(np.dtype(t.dtype), False, index))
    return ""
