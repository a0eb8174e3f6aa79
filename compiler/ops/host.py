"""Host ops: they run in Python on the host, never inside generated code."""
from __future__ import annotations

import hashlib
import os
import re
import sys
from typing import ClassVar

import numpy as np

from .base import Op, OpKind, Sample, register_op
from .types import TensorType


@register_op
class Print(Op):
    """Print a blob's value (Caffe2's Print); ``to_file`` 1 appends to ``<blob>.log``.

    The log goes to the folder ``NETJIT_PRINT_DIR`` names, else the current
    folder; a saved net that asks for a file loads only where that variable
    is set (``print_dir``). The file name is the blob's, made safe.
    """

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
            with open(os.path.join(print_dir() or ".", log_name(self.blob)), "a") as fh:
                print(text, file=fh)
        else:
            print(text, file=sys.stdout, flush=True)
        return ()

    @classmethod
    def samples(cls):
        return [Sample(cls("x"), (np.array([1.0], np.float32),), lambda x: ())]


def print_dir():
    """The folder ``Print(to_file=1)`` writes to, when the user configured one (``NETJIT_PRINT_DIR``)."""
    return os.environ.get("NETJIT_PRINT_DIR") or None


def log_name(blob: str) -> str:
    """A file name for ``blob``'s log: no path separators, at most 100 characters."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", blob or "print").lstrip(".") or "print"
    if len(safe) > 80:
        safe = safe[:60] + "-" + hashlib.sha1(blob.encode()).hexdigest()[:12]
    return safe + ".log"
