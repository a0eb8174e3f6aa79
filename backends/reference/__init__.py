"""The reference backend: runs each op's NumPy ``reference()`` in order.

It is the oracle every test compares against and the evaluator of constant
folding. Compilation turns the graph into a flat schedule of slot indices, so
a call walks a list, not the graph.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import OP_REGISTRY, InferError, StatefulOp
from netjit.compiler.segments import describe_graph
from netjit.errors import InvalidArgumentError

from ..base import Backend, DictStateStore, Executable


class OpFailure(InvalidArgumentError):
    """An op raised while running; the message names the op and its blobs.

    Every backend and tier raises this for an exception from an op's own code (a
    Python op's function above all), with that exception as ``__cause__``: a
    caller's ``except`` does not depend on which tier ran."""


def op_failure(label: str, where: str, exc: BaseException) -> OpFailure:
    """The ``OpFailure`` for ``exc`` raised by op ``label`` (``"Python 'y'"``) in ``where``
    (``"net 'mlp'"``); raise it ``from exc``. An ``OpFailure`` (a nested net's) stays as it is."""
    if isinstance(exc, OpFailure):
        return exc
    return OpFailure(f"{label} in {where} failed: {exc or type(exc).__name__}")


class ReferenceExecutable(Executable):
    """A compiled schedule: (op, input slots, output slots) per node."""

    tier = "reference"

    def __init__(self, graph: Graph):
        self.name = graph.name
        self.input_names = tuple(graph.name_of_input(n) for n in graph.inputs)
        slots: dict = {}
        for i, n in enumerate(graph.inputs):
            slots[(n, 0)] = i
        steps = []
        for n in graph.nodes():
            if n in graph.inputs:
                continue
            op = graph.op(n)
            ins = tuple(slots[v] for v in graph.inputs_of(n))
            outs = []
            for k in range(len(graph.types(n))):
                slots[(n, k)] = len(slots)
                outs.append(slots[(n, k)])
            label = next((nm for nm in graph.names(n) if nm), f"%{n}")
            steps.append((op, ins, tuple(outs), label))
        self.steps = steps
        self.n_slots = len(slots)
        self.output_slots = tuple(slots[v] for v in graph.outputs)

    def locate_failure(self, inputs: Sequence[np.ndarray], state=None) -> Optional[tuple]:
        """``(op, blob label, error)`` of the first op that fails on ``inputs``, or None.

        For error reports of other backends: it runs every op like a call, so
        give it a scratch ``state`` when stateful ops must not apply twice.
        """
        return self._interpret(inputs, state, Exception)[1]  # whatever it is, that op is where

    def __call__(self, inputs: Sequence[np.ndarray], state=None) -> list[np.ndarray]:
        if len(inputs) != len(self.input_names):
            raise InvalidArgumentError(f"{self.name}: expected {len(self.input_names)} inputs "
                                       f"{list(self.input_names)}, got {len(inputs)}")
        vals, failure = self._interpret(inputs, state, _OP_ERRORS)
        if failure is not None:
            op, label, exc = failure
            raise op_failure(f"{op.name} {label!r}", describe_graph(self.name), exc) from exc
        return [vals[s] for s in self.output_slots]

    def _interpret(self, inputs, state, catch) -> tuple:
        """``(values, None)``, or ``(None, (op, label, error))`` for the first op raising ``catch``,
        or raising anything if it is a host op (a user's function: whatever it raises is the op's failure)."""
        vals: list = [None] * self.n_slots
        vals[:len(inputs)] = inputs
        state = state if state is not None else DictStateStore()
        for op, ins, outs, label in self.steps:
            args = [vals[i] for i in ins]
            try:
                res = op.reference_stateful(state, *args) if isinstance(op, StatefulOp) else op.reference(*args)
            except Exception as exc:  # noqa: BLE001 - re-raised below unless the op's failure
                if op.host or isinstance(exc, catch):
                    return None, (op, label, exc)
                raise
            for slot, value in zip(outs, res):
                vals[slot] = value
        return vals, None


#: Errors an op's reference raises for bad values (anything else is a bug, not the input's fault).
_OP_ERRORS = (InferError, ValueError, TypeError, FloatingPointError, IndexError)


class HostExecutable(ReferenceExecutable):
    """A segment a compiled backend cannot lower, run on the reference backend every call.

    Better than failing: a net whose Python op feeds compiled ops answered its
    first calls on the reference tier, then failed every call once the compile
    did. Run metadata shows the tier ("reference"); ``host_reason`` says why.
    """

    def __init__(self, graph: Graph, host_reason: str):
        super().__init__(graph)
        self.host_reason = host_reason


class ReferenceBackend(Backend):
    """Backend whose executables interpret ops with NumPy."""

    name = "reference"

    def compile(self, graph: Graph, **options) -> ReferenceExecutable:
        return ReferenceExecutable(graph)

    def compiled_ops(self) -> frozenset:
        """Every registered op: each has a ``reference()``."""
        return frozenset(OP_REGISTRY.values())


def evaluate(graph: Graph, inputs: Sequence[np.ndarray] = (), state=None) -> list[np.ndarray]:
    """Run ``graph`` once on the reference backend."""
    return ReferenceExecutable(graph)(list(inputs), state)
