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
        #: id of the memory-owning array behind each stored value (see ``unalias``)
        self.roots: dict[int, np.ndarray] = {}
        self._uses: dict[int, int] = {}            # stored values per root

    def read(self, key: tuple, initial: np.ndarray) -> np.ndarray:
        with self._lock:
            return self._current(key, initial)

    def write(self, key: tuple, value: np.ndarray) -> None:
        with self._lock:
            self._store(key, value)

    def update(self, key: tuple, initial: np.ndarray, fn) -> np.ndarray:
        """Store and return ``fn(current value)``, atomic with respect to every other
        update and write (AssignAdd from many threads loses no increment)."""
        with self._lock:
            new = fn(self._current(key, initial))
            self._store(key, new)
            return new

    def _current(self, key: tuple, initial: np.ndarray) -> np.ndarray:
        value = self._values.get(key)
        if value is None:
            if key in self._cleared:
                raise FailedPreconditionError(
                    f"Attempting to use uninitialized value {key[1]!r}"
                    f"{' in container ' + repr(key[0]) if key[0] else ''} (it was reset)")
            value = self._values[key] = np.array(initial, copy=True)
            self._own(value)
        return value

    def _store(self, key: tuple, value: np.ndarray) -> None:
        old = self._values.get(key)
        self._values[key] = value
        self._cleared.discard(key)
        self._disown(old)
        self._own(value)

    def unalias(self, outs: list) -> list:
        """``outs``, with a copy in place of every array whose memory is a stored
        variable's (a read, a view of one, an Assign's output).

        Fetched values are the caller's: an in-place change to one must not
        reach the variable (TensorFlow's fetches are copies). Only such values
        are copied; a store that holds nothing costs one dict test.
        """
        roots = self.roots
        if not roots:
            return outs
        return [o.copy() if isinstance(o, np.ndarray) and id(_root(o)) in roots else o for o in outs]

    def _own(self, value) -> None:
        if isinstance(value, np.ndarray):
            root = _root(value)
            self.roots[id(root)] = root
            self._uses[id(root)] = self._uses.get(id(root), 0) + 1

    def _disown(self, value) -> None:
        if isinstance(value, np.ndarray):
            k = id(_root(value))
            self._uses[k] -= 1
            if not self._uses[k]:
                del self._uses[k], self.roots[k]

    def reset(self, containers: Optional[Iterable[str]] = None) -> None:
        """Clear every variable, or those in the named containers."""
        with self._lock:
            wanted = None if containers is None else {c or "" for c in containers}
            for key in list(self._values):
                if wanted is None or key[0] in wanted:
                    self._disown(self._values.pop(key))
                    self._cleared.add(key)

    def __len__(self) -> int:
        return len(self._values)


def _root(a: np.ndarray) -> np.ndarray:
    """The array owning ``a``'s memory (``a`` itself unless it is a view)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a
