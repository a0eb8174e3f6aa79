"""NetBuilder: write control flow as Python blocks (Caffe2's ``net_builder.py``).

Inside ``with NetBuilder():`` (or ``with Task():``), ``ops.<Op>(...)`` appends
to the builder's current net. Control constructs are child builders that
become substeps, so between control points the compiler sees straight-line
nets and fuses inside them:

* ``ops.stop_if(cond)`` copies ``cond`` into the builder's stop blob and ends
  the current net, so the step checks the stop blob right there.
* ``ops.loop(iters=None)`` repeats its body until a stop (with ``iters``, a
  counter ``loop.iter()`` stops it after ``iters`` rounds).
* ``ops.If(cond)`` / ``.Elif(cond)`` / ``.Else()`` run once, guarded by
  ``Not(cond)`` and an "already ran" flag; ``ops.stop()`` inside a body ends
  that body only.
* ``ops.stop_guard()`` runs once; ``has_stopped()`` says whether it was halted.
* ``ops.task_init()`` and friends collect setup nets run once per task, per
  task instance or per node (see ``compiler.task``).

``to_execution_step(builder)`` (or ``builder.to_step()``) gives the step.
"""
from __future__ import annotations

from typing import Optional

from netjit.errors import FailedPreconditionError, InvalidArgumentError

from .net import BlobReference, Net
from .scopes import Scoped
from .steps import (LOCAL_SETUP, TASK_INSTANCE_SETUP, TASK_SETUP, ExecutionStep, StepSource, add_net_attribute,
                    execution_step)


class NetBuilder(Scoped, StepSource):
    """Collects nets and child builders; ``with NetBuilder() as nb:`` makes it current."""

    def __init__(self, name: Optional[str] = None, _stop_blob_required: bool = False,
                 _stop_blob: Optional[str] = None, _fullname: Optional[str] = None):
        parent = NetBuilder.current(required=False)
        if _fullname and name:
            raise InvalidArgumentError("Cannot set both _fullname and name")
        self.name = _fullname or "/".join(n for n in (parent.name if parent else None, name) if n)
        self._frozen = False
        self._current_net: Optional[Net] = None
        self._children: list = []
        self._stop_blob_req = _stop_blob_required
        self._stop_blob = _stop_blob

    def stop_blob(self) -> BlobReference:
        """This builder's stop blob, made on first use.

        Made in the current net; unless that net is the builder's first, an
        init net setting it to False is put first, so every run starts unstopped.
        """
        if self._stop_blob is None:
            net = self.current_net()
            self._stop_blob = BlobReference(net.NextName("stop_blob"), net)
            if self._current_net is not self._children[0]:
                init = Net("stop_blob_init")
                init.Const(False, self._stop_blob)
                self._children.insert(0, init)
        return self._stop_blob

    def stop_if(self, blob) -> None:
        ops.Copy(blob, self.stop_blob())
        self._current_net = None

    def _assert_mutable(self) -> None:
        if self._frozen:
            raise FailedPreconditionError(f"This NetBuilder ({self.name}) has been built already.")

    def add(self, child):
        """Append a net or a child builder; a net becomes the current net."""
        self._assert_mutable()
        self._current_net = None
        self._children.append(child)
        if isinstance(child, Net):
            self._current_net = child
        return child

    def current_net(self, name: Optional[str] = None) -> Net:
        """The net ops go to (a new one after each control construct)."""
        self._assert_mutable()
        if self._current_net is None or name is not None:
            self.add(Net(name or (f"{self.name}/net" if self.name else "net")))
        return self._current_net

    def freeze(self) -> None:
        for child in self._children:
            if isinstance(child, NetBuilder):
                child.freeze()
        self._current_net = None
        self._frozen = True

    def get(self) -> list:
        """The children (nets and builders), freezing the builder."""
        self.freeze()
        return list(self._children)

    def to_step(self, name: Optional[str] = None) -> ExecutionStep:
        """The step running the children in order, with this builder's stop blob."""
        return execution_step(name or self.name or "builder", self.get(), should_stop_blob=self._stop_blob)

    def __exit__(self, etype, *args) -> None:
        self.freeze()
        super().__exit__(etype, *args)
        if etype is None and self._stop_blob_req and self._stop_blob is None:
            raise InvalidArgumentError(f"This NetBuilder ({self.name}) requires a stop condition "
                                       "to be set with `stop` or `stop_if`")

    def __str__(self) -> str:
        return self.name or "Un-named NetBuilder"


class BuilderOps:
    """``nj.ops``: ops and control flow recorded into the current NetBuilder."""

    def net(self, net: Optional[Net] = None, name: Optional[str] = None) -> Net:
        """Add ``net`` to the current builder, or return its current (or a new named) net."""
        if net is not None and name is not None:
            raise InvalidArgumentError("Cannot provide both `net` and `name`.")
        if net is not None:
            NetBuilder.current().add(net)
            return net
        return NetBuilder.current().current_net(name=name)

    def __getattr__(self, op_type: str):
        if op_type.startswith("__"):
            raise AttributeError(op_type)
        if NetBuilder.current(required=False) is None:
            raise AttributeError(f"ops.{op_type}: No active NetBuilder.")
        return getattr(self.net(), op_type)

    def stop(self) -> None:
        """Stop the current builder's step here."""
        return self.stop_if(self.Const(True))

    def stop_if(self, blob) -> None:
        """Stop the current builder's step here if the scalar bool ``blob`` is true."""
        return NetBuilder.current().stop_if(blob)

    def loop(self, iters=None, name: Optional[str] = None) -> "_Loop":
        """A child builder repeated until a stop, or ``iters`` (int or blob) times."""
        return NetBuilder.current().add(_Loop(iters, name=name))

    def stop_guard(self, has_stopped_blob=None, name: Optional[str] = None) -> "_StopGuard":
        """A child builder run once; ``has_stopped()`` says if it was halted."""
        return NetBuilder.current().add(_StopGuard(has_stopped_blob=has_stopped_blob, name=name))

    def If(self, cond, name: Optional[str] = None) -> "_RunIf":
        """A child builder run once if the scalar bool ``cond`` is true."""
        return NetBuilder.current().add(_RunIf(cond, name=name))

    def _setup(self, key: str, kind: str) -> "_SetupBuilder":
        setup = _SetupBuilder(kind)
        add_net_attribute(self.net(), key, setup)
        return setup

    def task_init(self):
        """Ops run once when the task starts, before all instances."""
        return self._setup(TASK_SETUP, _SetupBuilder.INIT)

    def task_exit(self):
        """Ops run once when the task ends, after all instances."""
        return self._setup(TASK_SETUP, _SetupBuilder.EXIT)

    def task_instance_init(self):
        """Ops run once per task instance, in its workspace, before its body."""
        return self._setup(TASK_INSTANCE_SETUP, _SetupBuilder.INIT)

    def task_instance_exit(self):
        """Ops run once per task instance, in its workspace, after its body."""
        return self._setup(TASK_INSTANCE_SETUP, _SetupBuilder.EXIT)

    def local_init(self):
        """Ops run once per node before any task of the group."""
        return self._setup(LOCAL_SETUP, _SetupBuilder.INIT)

    def local_exit(self):
        """Ops run once per node after all tasks of the group."""
        return self._setup(LOCAL_SETUP, _SetupBuilder.EXIT)


ops = BuilderOps()


class _SetupBuilder(NetBuilder):
    INIT = "init"
    EXIT = "exit"

    def __init__(self, kind: str, name: Optional[str] = None):
        super().__init__(name)
        self.kind = kind

    def setup(self, net):
        return self.to_step() if self.kind == _SetupBuilder.INIT else None

    def exit(self, net):
        return self.to_step() if self.kind == _SetupBuilder.EXIT else None


class _RunOnce(NetBuilder):
    """A builder run once: if it has a stop blob, a final stop ends its loop."""

    def __exit__(self, etype, *args) -> None:
        if etype is None and self._stop_blob is not None:
            ops.stop()
        super().__exit__(etype, *args)


class _StopGuard(_RunOnce):
    def __init__(self, has_stopped_blob=None, name: Optional[str] = None):
        super().__init__(name)
        self._stopped = has_stopped_blob
        self._ran = False

    def __enter__(self):
        result = super().__enter__()
        self._stopped = ops.Const(True, self._stopped)
        return result

    def __exit__(self, etype, *args) -> None:
        if etype is None:
            self._ran = True
            ops.Const(False, self._stopped)
        super().__exit__(etype, *args)

    def has_stopped(self) -> BlobReference:
        """A scalar bool blob: true after the guarded block ran iff it was halted early."""
        if not self._ran:
            raise FailedPreconditionError("stop_guard: Context not used yet.")
        return self._stopped


class _Loop(NetBuilder):
    def __init__(self, iters=None, name: Optional[str] = None):
        super().__init__(name, _stop_blob_required=True)
        if iters is not None:
            self._inc = ops.Const(1)
            self._iter = ops.Const(0)
            self._num_iters = iters if isinstance(iters, BlobReference) else ops.Const(iters)
        else:
            self._num_iters = None

    def iter(self) -> BlobReference:
        """The 0-based iteration counter (a scalar int64 blob)."""
        if self._num_iters is None:
            raise FailedPreconditionError("This loop does not have a number of iterations.")
        return self._iter

    def __enter__(self):
        result = super().__enter__()
        if self._num_iters is not None:
            ops.stop_if(ops.GE([self._iter, self._num_iters]))
        return result

    def __exit__(self, etype, *args) -> None:
        if etype is None and self._num_iters is not None:
            self.current_net().Add([self._iter, self._inc], [self._iter])
        super().__exit__(etype, *args)


class _RunIf(_RunOnce):
    def __init__(self, cond_blob=None, name: Optional[str] = None, _already_ran=None):
        super().__init__(name)
        if cond_blob is None and _already_ran is None:
            raise InvalidArgumentError("If needs a condition")
        self._is_else = cond_blob is None
        if _already_ran is None:
            self._else_blob = ops.Not(cond_blob)
            self._already_ran = ops.Const(False)
        else:
            self._already_ran = _already_ran
            self._else_blob = _already_ran if cond_blob is None else ops.Or([_already_ran, ops.Not(cond_blob)])

    def __enter__(self):
        result = super().__enter__()
        ops.stop_if(self._else_blob)
        ops.Const(True, self._already_ran)
        return result

    def Elif(self, cond, name: Optional[str] = None) -> "_RunIf":
        """Run once if no earlier branch ran and ``cond`` is true."""
        if self._is_else:
            raise InvalidArgumentError("Elif not allowed after an Else.")
        return NetBuilder.current().add(_RunIf(cond, name=name or self.name, _already_ran=self._already_ran))

    def Else(self, name: Optional[str] = None) -> "_RunIf":
        """Run once if no earlier branch ran."""
        if self._is_else:
            raise InvalidArgumentError("Else not allowed after an Else.")
        return NetBuilder.current().add(_RunIf(name=name or self.name, _already_ran=self._already_ran))
