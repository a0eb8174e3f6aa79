"""Turning (program, feeds, fetches, targets) into a CompiledEntry."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from netjit.backends import get_backend
from netjit.compiler.frontend.lowering import feed_type
from netjit.compiler.frontend.net import OpDef
from netjit.compiler.ops import TensorType, as_dtype
from netjit.compiler.pipeline import compile_signature
from netjit.compiler.placement import Placer
from netjit.errors import InvalidArgumentError

from .schedule import build_schedule
from .step import CompiledEntry


def declared_placeholders(ops: Sequence[OpDef]) -> dict[str, TensorType]:
    """Blob name -> declared type of every Placeholder in a program."""
    return {d.outputs[0]: d.op.type for d in ops if d.type == "Placeholder"}


def as_feed_value(blob: str, value, declared: Mapping[str, TensorType]) -> np.ndarray:
    """A feed as an array; Python scalars and lists take the placeholder's dtype.

    Only numbers convert: ``None``, strings and lists mixing them with numbers
    are refused for a numeric placeholder, where NumPy would guess (NaN, 1000.0).
    """
    if isinstance(value, np.ndarray):
        return value
    t = declared.get(blob)
    if t is not None and t.dtype.kind != "O" and _guessed(value):
        raise InvalidArgumentError(f"cannot feed {blob!r}: expected {t} numbers, got "
                                   f"{type(value).__name__} {value!r}"[:200])
    try:
        if t is not None:
            return np.asarray(value, dtype=t.dtype)
        arr = np.asarray(value)
        return arr.astype(np.float32) if arr.dtype == np.float64 and not isinstance(value, np.generic) else arr
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgumentError(f"cannot feed {blob!r}: {exc}") from None


def _guessed(value) -> bool:
    """Whether NumPy could only convert ``value`` to numbers by guessing (None, strings, mixes)."""
    try:
        return np.asarray(value).dtype.kind in "OUSV"
    except (TypeError, ValueError):
        return True


def compile_entry(ops: Sequence[OpDef], name: str, feed_types: Mapping[str, TensorType],
                  fetches: Sequence[str], targets: Sequence[str], config, placer: Placer,
                  partial: bool = False, static: Mapping[str, TensorType] = ()) -> CompiledEntry:
    """Build, optimise, place, partition and compile one signature (names already sorted).

    ``static`` holds the static types of fed blobs that are not placeholders: each
    call's feed is checked against them, as a placeholder's against its declaration.
    """
    feeds = sorted(feed_types)
    ordered = {f: feed_types[f] for f in feeds}
    backend = get_backend(getattr(config, "backend", "reference"))
    compiled = compile_signature(ops, name, ordered, fetches, targets, config, placer, backend,
                                 by_feeds=partial)
    g = compiled.graph
    declared = {g.name_of_input(n): g.type((n, 0)) for n in g.inputs}
    # a static type of unknown rank checks less than the rank this signature was compiled for
    static = {f: t for f, t in dict(static).items() if t.shape is not None}
    types = tuple(static.get(f) or declared.get(f, ordered[f]) for f in feeds)
    schedule = build_schedule(compiled, feeds, types, fetches)
    return CompiledEntry(schedule, compiled, tuple(feeds), tuple(fetches))


def signature_types(feed_names: Sequence[str], values: Sequence[np.ndarray]) -> dict[str, TensorType]:
    """Feed types as the compiler sees them: dtype and rank, dims dynamic."""
    out = {}
    for n, v in zip(feed_names, values):
        try:
            out[n] = feed_type(TensorType(as_dtype(v.dtype), v.shape))
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"cannot feed {n!r}: {exc}") from None
    return out
