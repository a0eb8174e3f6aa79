"""The phases a pass runs in, in pipeline order."""
from __future__ import annotations

import enum

from netjit.errors import InvalidArgumentError


class Phase(enum.IntEnum):
    """When a pass runs: before placement, after it, per partition, or per segment.

    ``SEGMENT`` passes run on each segment graph just before the backend
    compiles it: the backend rewrites (FC and Softmax expansion, weight
    prepacking), registered with ``backends=(...)``, rewrite the very graph
    the backend generates code from.
    """

    PRE_PLACEMENT = 0
    POST_PLACEMENT = 1
    POST_PARTITIONING = 2
    SEGMENT = 3

    @classmethod
    def parse(cls, value) -> "Phase":
        """A Phase from itself, its name (any case) or its number."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls[value.upper()]
            except KeyError:
                pass
        elif isinstance(value, int):
            return cls(value)
        raise InvalidArgumentError(f"unknown pass phase {value!r}; expected one of "
                                   f"{[p.name for p in cls]}")
