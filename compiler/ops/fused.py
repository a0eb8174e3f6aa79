"""FusedElementwise: a group of elementwise ops run as one loop nest.

The contract between the fusion pass and the backends. ``program`` is a tuple
of instructions ``(op, refs)``; a ref ``r < n_inputs`` names input ``r``, a
larger ref names the result of instruction ``r - n_inputs``. ``outputs`` lists
the refs the node returns, in order. Backends emit one loop over the broadcast
output shape that evaluates the program per element.
"""
from __future__ import annotations

from typing import ClassVar

from .base import InferError, Op, OpKind, register_op
from .types import TensorType


@register_op
class FusedElementwise(Op):
    """Several elementwise ops evaluated per element, without temporaries."""

    kind: ClassVar[OpKind] = OpKind.FUSED
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 1
    program: tuple = ()
    n_inputs: int = 1
    outputs: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "program", _instructions(self.program))
        object.__setattr__(self, "outputs", _refs(self.outputs, "outputs"))
        if isinstance(self.n_inputs, bool) or not isinstance(self.n_inputs, int) or self.n_inputs < 1:
            raise InferError(f"n_inputs must be a positive int, got {self.n_inputs!r}")
        for i, (op, refs) in enumerate(self.program):
            if op.kind is not OpKind.ELEMENTWISE:
                raise InferError(f"instruction {i} ({op.name}) is not elementwise")
            if any(r < 0 or r >= self.n_inputs + i for r in refs):
                raise InferError(f"instruction {i} ({op.name}) refers forward or out of range: {refs}")
        if not self.outputs or any(not 0 <= r < self.n_inputs + len(self.program) for r in self.outputs):
            raise InferError(f"bad outputs {self.outputs}")

    @property
    def num_outputs(self) -> int:
        return len(self.outputs)

    def _walk(self, inputs, apply):
        vals = list(inputs)
        for op, refs in self.program:
            vals.append(apply(op, [vals[r] for r in refs]))
        return tuple(vals[r] for r in self.outputs)

    def infer(self, *inputs: TensorType):
        if len(inputs) != self.n_inputs:
            raise InferError(f"expects {self.n_inputs} inputs, got {len(inputs)}")
        return self._walk(inputs, lambda op, ts: op.infer(*ts)[0])

    def reference(self, *inputs):
        return self._walk(inputs, lambda op, xs: op.reference(*xs)[0])

    def describe(self) -> str:
        """The sub-expression as readable text: ``t0 = Mul(in0, in1); t1 = Tanh(t0)``."""
        def name(r):
            return f"in{r}" if r < self.n_inputs else f"t{r - self.n_inputs}"
        lines = [f"{name(self.n_inputs + i)} = {op!r}".replace("()", "") + "(" +
                 ", ".join(name(r) for r in refs) + ")" for i, (op, refs) in enumerate(self.program)]
        return "; ".join(lines) + " -> " + ", ".join(name(r) for r in self.outputs)


def _refs(refs, what: str) -> tuple:
    """``refs`` as a tuple of ints, or the InferError saying what they are instead."""
    if not isinstance(refs, (tuple, list)) or any(isinstance(r, bool) or not isinstance(r, int) for r in refs):
        raise InferError(f"{what} must be a sequence of ints, got {refs!r}"[:200])
    return tuple(refs)


def _instructions(program) -> tuple:
    """``program`` as ``((op, refs), ...)``; a saved file may hold anything in its place."""
    if not isinstance(program, (tuple, list)):
        raise InferError(f"program must be a sequence of (op, refs) pairs, got {type(program).__name__}")
    out = []
    for i, item in enumerate(program):
        if not isinstance(item, (tuple, list)) or len(item) != 2 or not isinstance(item[0], Op):
            raise InferError(f"instruction {i} must be an (op, refs) pair, got {item!r}"[:200])
        out.append((item[0], _refs(item[1], f"instruction {i}'s refs")))
    return tuple(out)
