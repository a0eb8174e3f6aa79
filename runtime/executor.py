"""The executor: runs a Schedule's segments on an inter-op thread pool.

A segment starts as soon as its inputs have arrived. The thread finishing a
segment runs one newly ready successor itself and hands the others to the
pool, so a chain of segments costs no thread hand-off. Numba functions release
the GIL, so segments of different devices really overlap.

After an error (or a cancellation, or the deadline) no further segment starts;
segments already running finish in the background and their results are
dropped, and their variable updates are refused (``run_state``).
"""
from __future__ import annotations

import contextvars
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from netjit.errors import CancelledError, FailedPreconditionError

from .rendezvous import Rendezvous
from .run_state import RunState
from .stats import SegmentStat, output_bytes


class Executor:
    """An inter-op thread pool shared by every run of one session."""

    def __init__(self, threads: Optional[int] = None, n_devices: int = 1, name: str = "netjit"):
        n = threads or max(4, n_devices, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"{name}-inter-op")
        self._live: set[Rendezvous] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.threads = n

    # -- runs ---------------------------------------------------------------
    def start(self, rdv: Rendezvous, state, ready, inline: bool = False) -> None:
        """Register ``rdv`` (so close() can cancel it) and launch ``ready`` segments.

        With ``inline`` the caller's thread runs the first ready segment itself
        (and what it makes ready) instead of waiting idle, unless it may block
        (host ops) or the run has a deadline the caller must be free to enforce.
        """
        with self._lock:
            if self._closed:
                raise CancelledError("Run call was cancelled: the session is closing")
            self._live.add(rdv)
        first = ready[0] if ready else None
        if not inline or first is None or rdv.deadline is not None or rdv.schedule.segments[first].blocking:
            self.launch(rdv, state, ready)
            return
        self.launch(rdv, state, ready[1:])
        self._run(rdv, state, first, caller=True)

    def launch(self, rdv: Rendezvous, state, segments) -> None:
        """Hand ``segments`` to the pool, each in a copy of this thread's context (host ops read it)."""
        for i in segments:
            try:
                self._pool.submit(contextvars.copy_context().run, self._run, rdv, state, i)
            except RuntimeError:  # pool shut down by close()
                rdv.cancel()

    def finish(self, rdv: Rendezvous) -> None:
        """Forget a run (it completed, failed, or was abandoned)."""
        with self._lock:
            self._live.discard(rdv)

    def _run(self, rdv: Rendezvous, state, i: int, caller: bool = False) -> None:
        """Run segment ``i``, then one segment it made ready (never a blocking one on the caller)."""
        schedule = rdv.schedule
        state = RunState(state, rdv) if state is not None else None
        while i is not None:
            if rdv.error is not None:
                return
            seg = schedule.segments[i]
            args = [rdv.slots[s] for s in seg.in_slots]
            t0 = time.perf_counter()
            try:
                outs = seg.executable(args, state)
            except BaseException as exc:  # noqa: BLE001  (re-raised by the waiting caller)
                rdv.fail(exc)
                return
            if rdv.stats is not None:
                rdv.stats.append(SegmentStat(seg.name, seg.device, threading.current_thread().name,
                                             t0, time.perf_counter() - t0, output_bytes(outs), seg.tier))
            ready = rdv.finish(i, outs)
            if caller and ready and schedule.segments[ready[0]].blocking:
                self.launch(rdv, state, ready)
                return
            if ready:
                self.launch(rdv, state, ready[1:])
            i = ready[0] if ready else None

    # -- lifecycle ----------------------------------------------------------
    def close(self) -> None:
        """Cancel every run in flight and stop the pool (threads finish their segment)."""
        with self._lock:
            self._closed = True
            live, self._live = list(self._live), set()
        for rdv in live:
            rdv.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def check_open(self) -> None:
        if self._closed:
            raise FailedPreconditionError("Attempted to use a closed Session.")
