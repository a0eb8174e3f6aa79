"""Moved: ``PackedMatMul`` is the IR op ``netjit.compiler.ops.PackedMatMul``
(``compiler/ops/packed.py``) and weight prepacking the numba backend's SEGMENT
pass ``prepack_weights`` (``passes/prepack_weights.py``). This name stays for
``lowerings.py``'s import until it imports the op from ``netjit.compiler.ops``."""
from netjit.compiler.ops.packed import PackedMatMul  # noqa: F401
