"""Control flow with tensor-only bodies: If, Loop and Scan (ONNX semantics).

A body is a ``Body``: an immutable, hashable SSA program of stateless ops
(the ONNX GraphProto imported and lowered by the frontend). Values are
numbered: the body's inputs first, then every output of every node in
order; ``outputs`` name the values the body returns. Outer-scope values a
body reads are extra explicit inputs of the op (after its ONNX inputs) and
extra trailing inputs of every body.

    If(then_body, else_body)(cond, *outer)
    Loop(body, has_max, has_cond, n_carried)([M], [cond], *carried, *outer)
        body(i, cond, *carried, *outer) -> (cond, *carried, *scan_outputs)
    Scan(body, n_states, n_scan_inputs, axes and directions)(*states, *scan_inputs, *outer)
        body(*states, *slices, *outer) -> (*states, *scan_output_elements)

References run the body node by node with each op's reference (the
reference backend's semantics for stateless ops; ``compiler.ops`` may not
import the backends).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

import numpy as np

from .base import ConstValue, InferError, Op, OpKind, Sample, format_attr, register_op
from .types import DTYPES, TensorType


@dataclass(frozen=True)
class Body:
    """A subgraph: input types, nodes ``(op, input value ids)`` and output value ids."""

    inputs: tuple  # TensorType per input
    nodes: tuple   # (Op, tuple[int, ...]) per node
    outputs: tuple  # value ids

    def __post_init__(self):
        count = len(self.inputs)
        for op, ins in self.nodes:
            if op.stateful or op.host:
                raise InferError(f"a control-flow body cannot hold {op.name} (stateful or host op)")
            if any(not 0 <= i < count for i in ins):
                raise InferError(f"body node {op!r} reads an undefined value")
            count += op.num_outputs
        if any(not 0 <= i < count for i in self.outputs):
            raise InferError("a body output names an undefined value")

    def infer(self, types) -> tuple:
        if len(types) != len(self.inputs):
            raise InferError(f"the body takes {len(self.inputs)} inputs, got {len(types)}")
        values = list(types)
        for op, ins in self.nodes:
            values.extend(op.infer(*(values[i] for i in ins)))
        return tuple(values[i] for i in self.outputs)

    def run(self, arrays) -> tuple:
        if len(arrays) != len(self.inputs):
            raise InferError(f"the body takes {len(self.inputs)} inputs, got {len(arrays)}")
        values = list(arrays)
        for op, ins in self.nodes:
            outs = op.reference(*(values[i] for i in ins))
            if len(outs) != op.num_outputs:
                raise InferError(f"body node {op!r} gave {len(outs)} outputs")
            values.extend(outs)
        return tuple(values[i] for i in self.outputs)

    def __repr__(self) -> str:
        ins = ", ".join(f"%{i}:{t}" for i, t in enumerate(self.inputs))
        k, lines = len(self.inputs), []
        for op, args in self.nodes:
            outs = ", ".join(f"%{k + j}" for j in range(op.num_outputs))
            lines.append(f"{outs} = {op!r}({', '.join(f'%{i}' for i in args)})")
            k += op.num_outputs
        rets = ", ".join(f"%{i}" for i in self.outputs)
        return "{(" + ins + ") " + "; ".join(lines) + ("; " if lines else "") + f"return {rets}" + "}"


def _merge(a: TensorType, b: TensorType) -> TensorType:
    """The type that holds values of both ``a`` and ``b`` (dims that differ are dynamic)."""
    if a.dtype != b.dtype:
        raise InferError(f"types {a} and {b} differ in dtype")
    if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
        return TensorType(a.dtype, None)
    return TensorType(a.dtype, tuple(x if x == y else None for x, y in zip(a.shape, b.shape)))


def _dynamic(t: TensorType) -> TensorType:
    return TensorType(t.dtype, None if t.shape is None else (None,) * len(t.shape))


def _scalar_bool(x, what: str) -> bool:
    x = np.asarray(x)
    if x.size != 1:
        raise InferError(f"{what} must hold one element, got shape {x.shape}")
    return bool(x.reshape(()))


def _check_result(got, t: TensorType, what: str):
    got = np.asarray(got)
    if got.dtype != t.dtype:
        raise InferError(f"{what}: the body gives {got.dtype}, expected {t.dtype}")
    return got


@register_op
class If(Op):
    """``then_body(*outer)`` when ``cond`` is true, else ``else_body(*outer)``."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar[Optional[int]] = None
    min_inputs: ClassVar[int] = 1
    then_body: Body = None
    else_body: Body = None

    @property
    def num_outputs(self) -> int:
        return len(self.then_body.outputs)

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        if len(self.then_body.outputs) != len(self.else_body.outputs):
            raise InferError("the branches return different numbers of outputs")
        outer = inputs[1:]
        a, b = self.then_body.infer(outer), self.else_body.infer(outer)
        return tuple(_merge(x, y) for x, y in zip(a, b))

    def reference(self, cond, *outer):
        body = self.then_body if _scalar_bool(cond, "If's condition") else self.else_body
        return tuple(np.asarray(v) for v in body.run(outer))

    @classmethod
    def samples(cls):
        from .elementwise import Add, Sub
        f32 = TensorType(DTYPES["f32"], (3,))
        then = Body((f32, f32), ((Add(), (0, 1)),), (2,))
        other = Body((f32, f32), ((Sub(), (0, 1)),), (2,))
        x, y = np.arange(3, dtype=np.float32), np.ones(3, np.float32)
        return [Sample(cls(then, other), (np.array(True), x, y), lambda c, x, y: x + y),
                Sample(cls(then, other), (np.array([False]), x, y), lambda c, x, y: x - y)]


@register_op
class Loop(Op):
    """ONNX Loop: ``for i in range(M) while cond``; carried values and stacked scan outputs.

    Inputs: ``M`` (when ``has_max``), ``cond`` (when ``has_cond``), the
    ``n_carried`` initial values, then outer values. Without ``cond`` the
    body's condition output is ignored (ONNX). Scan outputs of a loop that
    runs zero times have the body's inferred element shape, which must be
    static (else an error).
    """

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar[Optional[int]] = None
    min_inputs: ClassVar[int] = 0
    body: Body = None
    has_max: bool = True
    has_cond: bool = True
    n_carried: int = 0
    no_samples_reason: ClassVar[str] = ("the scan outputs' length is the trip count, a value: "
                                        "tests/compiler/ops/test_control_flow.py covers Loop")

    @property
    def num_outputs(self) -> int:
        return len(self.body.outputs) - 1

    def _split(self, inputs):
        k = int(self.has_max) + int(self.has_cond)
        return inputs[:k], inputs[k:k + self.n_carried], inputs[k + self.n_carried:]

    def _body_types(self, carried, outer):
        i64, b = TensorType(DTYPES["i64"], ()), TensorType(DTYPES["bool"], ())
        return (i64, b, *carried, *outer)

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        head, carried, outer = self._split(inputs)
        if len(carried) != self.n_carried or len(self.body.inputs) != 2 + len(carried) + len(outer):
            raise InferError("Loop inputs do not match its body")
        # a carried value may change shape between iterations: iterate its dims to a fixpoint
        state = list(carried)
        for _ in range(3):
            outs = self.body.infer(self._body_types(state, outer))
            new = [_merge(s, o) for s, o in zip(state, outs[1:1 + self.n_carried])]
            if new == state:
                break
            state = new
        else:
            state = [_dynamic(s) for s in state]
            outs = self.body.infer(self._body_types(state, outer))
        if outs[0].dtype != DTYPES["bool"]:
            raise InferError(f"the body's condition is {outs[0]}, expected bool")
        scans = [TensorType(t.dtype, None if t.shape is None else (None, *t.shape))
                 for t in outs[1 + self.n_carried:]]
        return (*state, *scans)

    def reference(self, *inputs):
        head, carried, outer = self._split(inputs)
        trip = int(np.asarray(head[0]).reshape(())) if self.has_max else None
        cond = _scalar_bool(head[-1], "Loop's condition") if self.has_cond else True
        if trip is None and not self.has_cond:
            raise InferError("a Loop without a trip count or a condition never ends")
        state, scans, i = [np.asarray(c) for c in carried], [], 0
        while cond and (trip is None or i < trip):
            outs = self.body.run((np.array(i, np.int64), np.array(cond), *state, *outer))
            if self.has_cond:
                cond = _scalar_bool(outs[0], "the Loop body's condition")
            state = [_check_result(o, TensorType.of(s), "Loop carried value")
                     for o, s in zip(outs[1:1 + self.n_carried], state)]
            scans.append([np.asarray(o) for o in outs[1 + self.n_carried:]])
            i += 1
        n_scan = self.num_outputs - self.n_carried
        if scans:
            stacked = []
            for j in range(n_scan):
                parts = [s[j] for s in scans]
                if len({p.shape for p in parts}) != 1:
                    raise InferError("Loop scan output elements differ in shape between iterations")
                stacked.append(np.stack(parts))
        else:
            types = self.infer(*(TensorType.of(np.asarray(x)) for x in inputs))[self.n_carried:]
            stacked = []
            for t in types:
                if t.shape is None or any(d is None for d in t.shape[1:]):
                    raise InferError("a Loop that runs zero times has scan outputs of unknown shape")
                stacked.append(np.zeros((0, *t.shape[1:]), t.dtype))
        return (*state, *stacked)


@register_op
class Scan(Op):
    """ONNX Scan (opset 9+): ``n_states`` carried values over slices of ``n_scan_inputs`` tensors.

    ``input_axes``/``input_reverse`` give each scan input's axis and
    direction, ``output_axes``/``output_reverse`` each scan output's
    (all already normalized to tuples of the right length; axes may be negative).
    """

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar[Optional[int]] = None
    min_inputs: ClassVar[int] = 1
    body: Body = None
    n_states: int = 0
    n_scan_inputs: int = 1
    input_axes: tuple = ()
    input_reverse: tuple = ()
    output_axes: tuple = ()
    output_reverse: tuple = ()

    @property
    def num_outputs(self) -> int:
        return len(self.body.outputs)

    def _split(self, inputs):
        n, m = self.n_states, self.n_scan_inputs
        return inputs[:n], inputs[n:n + m], inputs[n + m:]

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        states, xs, outer = self._split(inputs)
        if len(xs) != self.n_scan_inputs or len(self.body.inputs) != len(inputs):
            raise InferError("Scan inputs do not match its body")
        length, slices = None, []
        for x, axis in zip(xs, self.input_axes):
            if x.shape is None:
                slices.append(TensorType(x.dtype, None))
                continue
            a = self._axis(axis, len(x.shape))
            if x.shape[a] is not None:
                if length is not None and length != x.shape[a]:
                    raise InferError("scan inputs differ in length")
                length = x.shape[a]
            slices.append(TensorType(x.dtype, x.shape[:a] + x.shape[a + 1:]))
        state = list(states)
        for _ in range(3):
            outs = self.body.infer((*state, *slices, *outer))
            new = [_merge(s, o) for s, o in zip(state, outs[:self.n_states])]
            if new == state:
                break
            state = new
        else:
            state = [_dynamic(s) for s in state]
            outs = self.body.infer((*state, *slices, *outer))
        scans = []
        for t, axis in zip(outs[self.n_states:], self.output_axes):
            if t.shape is None:
                scans.append(TensorType(t.dtype, None))
                continue
            a = self._axis(axis, len(t.shape) + 1)
            scans.append(TensorType(t.dtype, t.shape[:a] + (length,) + t.shape[a:]))
        return (*state, *scans)

    @staticmethod
    def _axis(axis: int, rank: int) -> int:
        if not -rank <= axis < rank:
            raise InferError(f"scan axis {axis} is out of range for rank {rank}")
        return axis % rank

    def reference(self, *inputs):
        states, xs, outer = self._split(inputs)
        xs = [np.asarray(x) for x in xs]
        axes = [self._axis(a, x.ndim) for a, x in zip(self.input_axes, xs)]
        lengths = {x.shape[a] for x, a in zip(xs, axes)}
        if len(lengths) != 1:
            raise InferError(f"scan inputs differ in length: {sorted(lengths)}")
        (length,) = lengths
        state, elems = [np.asarray(s) for s in states], []
        for t in range(length):
            slices = [np.take(x, length - 1 - t if rev else t, axis=a)
                      for x, a, rev in zip(xs, axes, self.input_reverse)]
            outs = self.body.run((*state, *slices, *outer))
            state = [_check_result(o, TensorType.of(s), "Scan state") for o, s in zip(outs[:self.n_states], state)]
            elems.append([np.asarray(o) for o in outs[self.n_states:]])
        results = []
        for j, (axis, rev) in enumerate(zip(self.output_axes, self.output_reverse)):
            parts = [e[j] for e in elems]
            if rev:
                parts = parts[::-1]
            if not parts:
                raise InferError("a Scan over length 0 has scan outputs of unknown shape")
            if len({p.shape for p in parts}) != 1:
                raise InferError("Scan output elements differ in shape between iterations")
            results.append(np.stack(parts, axis=self._axis(axis, parts[0].ndim + 1)))
        return (*state, *results)

    @classmethod
    def samples(cls):
        from .elementwise import Add
        f32 = TensorType(DTYPES["f32"], (2,))
        body = Body((f32, f32), ((Add(), (0, 1)),), (2, 2))
        init, xs = np.zeros(2, np.float32), np.arange(6, dtype=np.float32).reshape(3, 2)
        op = cls(body, 1, 1, (0,), (False,), (0,), (False,))
        rev = cls(body, 1, 1, (0,), (True,), (0,), (True,))
        return [Sample(op, (init, xs), lambda s, x: (x.sum(0), np.cumsum(x, 0))),
                Sample(rev, (init, xs), lambda s, x: (x.sum(0), np.cumsum(x[::-1], 0)[::-1]))]


from .source import Const  # noqa: E402  (used by samples)

__all__ = ["Body", "If", "Loop", "Scan", "format_attr"]
