"""Tasks, task groups, nodes and clusters (Caffe2's ``task.py``).

A ``Task`` is a step plus the blobs it outputs, run on a ``Node`` in a
workspace of a ``WorkspaceType``: GLOBAL runs in the session's workspace,
PRIVATE in a child workspace released after the run (new blobs vanish,
writes to existing ones stay). A ``TaskGroup`` collects tasks that start
together; ``tasks_by_node`` folds them into one task per node whose step
runs the node's tasks as concurrent substeps, wrapped in the group's
per-node setup. ``Task.get_step`` wraps the body in task and instance setup
and, for ``num_instances`` > 1, in a step of concurrent instances each in its
own child workspace (runtime cloning).
"""
from __future__ import annotations

import threading
from collections import defaultdict
from typing import Callable, Optional

import numpy as np

from netjit.errors import FailedPreconditionError, InvalidArgumentError

from .net import Net
from .net_builder import NetBuilder
from .scopes import Scoped
from .steps import (LOCAL_SETUP, TASK_INSTANCE_SETUP, TASK_SETUP, ExecutionStep, execution_step, net_attributes,
                    to_execution_step)


class WorkspaceType:
    """Where a task runs: PRIVATE (a child released after the run) or GLOBAL."""

    PRIVATE = "private"
    GLOBAL = "global"


class Cluster(Scoped):
    """Records the nodes used under it, in first-use order (users rarely need it)."""

    _defaults: dict = {}

    def __init__(self):
        self._nodes: list[str] = []
        self._node_kwargs: dict = {}

    @classmethod
    def _default(cls):
        return cls._defaults.setdefault(threading.get_ident(), Cluster())

    def add_node(self, node: "Node") -> None:
        if str(node) not in self._nodes:
            self._nodes.append(str(node))
        self._node_kwargs.setdefault(str(node), {}).update(node.kwargs)

    def nodes(self) -> list[str]:
        return list(self._nodes)

    def node_kwargs(self) -> dict:
        return {k: dict(v) for k, v in self._node_kwargs.items()}


class Node(Scoped):
    """A named place tasks run on; only the name matters (``Node('local')`` by default)."""

    def __init__(self, node: str = "local", **kwargs):
        self._name = str(node)
        self.kwargs = kwargs
        Cluster.current().add_node(self)

    @classmethod
    def _default(cls):
        return Node("local")

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"Node({self._name!r})"


class TaskOutput:
    """An output of a task: its value(s) can be fetched after the session ran it."""

    def __init__(self, names):
        self._is_scalar = isinstance(names, str)
        self.names = [str(names)] if self._is_scalar else [str(n) for n in names]
        self._values = None
        self._fetch_func: Optional[Callable] = None

    def set(self, values, _fetch_func: Optional[Callable] = None) -> None:
        if len(values) != len(self.names):
            raise InvalidArgumentError(f"TaskOutput expects {len(self.names)} values, got {len(values)}")
        self._values = list(values)
        self._fetch_func = _fetch_func

    def get(self):
        """The output blob reference(s), once a session has bound them."""
        if self._values is None:
            raise FailedPreconditionError(f"Output value not set yet: {self.names} (run the task first).")
        return self._values[0] if self._is_scalar else list(self._values)

    def fetch(self):
        """The output value(s) after a session ran the task."""
        if self._fetch_func is None:
            raise FailedPreconditionError(f"Cannot fetch value for output {self.names}: "
                                          "run its task in a session first.")
        values = [self._fetch_func(v) for v in self._values]
        return values[0] if self._is_scalar else values


class TaskOutputList:
    """All outputs of a task, set from one flat list of blobs."""

    def __init__(self, outputs=None):
        self.outputs = list(outputs or [])

    def names(self) -> list[str]:
        return [n for o in self.outputs for n in o.names]

    def set_values(self, values, _fetch_func=None) -> None:
        offset = 0
        for o in self.outputs:
            o.set(values[offset:offset + len(o.names)], _fetch_func)
            offset += len(o.names)


class SetupNets:
    """Nets (or steps) to run once before (``init``) and after (``exit``) a task, instance or node."""

    def __init__(self, init_nets=None, exit_nets=None):
        self.init_nets = init_nets
        self.exit_nets = exit_nets

    def setup(self, init_net):
        return self.init_nets

    def exit(self, exit_net):
        return self.exit_nets


def get_setup_nets(key: str, steps_or_nets, target) -> tuple[list, list]:
    """Init and exit nets/steps of the setup objects attached under ``key`` (each used once)."""
    objs = []
    for x in steps_or_nets:
        if isinstance(x, ExecutionStep):
            objs += x.get_all_attributes(key)
        elif isinstance(x, Net):
            objs += net_attributes(x, key)
    init_nets, exit_nets = [], []
    for obj in objs:
        if getattr(obj, "_setup_used", False) or getattr(obj, "_setup_target", target) is not target:
            continue
        for method, out in (("setup", init_nets), ("exit", exit_nets)):
            if hasattr(obj, method):
                nets = getattr(obj, method)(None)
                if isinstance(nets, (list, tuple)):
                    out.extend(nets)
                elif isinstance(nets, (Net, ExecutionStep)):
                    out.append(nets)
                elif nets is not None:
                    raise InvalidArgumentError(f"Unsupported type for setup: {type(nets).__name__}")
        obj._setup_used = True
    return init_nets, exit_nets


def add_setup_steps(step: ExecutionStep, init_nets, exit_nets, name: str) -> ExecutionStep:
    """``step`` between its init and exit nets (unchanged if there are none)."""
    if not init_nets and not exit_nets:
        return step
    steps = []
    if init_nets:
        steps.append(execution_step(f"{name}:init", list(init_nets)))
    steps.append(step)
    if exit_nets:
        steps.append(execution_step(f"{name}:exit", list(exit_nets)))
    return execution_step(name, steps)


def _with_create_workspace(step: ExecutionStep, create: bool) -> ExecutionStep:
    """``step`` running in a child workspace iff ``create``; a step already used elsewhere
    (immutable) is wrapped in a new step rather than changed."""
    if step.create_workspace == create:
        return step
    if step._used:
        step = execution_step(f"{step.name}:workspace", [step])
    step.SetCreateWorkspace(create)
    return step


class TaskGroup(Scoped):
    """Tasks that start concurrently; the group ends when its last task ends.

    ``LOCAL_SETUP`` hooks (``ops.local_init/local_exit``) run once per node,
    before any task and after all tasks of the group on that node.
    """

    LOCAL_SETUP = LOCAL_SETUP

    def __init__(self, workspace_type: Optional[str] = None):
        self._workspace_type = workspace_type
        self._tasks: list[Task] = []
        self._tasks_to_add: list[Task] = []
        self._already_used = False
        self._names_used: set[str] = set()
        self._tasks_by_node = None

    def add(self, task: "Task") -> None:
        if self._already_used:
            raise FailedPreconditionError("Cannot add Task to an already used TaskGroup.")
        if (self._workspace_type is not None and task._workspace_type is not None
                and self._workspace_type != task._workspace_type):
            raise InvalidArgumentError(f"task {task.name!r} is {task._workspace_type} but its TaskGroup is "
                                       f"{self._workspace_type}")
        if task._workspace_type is None:
            task._workspace_type = self._workspace_type or WorkspaceType.PRIVATE
        if self._workspace_type is None:
            self._workspace_type = task._workspace_type
        task._notify_used()
        self._tasks.append(task)

    def tasks(self) -> list["Task"]:
        """The group's tasks; the group can take no more after this."""
        for task in self._tasks_to_add:
            self.add(task)
        self._tasks_to_add = []
        self._already_used = True
        return list(self._tasks)

    def num_registered_tasks(self) -> int:
        return len(self._tasks_to_add) + len(self._tasks)

    def used_nodes(self) -> list[str]:
        """Node names of the group's tasks, in first-use order."""
        return list(dict.fromkeys(t.node for t in self._tasks_to_add + self._tasks))

    def workspace_type(self) -> str:
        return self._workspace_type or WorkspaceType.PRIVATE

    def tasks_by_node(self, node_remap: Optional[Callable[[str], str]] = None) -> "TaskGroup":
        """One task per (remapped) node, running that node's tasks concurrently."""
        tasks = self.tasks()
        node_map = {t.node: (node_remap(t.node) if node_remap else t.node) for t in tasks}
        if self._tasks_by_node is not None:
            grouped, prev_map = self._tasks_by_node
            if prev_map != node_map:
                raise FailedPreconditionError("Cannot call tasks_by_node multiple times with a different remap.")
            return grouped
        by_node: dict[str, list[Task]] = defaultdict(list)
        for t in tasks:
            by_node[node_map[t.node]].append(t)
        grouped = TaskGroup()
        for node, node_tasks in by_node.items():
            self._node_task(node, node_tasks, grouped)
        self._tasks_by_node = (grouped, node_map)
        return grouped

    def _node_task(self, node: str, tasks: list["Task"], grouped: "TaskGroup") -> None:
        steps = [t.get_step() for t in tasks]
        node_inits, node_exits = get_setup_nets(TaskGroup.LOCAL_SETUP, [s for s in steps if s], self)
        body, outputs, ws_type = [], [], WorkspaceType.PRIVATE
        for task, step in zip(tasks, steps):
            if step is not None:
                body.append(_with_create_workspace(step, task.workspace_type() == WorkspaceType.PRIVATE))
            outputs += task.outputs()
            if task.workspace_type() == WorkspaceType.GLOBAL:
                ws_type = WorkspaceType.GLOBAL
        if not body:
            body.append(execution_step("empty", []))
        step = body[0] if len(body) == 1 else execution_step(f"{node}:body", body, concurrent_substeps=True)
        step = add_setup_steps(step, node_inits, node_exits, node)
        Task(node=node, step=step, outputs=outputs, name="grouped_by_node", group=grouped,
             workspace_type=ws_type)

    def to_task(self, node: Optional[str] = None) -> "Task":
        """All tasks remapped to one node (``node`` or the current one), as one task."""
        node = str(Node.current(None if node is None else Node(node)))
        tasks = self.tasks_by_node(lambda _: node).tasks()
        return tasks[0] if tasks else Task(node=node, group=TaskGroup())

    def __repr__(self) -> str:
        return f"<TaskGroup {self.workspace_type()}: {self.num_registered_tasks()} tasks>"


class Task(Scoped):
    """A step to run on a node, with outputs; ``with Task() as t:`` builds the step with NetBuilder.

    Parameters
    ----------
    step : Net, ExecutionStep, list or NetBuilder, optional
    outputs : blob or list of blobs, optional
        Values to fetch (``task.outputs()[i].fetch()``) after a session ran the task.
    num_instances : int, optional
        Run the body this many times concurrently, each in its own child workspace.
    workspace_type : WorkspaceType.PRIVATE or GLOBAL, optional (default: the group's)
    node, name, group : where the task runs, its name, its TaskGroup (default: the active one)
    """

    TASK_SETUP = TASK_SETUP
    TASK_INSTANCE_SETUP = TASK_INSTANCE_SETUP

    def __init__(self, step=None, outputs=None, workspace_type: Optional[str] = None, group=None,
                 node=None, name: Optional[str] = None, num_instances: Optional[int] = None):
        if group is None:
            group = TaskGroup.current(required=False)
        self.node = str(Node.current(None if node is None else Node(node)))
        self.group = group
        self.name = self._next_name(group, name or getattr(step, "name", None) or "task")
        self._workspace_type = workspace_type
        self._num_instances = num_instances
        self._outputs: list[TaskOutput] = []
        self._step: Optional[ExecutionStep] = None
        self._step_with_setup: Optional[ExecutionStep] = None
        self._already_used = False
        self._builder = None
        if step is not None:
            self.set_step(step)
        if outputs is not None:
            self.add_outputs(outputs)
        if group is not None:
            group._tasks_to_add.append(self)

    def _next_name(self, group, name: str) -> str:
        base = f"{self.node}/{name}"
        used = group._names_used if group is not None else set()
        candidate, i = base, 0
        while candidate in used:
            candidate, i = f"{base}/{i}", i + 1
        used.add(candidate)
        return candidate

    @classmethod
    def _default(cls):
        return None

    def __enter__(self) -> "Task":
        self._assert_not_used()
        if self._step is not None:
            raise FailedPreconditionError(f"task {self.name!r} already has an execution step")
        if self.group is not None:  # re-added on exit, so tasks made inside come first
            self.group._tasks_to_add.remove(self)
        super().__enter__()
        self._builder = NetBuilder(_fullname=self.name).__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        builder, self._builder = self._builder, None
        builder.__exit__(exc_type, exc, tb)
        super().__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.set_step(builder)
        if self.group is not None:
            self.group._tasks_to_add.append(self)

    def _assert_not_used(self) -> None:
        if self._already_used:
            raise FailedPreconditionError(f"Cannot modify task {self.name!r} since it is already been used.")

    def _notify_used(self) -> None:
        self.get_step()
        self._already_used = True

    def workspace_type(self) -> str:
        return self._workspace_type or WorkspaceType.PRIVATE

    def set_step(self, step) -> None:
        self._assert_not_used()
        self._step = to_execution_step(step)

    def add_output(self, output) -> TaskOutput:
        self._assert_not_used()
        output = output if isinstance(output, TaskOutput) else TaskOutput(output)
        self._outputs.append(output)
        return output

    def add_outputs(self, outputs):
        self._assert_not_used()
        if isinstance(outputs, (list, tuple)) and not isinstance(outputs, str):
            return [self.add_output(o) for o in outputs]
        return self.add_output(outputs)

    def outputs(self) -> list[TaskOutput]:
        return list(self._outputs)

    def output_list(self) -> TaskOutputList:
        return TaskOutputList(self._outputs)

    def get_step(self) -> Optional[ExecutionStep]:
        """The task's full step (built once): setup, instances, exit, dummy output."""
        if self._step is None or self._step_with_setup is not None:
            return self._step_with_setup
        task_init, task_exit = get_setup_nets(Task.TASK_SETUP, [self._step], self)
        inst_init, inst_exit = get_setup_nets(Task.TASK_INSTANCE_SETUP, [self._step], self)
        if not self._outputs:
            output_net = Net(f"{self.name}:output")
            self._outputs.append(TaskOutput(output_net.Const(np.int32(0))))
            task_exit.append(output_net)
        body = add_setup_steps(self._step, inst_init, inst_exit, f"{self.name}:instance")
        if self._num_instances and self._num_instances > 1:
            body.SetCreateWorkspace(True)
            body = execution_step(f"{self.name}:parallel", [body], num_concurrent_instances=self._num_instances)
        self._step_with_setup = add_setup_steps(body, task_init, task_exit, self.name)
        return self._step_with_setup

    def __repr__(self) -> str:
        return f"<Task {self.name!r} {self.workspace_type()}>"


def final_output(blob_or_record) -> TaskOutput:
    """Add an output to the current task (or a new task): its value when the group finishes."""
    task = Task.current(required=False) or Task()
    return task.add_output(blob_or_record)
