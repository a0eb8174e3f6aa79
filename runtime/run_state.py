"""One run's access to the variable store: no update once the run is over.

After a deadline, a close or another segment's error, the executor starts no
further segment, but one already running goes on in the background, and its
later ops used to apply their variable updates after the caller had seen
DeadlineExceededError. TensorFlow cancels the step: ops not yet run never run.
Segments get the store through ``RunState``, which refuses writes from then on
(the refusal fails that segment, whose results are dropped anyway).
"""
from __future__ import annotations

import time

from netjit.errors import CancelledError


class RunState:
    """The store as one run's segments see it (reads pass through, writes are checked)."""

    __slots__ = ("store", "rdv")

    def __init__(self, store, rdv):
        self.store, self.rdv = store, rdv

    def read(self, key, initial):
        return self.store.read(key, initial)

    def write(self, key, value) -> None:
        self._check(key)
        self.store.write(key, value)

    def update(self, key, initial, fn):
        """The store's atomic ``update`` (read then write where it has none)."""
        self._check(key)
        update = getattr(self.store, "update", None)
        if update is not None:
            return update(key, initial, fn)
        new = fn(self.store.read(key, initial))
        self.store.write(key, new)
        return new

    def _check(self, key) -> None:
        rdv = self.rdv
        if rdv.error is not None or (rdv.deadline is not None and time.monotonic() > rdv.deadline):
            raise CancelledError(f"variable {key[1]!r} not updated: its run was cancelled, failed "
                                 "or passed its deadline")
