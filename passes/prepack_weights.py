"""prepack_weights: a product by a constant weight runs netjit's packed kernel (numba only).

    %w = Const(<f32[784,1024]>); %m = MatMul(%x, %w); %h = Add(%m, %b); %y = Relu(%h)
        ->  %w/packed = Const(<f32[64,784,16]>)
            %y = PackedMatMul(%x, %w/packed, %b, n=1024, relu=True)

OpenBLAS, which generated code calls for a product, repacks B into panels on
every call; ONNX Runtime packs a MatMul's constant B once, when the session is
created, and its W2 products ran about 15 % faster for it. A SEGMENT pass of
the numba backend: a float32 MatMul of rows (rank >= 2) by a constant 2-D
weight of at least ``MIN_WEIGHT_ELEMENTS`` takes B packed once
(``native.gemm.pack``) and runs the native packed kernel, split over the
cores by panel. A bias add along the columns and a ReLU that only the product
feeds join it as the kernel's epilogue: an MLP layer is one call.

Off with ``NETJIT_PREPACK=0`` (``NumbaOptions.prepack``) or by disabling the
pass; its option ``parallel`` (default: ``NumbaOptions.parallel``) says
whether products may use numba's threads. If the packed kernel cannot be
built here, it warns and leaves the products to BLAS.
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np

from netjit.backends.numba.options import NumbaOptions
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Add, Const, ConstValue, FusedElementwise, MatMul, PackedMatMul, Relu

from .phase import Phase
from .registry import register_pass
from .rewrite import take_over

#: smaller weights stay on BLAS: the product is too short for packing to matter
MIN_WEIGHT_ELEMENTS = 4096

#: (op, input pairs) programs of an Add, then maybe a Relu, that fold into the kernel -> relu
BIAS_PROGRAMS = {(((Add(), (0, 1)),), (2,)): False,
                 (((Add(), (0, 1)), (Relu(), (2,))), (3,)): True}


@register_pass("prepack_weights", phase=Phase.SEGMENT, opt_level=0, after=["expand_composites"],
               options={"parallel": None}, backends=("numba",))
def prepack_weights(graph: Graph, ctx) -> bool:
    """MatMul(x, Const w) [+ b] [-> Relu] -> PackedMatMul(x, Const pack(w) [, b], relu)."""
    opts = NumbaOptions.make(cache_dir=getattr(ctx.config, "cache_dir", None))
    sites = [n for n in graph.nodes() if _eligible(graph, n)]
    gemm = _packing_kernel(opts) if opts.prepack and sites else None
    if gemm is None:
        return False
    parallel = ctx.option("parallel")
    parallel = opts.parallel if parallel is None else bool(parallel)
    packed: dict = {}
    for n in sites:
        a, (w, _) = graph.inputs_of(n)
        trans = graph.op(n).trans_b
        if (w, trans) not in packed:
            panels = gemm.pack(graph.op(w).value.array, trans)
            names = [f"{name}/packed" if name else None for name in graph.names(w)]
            packed[w, trans] = graph.add(Const(ConstValue(panels)), names=names)
        cols = graph.type((n, 0)).shape[-1]
        mm = graph.add(PackedMatMul(n=cols, parallel=parallel), [a, (packed[w, trans], 0)])
        take_over(graph, n, (mm, 0))
        _fold_epilogue(graph, mm)
    for w in {w for w, _ in packed}:          # a weight used plain and transposed is packed twice
        if not graph.users((w, 0)) and (w, 0) not in graph.outputs:
            graph.remove(w)
    return True


def _packing_kernel(opts: NumbaOptions):
    """``native.gemm`` with its kernel built (or loaded); None, with a warning, when it
    cannot be built here."""
    from netjit.backends.native import gemm   # imports llvmlite: only when there is a product to pack
    try:
        gemm.register(opts.resolved_cache_dir() if opts.cache else None)
    except Exception as exc:  # noqa: BLE001 - BLAS still computes the product
        warnings.warn(f"netjit: the packed GEMM kernel could not be built ({type(exc).__name__}: {exc}); "
                      "products by constant weights use BLAS", RuntimeWarning, stacklevel=2)
        return None
    return gemm


def _fold_epilogue(graph: Graph, mm: int) -> None:
    """Fold ``+ bias`` and then ``ReLU`` that only ``mm`` feeds into it: an ``Add`` (or
    ``FusedElementwise`` of just Add, or Add then Relu) of the product and a float32
    vector of its column count, and a ``Relu`` of that sum."""
    op, ins = graph.op(mm), graph.inputs_of(mm)
    user = _sole_user(graph, mm)
    if user is None or op.relu:
        return
    uop = graph.op(user)
    if len(ins) == 2 and type(uop) in (Add, FusedElementwise):   # bias, then ReLU: never after
        relu, bias = _bias_program(uop), _bias_of(graph, user, mm)
        if relu is None or bias is None:
            return
        new = graph.add(PackedMatMul(n=op.n, relu=relu, parallel=op.parallel), ins + [bias])
    elif type(uop) is Relu:
        new = graph.add(PackedMatMul(n=op.n, relu=True, parallel=op.parallel), ins)
    else:
        return
    take_over(graph, user, (new, 0))
    graph.remove(mm)
    _fold_epilogue(graph, new)


def _bias_of(graph: Graph, user: int, mm: int):
    """The other input of the two-input ``user`` of ``mm``, when it is a float32 vector of
    the product's column count and the sum has the product's type; else None."""
    pair = graph.inputs_of(user)
    if len(pair) != 2 or (mm, 0) not in pair:
        return None
    bias = pair[1] if pair[0] == (mm, 0) else pair[0]
    bt = graph.type(bias)
    if bt.dtype != np.float32 or bt.shape != (graph.op(mm).n,) or graph.type((user, 0)) != graph.type((mm, 0)):
        return None
    return bias


def _sole_user(graph: Graph, n: int):
    users = graph.users((n, 0))
    if len(users) != 1 or (n, 0) in graph.outputs:
        return None
    return users[0][0]


def _bias_program(op) -> Optional[bool]:
    """For ``Add`` or a fused Add (then Relu) of two inputs: whether it ends in ReLU;
    None for anything else."""
    if type(op) is Add:
        return False
    if op.n_inputs != 2:
        return None
    return BIAS_PROGRAMS.get((op.program, op.outputs))


def _eligible(graph: Graph, n: int) -> bool:
    op = graph.op(n)
    if type(op) is not MatMul or op.trans_a:
        return False
    a, b = graph.inputs_of(n)
    ta, tb = graph.type(a), graph.type(b)
    if ta.dtype != np.float32 or ta.rank is None or ta.rank < 2 or tb.dtype != np.float32 or tb.rank != 2:
        return False
    if graph.op(b[0]).name != "Const" or graph.type((n, 0)).shape is None:
        return False
    return graph.op(b[0]).value.array.size >= MIN_WEIGHT_ELEMENTS
