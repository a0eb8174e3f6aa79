"""The executor cache: one compiled step per signature, as DirectSession keeps.

A lookup tries the caller's order first (fast path), then the sorted names
(slow path, so a permutation of the same feeds and fetches reuses the step),
and only then compiles. Keys include the feeds' dtypes and ranks, because the
compiled code is type-specialised.
"""
from __future__ import annotations

import threading
from typing import Callable, Hashable


class ExecutorCache:
    def __init__(self):
        self._fast: dict[Hashable, object] = {}
        self._slow: dict[Hashable, object] = {}
        self._lock = threading.Lock()
        self.compilations = 0

    def get(self, fast_key: Hashable, slow_key_fn: Callable[[], Hashable],
            build: Callable[[], object], bind: Callable[[object], object]):
        """``(binding, built)`` for ``fast_key``; ``built`` is the new entry if this call compiled it.

        ``build()`` compiles the order-independent entry for the slow key
        (once); ``bind(entry)`` adapts it to the caller's order.
        """
        binding = self._fast.get(fast_key)
        if binding is not None:
            return binding, None
        slow_key = slow_key_fn()
        with self._lock:
            entry, built = self._slow.get(slow_key), None
            if entry is None:
                entry = built = build()
                self.compilations += 1
                self._slow[slow_key] = entry
            binding = self._fast[fast_key] = bind(entry)
            return binding, built

    def entries(self) -> list:
        with self._lock:
            return list(self._slow.values())

    def clear(self) -> None:
        with self._lock:
            self._fast.clear()
            self._slow.clear()

    def __len__(self) -> int:
        return len(self._slow)
