"""Caffe2-style sessions: run nets, steps, plans, tasks and task groups on a workspace.

``LocalSession`` runs everything on the local machine: every node of a task
group is remapped to one node, so all tasks start as concurrent substeps of
one step, each PRIVATE task in its own child workspace. A PRIVATE group runs
in a child of the session workspace released after the run; GLOBAL work runs
in the session workspace and its blobs persist between runs. Task outputs
are created in the session workspace before the run, so a private task's
outputs write through and stay fetchable.

Unlike Caffe2 (see the semantics notes, section 9): the compile cache is per
session class, a bare PRIVATE task stays private, nets are never snapshotted
(ops added after a run are run next time), and a PRIVATE group really gets a
private workspace.
"""
from __future__ import annotations

import threading
import weakref
from typing import Optional

from netjit.compiler.frontend.net import BlobReference
from netjit.compiler.frontend.steps import ExecutionStep, Plan, execution_step, to_execution_step
from netjit.compiler.frontend.task import Cluster, Task, TaskGroup, WorkspaceType
from netjit.errors import FailedPreconditionError

from .workspace import Workspace

_cache_lock = threading.Lock()


class CompiledRunnable:
    """A runnable compiled for one session class."""

    def __init__(self, obj, session_class: type):
        self.obj = obj
        self.session_class = session_class


class CompiledTaskGroup:
    """A task group as one plan, plus its outputs and workspace type."""

    def __init__(self, plan: Plan, outputs, workspace_type: str):
        self.plan = plan
        self.outputs = outputs
        self.workspace_type = workspace_type


class TaskSession:
    """Base of the Caffe2-style sessions (Caffe2's ``session.Session``).

    ``run(runnable)`` accepts a Net, a list of nets/steps, an ExecutionStep,
    a Plan, a Task, a TaskGroup or a CompiledRunnable.
    """

    def __init__(self):
        self._open = True

    def is_open(self) -> bool:
        return self._open

    @classmethod
    def _cache(cls) -> "weakref.WeakKeyDictionary":
        cache = cls.__dict__.get("_compiled_cache")
        if cache is None:
            with _cache_lock:
                cache = cls.__dict__.get("_compiled_cache")
                if cache is None:
                    cache = weakref.WeakKeyDictionary()
                    setattr(cls, "_compiled_cache", cache)
        return cache

    @classmethod
    def compile(cls, runnable, workspace_type: Optional[str] = None) -> CompiledRunnable:
        """Compile ``runnable`` for this session class (cached per runnable object)."""
        if isinstance(runnable, CompiledRunnable):
            if runnable.session_class is not cls:
                raise FailedPreconditionError(
                    "Runnable was compiled for different session type. "
                    f"Need: {cls.__name__}, got: {runnable.session_class.__name__}")
            return runnable
        try:
            cached = cls._cache().get(runnable)
        except TypeError:  # unhashable (a list): compiled every time
            cached, cacheable = None, False
        else:
            cacheable = True
        if cached is not None:
            return cached
        compiled = CompiledRunnable(cls._compile_task_group(_as_task_group(runnable, workspace_type)), cls)
        if cacheable:
            cls._cache()[runnable] = compiled
        return compiled

    @classmethod
    def _compile_task_group(cls, task_group: TaskGroup):
        raise NotImplementedError

    def run(self, runnable) -> None:
        """Run ``runnable`` (compiled first, or taken from the compile cache)."""
        if not self._open:
            raise FailedPreconditionError("Session is closed.")
        self._run_compiled(self.compile(runnable).obj)

    def _run_compiled(self, compiled) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Close the session (idempotent); later runs raise FailedPreconditionError."""
        self._open = False

    def __enter__(self):
        if not self._open:
            raise FailedPreconditionError("Session already closed.")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()


def _as_task_group(runnable, workspace_type: Optional[str]) -> TaskGroup:
    """Wrap anything runnable in a task group (GLOBAL unless asked or a PRIVATE task)."""
    if isinstance(runnable, TaskGroup):
        return runnable
    if isinstance(runnable, Task):
        group = TaskGroup(workspace_type or runnable._workspace_type or WorkspaceType.GLOBAL)
        group.add(runnable)
        return group
    group = TaskGroup(workspace_type or WorkspaceType.GLOBAL)
    if isinstance(runnable, (ExecutionStep, Plan)):
        step = to_execution_step(runnable)
    else:
        step = execution_step("runnable", runnable)
    Task(step=step, group=group, name=step.name)
    return group


class LocalSession(TaskSession):
    """Runs nets, steps, plans, tasks and task groups in one workspace on this machine.

    Parameters
    ----------
    ws : Workspace, optional
        The session (global) workspace; a new one by default.
    config : SessionConfig, optional
        Compile options of the new workspace (backend, opt level).

    Examples
    --------
    >>> net = nj.Net("my_net")
    >>> net.Add([net.Const(1), net.Const(2)], "three")
    >>> with nj.LocalSession() as session:
    ...     session.run(net)
    ...     session.workspace.fetch_blob("three")
    array(3)
    """

    def __init__(self, ws: Optional[Workspace] = None, config=None):
        super().__init__()
        self.workspace = ws if ws is not None else Workspace(config=config)

    @classmethod
    def _compile_task_group(cls, task_group: TaskGroup) -> CompiledTaskGroup:
        with Cluster():
            task = task_group.to_task()
        plan = Plan("task_group_plan")
        step = task.get_step()
        if step is not None:
            plan.AddStep(step)
        return CompiledTaskGroup(plan, task.output_list(), task.workspace_type())

    def _run_compiled(self, compiled: CompiledTaskGroup) -> None:
        ws = self.workspace
        names = compiled.outputs.names()
        for name in names:
            ws.create_blob(name)
        compiled.outputs.set_values([BlobReference(n) for n in names], _fetch_func=self._fetch_output)
        task_ws = ws.create_child() if compiled.workspace_type == WorkspaceType.PRIVATE else ws
        task_ws.run(compiled.plan)

    def _fetch_output(self, blob):
        return self.workspace.fetch_blob(blob)
