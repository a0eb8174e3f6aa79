"""The op registry: every op declared once, as a frozen dataclass.

``OP_REGISTRY`` maps op names to classes; ``get_op(name)`` looks one up with a
clear error. Categories are named sets that passes read.
"""
from netjit.errors import NotFoundError

from .base import (OP_REGISTRY, ConstValue, InferError, Op, OpKind, Sample,
                   format_attr, register_op)
from .types import (CORE_DTYPES, DTYPES, FLOAT_DTYPES, INT_DTYPES, NUMERIC_DTYPES, SIGNED_DTYPES,
                    UNSIGNED_DTYPES, TensorType,
                    as_dtype, broadcast_shapes, dtype_name, promote)
from . import elementwise, reduction, contraction, shape, source, state, host, fused, comm  # noqa: F401  (registers)
from .elementwise import *  # noqa: F401,F403
from .reduction import ReduceSum, ReduceMean, ReduceMax, ReduceMin, Softmax, Reduce  # noqa: F401
from .contraction import MatMul, FC  # noqa: F401
from .shape import Reshape, Transpose, Concat, Split, Slice  # noqa: F401
from .source import Placeholder, Const  # noqa: F401
from .state import Variable, Assign, AssignAdd, StatefulOp, StateStore  # noqa: F401
from .host import Print  # noqa: F401
from .fused import FusedElementwise  # noqa: F401
from .comm import CONTROL_TOKEN, Recv, Send  # noqa: F401
from . import logical, python_op, counters  # noqa: F401,E402  (registers Not/And/Or, Python, counters)
from .logical import Not, And, Or  # noqa: F401
from .python_op import Python  # noqa: F401
from .counters import CreateCounter, CountUp, RetrieveCount, ResetCounter  # noqa: F401
from . import packed  # noqa: F401,E402  (registers PackedMatMul)
from .packed import PackedMatMul  # noqa: F401,E402
# The ONNX op families (``base.LAZY_FAMILIES``) register on first need: see ``base._Registry``.


def get_op(name: str) -> type[Op]:
    """The op class registered as ``name``."""
    try:
        return OP_REGISTRY[name]
    except KeyError:
        raise NotFoundError(f"unknown op {name!r}") from None


def ops_of_kind(kind: OpKind) -> frozenset[str]:
    """Names of the registered ops of one kind."""
    return frozenset(n for n, c in OP_REGISTRY.items() if c.kind is kind)
