"""Fetch structures: a blob name, or a nested list/tuple/dict of them."""
from __future__ import annotations

from typing import Any, Callable

from netjit.errors import InvalidArgumentError


def flatten_fetches(fetches: Any) -> tuple[list[str], Callable[[list], Any]]:
    """The blob names in ``fetches`` and a function rebuilding the structure from values."""
    names: list[str] = []

    def walk(f):
        if isinstance(f, str):
            names.append(str(f))
            i = len(names) - 1
            return lambda vals: vals[i]
        if isinstance(f, dict):
            parts = [(k, walk(v)) for k, v in f.items()]
            kind = type(f)
            return lambda vals: kind((k, p(vals)) for k, p in parts)
        if isinstance(f, (list, tuple)):
            parts = [walk(v) for v in f]
            if isinstance(f, tuple) and hasattr(f, "_fields"):
                kind = type(f)
                return lambda vals: kind(*(p(vals) for p in parts))
            kind = type(f)
            return lambda vals: kind(p(vals) for p in parts)
        raise InvalidArgumentError(f"cannot fetch {f!r}: expected a blob name, BlobReference, "
                                   "or a list/tuple/dict of them")

    build = walk(fetches)
    return names, build
