"""Host ops: they run in Python on the host, never inside generated code."""
from __future__ import annotations

import sys
from typing import ClassVar

import numpy as np

from .base import Op, OpKind, Sample, register_op
from .types import TensorType


@register_op
class Print(Op):
    """Print a blob's value (Caffe2's Print); ``to_file`` 1 appends to ``<blob>.log``."""

    kind: ClassVar[OpKind] = OpKind.HOST
    host: ClassVar[bool] = True
    stateful: ClassVar[bool] = True
    blob: str = ""
    to_file: int = 0

    @property
    def num_outputs(self) -> int:
        return 0

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return ()

    def reference(self, x):
        value = x.item() if x.dtype == object and x.ndim == 0 else x
        text = f"{self.blob}: {value}" if self.blob else str(value)
        if self.to_file:
            with open(f"{self.blob or 'print'}.log".replace("/", "_"), "a") as fh:
                print(text, file=fh)
        else:
            print(text, file=sys.stdout, flush=True)
        return ()

    @classmethod
    def samples(cls):
        return [Sample(cls("x"), (np.array([1.0], np.float32),), lambda x: ())]
