"""Communication ops: the two ends of a cross-device edge.

Partitioning replaces every edge between devices by a ``Send`` on the
producer's partition and a ``Recv`` on the consumer's, sharing a rendezvous
``key``. A Send without a data input (and a Recv of ``CONTROL_TOKEN``) carries
only an ordering: the receiving side may start once the sending side ran.

Outside a rendezvous a Send does nothing and a Recv has no value (like a
Placeholder); ``reference_rendezvous`` gives both their meaning over any
mutable mapping standing for a run's rendezvous.
"""
from __future__ import annotations

from typing import ClassVar, MutableMapping

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .types import TensorType

#: What a control-only Send/Recv pair carries.
CONTROL_TOKEN = TensorType(np.bool_, (0,))


@register_op
class Send(Op):
    """Hand the input (or, with none, a control token) to the rendezvous under ``key``."""

    kind: ClassVar[OpKind] = OpKind.COMMUNICATION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 0
    #: Its effect is outside the graph: passes must not remove or merge it.
    stateful: ClassVar[bool] = True
    key: str = ""

    @property
    def num_outputs(self) -> int:
        return 0

    def infer(self, *inputs):
        if len(inputs) > 1:
            raise InferError(f"expects at most 1 input, got {len(inputs)}")
        return ()

    def reference(self, *inputs):
        return ()

    def reference_rendezvous(self, rendezvous: MutableMapping, *inputs) -> tuple:
        """Store the value (or a control token) under ``key``."""
        if self.key in rendezvous:
            raise InferError(f"rendezvous key {self.key!r} was sent twice")
        rendezvous[self.key] = inputs[0] if inputs else np.zeros(0, np.bool_)
        return ()

    @classmethod
    def samples(cls):
        x = np.array([1.0, 2.0], np.float32)
        return [Sample(cls("cpu:0->cpu:1/x"), (x,), lambda x: ()),
                Sample(cls("cpu:0->cpu:1/^y"), (), lambda: ())]


@register_op
class Recv(Op):
    """The value sent under ``key``, of type ``type``."""

    kind: ClassVar[OpKind] = OpKind.COMMUNICATION
    arity: ClassVar[int] = 0
    min_inputs: ClassVar[int] = 0
    stateful: ClassVar[bool] = True
    key: str = ""
    type: TensorType = CONTROL_TOKEN

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (self.type,)

    def reference(self):
        raise InferError(f"Recv {self.key!r} has no value outside a rendezvous")

    def reference_rendezvous(self, rendezvous: MutableMapping) -> tuple:
        """The value sent under ``key``; InferError if nothing was sent."""
        if self.key not in rendezvous:
            raise InferError(f"nothing was sent under rendezvous key {self.key!r}")
        value = rendezvous[self.key]
        if not self.type.accepts(TensorType.of(value)):
            raise InferError(f"Recv {self.key!r} expects {self.type}, got {TensorType.of(value)}")
        return (value,)

    @property
    def is_control(self) -> bool:
        return self.type == CONTROL_TOKEN
