"""Running execution steps and plans on a workspace (Caffe2's ``plan_executor.cc``).

A step is compiled once per run into a ``StepRunner`` tree whose nets are
the workspace tree's cached ``NetRunner``s, so iterating never recompiles.

* Iterations: ``num_iter`` (default 1, 0 runs nothing); with a stop blob,
  loop until it reads true, or once if ``only_once``.
* Nets-only step: run the nets in order, checking the stop blob after every
  net. Sequential substeps: run them in order, checking after every substep.
* Concurrent (``concurrent_substeps`` with several substeps, or
  ``num_concurrent_instances`` > 1): per iteration, one thread per substep
  instance; the first exception stops the siblings at their next iteration
  check and is re-raised, with its original type, once all threads joined.
* ``create_workspace``: every execution of the step runs in a fresh child
  workspace, released when it ends (runtime cloning of task instances).
* A missing stop blob reads as false, but the blob must exist or be written
  by a net of the step; a stop blob that is not a scalar bool is an error.
"""
from __future__ import annotations

import itertools
import os
import threading
from typing import Callable

from netjit.compiler.frontend.net import Net
from netjit.compiler.ops.python_op import add_note
from netjit.compiler.frontend.steps import ExecutionStep, Plan
from netjit.errors import InvalidArgumentError, NotFoundError, UnimplementedError

from .net_runner import run_net
from .blob_store import UNSET, BlobStore

KeepGoing = Callable[[], bool]


def _always() -> bool:
    return True


def should_stop(ws: BlobStore, blob: str, step_name: str) -> bool:
    """Caffe2's getShouldStop: absent or unwritten is false, else a scalar bool."""
    value = ws.lookup(blob)
    if value is UNSET:
        return False
    if getattr(value, "dtype", None) != bool or value.size != 1:
        raise InvalidArgumentError(f"step {step_name!r}: should_stop_blob {blob!r} expects a scalar "
                                   f"boolean, got {getattr(value, 'dtype', type(value).__name__)} "
                                   f"of shape {getattr(value, 'shape', ())}")
    return bool(value)


class StepRunner:
    """One step, validated and bound to compiled nets; ``execute`` runs it."""

    def __init__(self, step: ExecutionStep, cache):
        self.name = step.name
        self.stop = step.should_stop_blob
        if self.stop is not None and step.num_iter is not None:
            raise InvalidArgumentError(f"step {self.name!r}: Must not specify num_iter if should_stop_blob is set")
        if step.only_once is not None and self.stop is None:
            raise UnimplementedError(f"step {self.name!r}: only_once without should_stop_blob is not supported")
        if step.nets and step.substeps:
            raise InvalidArgumentError(f"step {self.name!r}: Cannot have both network and substeps.")
        self.num_iter = 1 if step.num_iter is None else step.num_iter
        self.only_once = bool(step.only_once)
        self.create_workspace = step.create_workspace
        self.nets = [cache.runner(n) for n in step.nets]
        self.substeps = [StepRunner(s, cache) for s in step.substeps]
        instances = step.num_concurrent_instances or 1
        self.concurrent = (step.concurrent_substeps and len(self.substeps) > 1) or instances > 1
        self.n_threads = len(self.substeps) * instances
        self.written = frozenset(b for n in step.all_nets() for b in n.written_blobs())

    def _iterations(self):
        if self.stop is None:
            return range(self.num_iter)
        return range(1) if self.only_once else itertools.count()

    def execute(self, ws: BlobStore, keep_going: KeepGoing = _always) -> None:
        """Run the step on ``ws`` (or on a fresh child of it, with create_workspace)."""
        if self.create_workspace:
            ws = ws.create_child()
        stop, name = self.stop, self.name
        if stop is not None and stop not in self.written and not ws.has_blob(stop):
            raise NotFoundError(f"step {name!r}: should_stop_blob {stop!r} does not exist")
        for _ in self._iterations():
            if not keep_going():
                return
            if self.nets:
                for runner in self.nets:
                    runner.run(ws)
                    if stop is not None and should_stop(ws, stop, name):
                        return
            elif self.concurrent:
                self._run_concurrent(ws, keep_going)
                if stop is not None and should_stop(ws, stop, name):
                    return
            else:
                for sub in self.substeps:
                    sub.execute(ws, keep_going)
                    if stop is not None and should_stop(ws, stop, name):
                        return

    def _run_concurrent(self, ws: BlobStore, keep_going: KeepGoing) -> None:
        failed = threading.Event()
        errors: list[BaseException] = []

        def sibling_ok() -> bool:
            return not failed.is_set() and keep_going()

        def worker(sub: StepRunner) -> None:
            if failed.is_set():
                return
            try:
                sub.execute(ws, sibling_ok)
            except BaseException as exc:  # re-raised in the caller's thread below
                add_note(exc, f"in concurrent substep {sub.name!r} of step {self.name!r}")
                errors.append(exc)
                failed.set()

        subs = self.substeps
        work = iter(range(self.n_threads))
        lock = threading.Lock()

        def drain() -> None:
            # the pool is bounded; each thread takes the next instance until none is left
            while True:
                with lock:
                    k = next(work, None)
                if k is None:
                    return
                worker(subs[k % len(subs)])

        threads = [threading.Thread(target=drain, daemon=True, name=f"netjit:{self.name}:{k}")
                   for k in range(min(self.n_threads, max_step_threads()))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]


def max_step_threads() -> int:
    """How many threads one concurrent step runs at once (``NETJIT_MAX_STEP_THREADS``, default 64).

    More substeps or instances than that run as threads free up, so a step of
    100,000 instances holds 64 threads, not 100,000. Instances that wait for
    one another (a barrier over all of them) need the limit raised.
    """
    return max(1, int(os.environ.get("NETJIT_MAX_STEP_THREADS", 64)))


def run_step(ws: BlobStore, step: ExecutionStep) -> None:
    """Run ``step`` once on ``ws``."""
    StepRunner(step, ws.root.net_cache).execute(ws)


def run_plan(ws: BlobStore, plan: Plan) -> None:
    """Run the plan's steps in order; the first failure aborts the plan and propagates."""
    runners = [StepRunner(s, ws.root.net_cache) for s in plan.Steps()]
    for runner in runners:
        runner.execute(ws)


def run_runnable(ws: BlobStore, runnable) -> None:
    """``ws.run``: a Net (once), an ExecutionStep or a Plan."""
    if isinstance(runnable, Net):
        run_net(ws, runnable)
    elif isinstance(runnable, ExecutionStep):
        run_step(ws, runnable)
    elif isinstance(runnable, Plan):
        run_plan(ws, runnable)
    else:
        raise InvalidArgumentError(f"Workspace.run expects a Net, an ExecutionStep or a Plan, "
                                   f"got {type(runnable).__name__}")
