"""The session's variable store: values that persist across runs."""
from __future__ import annotations

import threading
from typing import Iterable, Optional

import numpy as np

from netjit.errors import FailedPreconditionError


class VariableStore:
    """Variables by ``(container, name)``; initialised from their initial value on first read.

    After ``reset`` a variable is uninitialised: reading it raises
    FailedPreconditionError until an Assign writes it again.
    """

    def __init__(self):
        self._values: dict[tuple, np.ndarray] = {}
        self._cleared: set[tuple] = set()
        self._lock = threading.Lock()

    def read(self, key: tuple, initial: np.ndarray) -> np.ndarray:
        with self._lock:
            value = self._values.get(key)
            if value is None:
                if key in self._cleared:
                    raise FailedPreconditionError(
                        f"Attempting to use uninitialized value {key[1]!r}"
                        f"{' in container ' + repr(key[0]) if key[0] else ''} (it was reset)")
                value = self._values[key] = np.array(initial, copy=True)
            return value

    def write(self, key: tuple, value: np.ndarray) -> None:
        with self._lock:
            self._values[key] = value
            self._cleared.discard(key)

    def reset(self, containers: Optional[Iterable[str]] = None) -> None:
        """Clear every variable, or those in the named containers."""
        with self._lock:
            wanted = None if containers is None else {c or "" for c in containers}
            for key in list(self._values):
                if wanted is None or key[0] in wanted:
                    del self._values[key]
                    self._cleared.add(key)

    def __len__(self) -> int:
        return len(self._values)
