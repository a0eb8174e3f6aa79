"""Turning (program, feeds, fetches, targets) into a CompiledEntry."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from netjit.backends import get_backend
from netjit.compiler.lowering import feed_type
from netjit.compiler.net import OpDef
from netjit.compiler.ops import TensorType, as_dtype
from netjit.compiler.pipeline import build_graph, compile_graph, optimize
from netjit.errors import InvalidArgumentError

from .step import CompiledEntry


def declared_placeholders(ops: Sequence[OpDef]) -> dict[str, TensorType]:
    """Blob name -> declared type of every Placeholder in a program."""
    return {d.outputs[0]: d.op.type for d in ops if d.type == "Placeholder"}


def as_feed_value(blob: str, value, declared: Mapping[str, TensorType]) -> np.ndarray:
    """A feed as an array; Python scalars and lists take the placeholder's dtype."""
    if isinstance(value, np.ndarray):
        return value
    t = declared.get(blob)
    try:
        if t is not None:
            return np.asarray(value, dtype=t.dtype)
        arr = np.asarray(value)
        return arr.astype(np.float32) if arr.dtype == np.float64 and not isinstance(value, np.generic) else arr
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"cannot feed {blob!r}: {exc}") from None


def compile_entry(ops: Sequence[OpDef], name: str, feed_types: Mapping[str, TensorType],
                  fetches: Sequence[str], targets: Sequence[str], config) -> CompiledEntry:
    """Build, optimise and compile one signature (names already sorted)."""
    graph, _ = build_graph(ops, name, feed_types, fetches, targets)
    graph = optimize(graph, config)
    backend = get_backend(getattr(config, "backend", "reference"))
    executable = compile_graph(graph, backend)
    return CompiledEntry(executable, graph, tuple(sorted(feed_types)), tuple(fetches))


def signature_types(feed_names: Sequence[str], values: Sequence[np.ndarray]) -> dict[str, TensorType]:
    """Feed types as the compiler sees them: dtype and rank, dims dynamic."""
    out = {}
    for n, v in zip(feed_names, values):
        try:
            out[n] = feed_type(TensorType(as_dtype(v.dtype), v.shape))
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"cannot feed {n!r}: {exc}") from None
    return out
