"""The phases a pass runs in, in pipeline order."""
from __future__ import annotations

import enum


class Phase(enum.IntEnum):
    """When a pass runs: before placement, after it, or per partition."""

    PRE_PLACEMENT = 0
    POST_PLACEMENT = 1
    POST_PARTITIONING = 2

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
        from netjit.errors import InvalidArgumentError
        raise InvalidArgumentError(f"unknown pass phase {value!r}; expected one of "
                                   f"{[p.name for p in cls]}")
