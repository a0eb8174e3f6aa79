"""Execution steps and plans (Caffe2's ``core.ExecutionStep`` / ``Plan``).

A step holds either nets (run in order) or substeps, never both, plus its
iteration control: ``num_iter``, ``should_stop_blob`` (checked after every
net or substep), ``only_once``, ``concurrent_substeps``,
``num_concurrent_instances`` and ``create_workspace``. A step becomes
immutable once added to a plan or another step. The runtime
(``netjit.runtime.caffe2.plan_executor``) gives these their meaning.

Not supported: Caffe2's reporter substeps (``run_every_ms``, ``report_net``).
"""
from __future__ import annotations

import weakref
from typing import Any, Optional

import numpy as np

from netjit.errors import FailedPreconditionError, InvalidArgumentError

from .net import Net
from .saving import save_plan

#: Attribute keys of setup nets attached to steps and nets by NetBuilder's
#: ``task_init``/``task_exit`` (once per task), ``task_instance_init``/``..._exit``
#: (once per instance) and ``local_init``/``local_exit`` (once per node).
_I64_MAX = int(np.iinfo(np.int64).max)
TASK_SETUP = "task_setup"
TASK_INSTANCE_SETUP = "task_instance_setup"
LOCAL_SETUP = "local_setup"

#: Objects attached to nets under a key (setup hooks), as Caffe2's Net.add_attribute.
_NET_ATTRIBUTES: "weakref.WeakKeyDictionary[Net, dict]" = weakref.WeakKeyDictionary()


def add_net_attribute(net: Net, key: str, obj: Any) -> None:
    """Attach ``obj`` to ``net`` under ``key`` (Caffe2's ``Net.add_attribute``)."""
    _NET_ATTRIBUTES.setdefault(net, {}).setdefault(key, []).append(obj)


def net_attributes(net: Net, key: str) -> list:
    """The objects attached to ``net`` under ``key``, in the order added."""
    return list(_NET_ATTRIBUTES.get(net, {}).get(key, ()))


class ExecutionStep:
    """A node of a plan: nets or substeps plus how often and how to run them."""

    def __init__(self, name: str, nets=None, num_iter: Optional[int] = None):
        self.name = str(name)
        self.nets: list[Net] = []
        self.substeps: list[ExecutionStep] = []
        self.num_iter: Optional[int] = None
        self.should_stop_blob: Optional[str] = None
        self.only_once: Optional[bool] = None
        self.concurrent_substeps: bool = False
        self.num_concurrent_instances: Optional[int] = None
        self.create_workspace: bool = False
        self._used = False
        for net in nets or ():
            self.AddNet(net)
        if num_iter is not None:
            self.SetIter(num_iter)

    def _assert_can_mutate(self) -> None:
        if self._used:
            raise FailedPreconditionError(f"Cannot mutate step {self.name!r}: it has already been "
                                          "added to a plan/step.")

    def _notify_is_used(self) -> None:
        self._used = True

    # -- Caffe2's setters -------------------------------------------------
    def AddNet(self, net: Net) -> None:
        self._assert_can_mutate()
        if self.substeps:
            raise InvalidArgumentError(f"step {self.name!r}: Cannot have both network and substeps.")
        if not isinstance(net, Net):
            raise InvalidArgumentError(f"step {self.name!r}: expected a Net, got {type(net).__name__}")
        self.nets.append(net)

    def AddSubstep(self, substep: "ExecutionStep") -> "ExecutionStep":
        """Add a substep; an empty one (no nets, no substeps) is silently dropped."""
        self._assert_can_mutate()
        if self.nets:
            raise InvalidArgumentError(f"step {self.name!r}: Cannot have both network and substeps.")
        substep = to_execution_step(substep)
        substep._notify_is_used()
        if substep.HasNets() or substep.HasSubsteps():
            self.substeps.append(substep)
        return self

    def SetIter(self, num_iter: int) -> None:
        self._assert_can_mutate()
        self.num_iter = self._count("num_iter", num_iter, 0)

    def SetShouldStopBlob(self, blob) -> None:
        self._assert_can_mutate()
        if not isinstance(blob, str):
            raise InvalidArgumentError(f"step {self.name!r}: should_stop_blob expects a BlobReference "
                                       f"or blob name, got {type(blob).__name__}")
        self.should_stop_blob = str(blob)

    def SetOnlyOnce(self, only_once: bool) -> None:
        self._assert_can_mutate()
        self.only_once = bool(only_once)

    def SetConcurrentSubsteps(self, concurrent: bool) -> None:
        self._assert_can_mutate()
        self.concurrent_substeps = bool(concurrent)

    def SetNumConcurrentInstances(self, n: int) -> None:
        self._assert_can_mutate()
        self.num_concurrent_instances = self._count("num_concurrent_instances", n, 1)

    def _count(self, what: str, n, least: int) -> int:
        """``n`` as an int from ``least`` to int64's largest, else InvalidArgumentError."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not least <= int(n) <= _I64_MAX:
            raise InvalidArgumentError(f"step {self.name!r}: {what} must be an int from {least} "
                                       f"to {_I64_MAX}, got {n!r}"[:200])
        return int(n)

    def SetCreateWorkspace(self, create: bool) -> None:
        self._assert_can_mutate()
        self.create_workspace = bool(create)

    # -- introspection ----------------------------------------------------
    def HasNets(self) -> bool:
        return bool(self.nets)

    def HasSubsteps(self) -> bool:
        return bool(self.substeps)

    def Nets(self) -> list[Net]:
        return list(self.nets)

    def Substeps(self) -> list["ExecutionStep"]:
        return list(self.substeps)

    def all_nets(self) -> list[Net]:
        """Every net of this step and its substeps, depth first."""
        return self.nets + [n for s in self.substeps for n in s.all_nets()]

    def get_all_attributes(self, key: str) -> list:
        """Objects attached under ``key`` to any net of this step tree."""
        return [obj for net in self.all_nets() for obj in net_attributes(net, key)]

    def __repr__(self) -> str:
        what = f"{len(self.nets)} nets" if self.nets else f"{len(self.substeps)} substeps"
        return f"<ExecutionStep {self.name!r}: {what}>"


def execution_step(default_name: str, steps_or_nets, num_iter: Optional[int] = None,
                   should_stop_blob=None, only_once: Optional[bool] = None,
                   concurrent_substeps: Optional[bool] = None,
                   num_concurrent_instances: Optional[int] = None,
                   create_workspace: bool = False) -> ExecutionStep:
    """Make a step from a net, a step, a list of nets, or a list of steps/nets/builders.

    A list of nets becomes one step running them in order (a net listed twice
    runs twice); any other list becomes substeps, each element converted
    with ``to_execution_step``. With neither ``num_iter`` nor
    ``should_stop_blob`` the step runs once. ``only_once=False`` means unset.
    """
    if should_stop_blob is not None and num_iter is not None:
        raise InvalidArgumentError(f"step {default_name!r}: Cannot set both should_stop_blob and num_iter.")
    if should_stop_blob is None and num_iter is None:
        num_iter = 1
    step = ExecutionStep(default_name)
    if should_stop_blob is not None:
        step.SetShouldStopBlob(should_stop_blob)
    if num_iter is not None:
        step.SetIter(num_iter)
    if only_once:
        step.SetOnlyOnce(True)
    if concurrent_substeps:
        step.SetConcurrentSubsteps(True)
    if num_concurrent_instances is not None:
        step.SetNumConcurrentInstances(num_concurrent_instances)
    if create_workspace:
        step.SetCreateWorkspace(True)
    _add_content(step, steps_or_nets)
    return step


def _add_content(step: ExecutionStep, steps_or_nets) -> None:
    if steps_or_nets is None:
        return
    if isinstance(steps_or_nets, Net):
        step.AddNet(steps_or_nets)
    elif isinstance(steps_or_nets, list):
        if all(isinstance(x, Net) for x in steps_or_nets):
            for net in steps_or_nets:
                step.AddNet(net)
        else:
            for x in steps_or_nets:
                step.AddSubstep(to_execution_step(x))
    elif isinstance(steps_or_nets, (ExecutionStep, Plan)) or isinstance(steps_or_nets, StepSource):
        step.AddSubstep(to_execution_step(steps_or_nets))
    else:
        raise InvalidArgumentError("steps_or_nets must be a step, a net, or a list of nets or steps, "
                                   f"got {type(steps_or_nets).__name__}")


class StepSource:
    """What builds an execution step on demand (a NetBuilder): ``to_execution_step``
    and ``execution_step`` accept one wherever they accept a step."""

    def to_step(self, default_name: Optional[str] = None) -> "ExecutionStep":
        raise NotImplementedError


def to_execution_step(step_or_nets, default_name: Optional[str] = None) -> ExecutionStep:
    """A step as is; a NetBuilder as its step (with its stop blob); a Plan as its
    steps in sequence; anything else wrapped by ``execution_step``."""
    if isinstance(step_or_nets, ExecutionStep):
        return step_or_nets
    if isinstance(step_or_nets, Plan):
        return execution_step(default_name or step_or_nets.name, list(step_or_nets.Steps()))
    if not default_name and hasattr(step_or_nets, "name"):
        default_name = step_or_nets.name
    if isinstance(step_or_nets, StepSource):
        return step_or_nets.to_step(default_name)
    return execution_step(default_name or "step", step_or_nets)


class Plan:
    """Top-level steps run in order (Caffe2's ``core.Plan``); ``ws.run(plan)`` runs it."""

    def __init__(self, name_or_step="plan"):
        self._steps: list[ExecutionStep] = []
        if isinstance(name_or_step, ExecutionStep):
            self.name = name_or_step.name
            self.AddStep(name_or_step)
        else:
            self.name = str(name_or_step)

    def AddStep(self, step: ExecutionStep) -> None:
        """Append a step (an empty one is dropped); the step becomes immutable."""
        if not isinstance(step, ExecutionStep):
            raise InvalidArgumentError(f"Plan.AddStep expects an ExecutionStep, got {type(step).__name__}")
        step._notify_is_used()
        if not step.HasNets() and not step.HasSubsteps():
            return
        by_name = {n.name: n for s in self._steps for n in s.all_nets()}
        for net in step.all_nets():
            if by_name.setdefault(net.name, net) is not net:
                raise InvalidArgumentError(f"plan {self.name!r}: Your plan contains networks of the same "
                                           f"name {net.name!r}")
        self._steps.append(step)

    def Steps(self) -> list[ExecutionStep]:
        return list(self._steps)

    def Nets(self) -> list[Net]:
        return list(dict.fromkeys(n for s in self._steps for n in s.all_nets()))

    def save(self, path) -> None:
        """Write this plan and every net it runs to ``path`` (as ``Net.save``); ``nj.load`` reads it."""
        save_plan(self, path)

    def __repr__(self) -> str:
        return f"<Plan {self.name!r}: {len(self._steps)} steps>"
