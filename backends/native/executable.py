"""A loaded native segment, called through cffi (its C backend alone).

The wrapper checks the inputs (arity, dtype, C order, shapes), allocates the
outputs and calls the native function on the whole range, or on one slice
per core for large tensors: the call releases the GIL, so the slices run in
parallel on the process's worker threads.
"""
from __future__ import annotations

import os

import numpy as np

from netjit.errors import InvalidArgumentError

from ..base import Executable
from ..common.pool import BufferPool, worker_pool
from .layout import Layout

#: slices start at multiples of this many elements (whole cache lines and vectors)
_ALIGN = 64


class NativeExecutable(Executable):
    """A segment compiled by the native code generator: ``__call__(inputs, state)``."""

    tier = "native"
    source_suffix = ".ll"

    def __init__(self, graph, layout: Layout, source, key: str, address: int, tables: tuple,
                 parallel_min_size: int, parallel: bool, cache_hit: bool):
        # cffi's C-level FFI parses these simple types itself: ``cffi.FFI()`` would
        # import pycparser (30 ms of a warm start) for the same thing
        import _cffi_backend
        self.name = graph.name
        self.input_names = tuple(graph.name_of_input(n) for n in graph.inputs)
        self._source = source
        self.key = key
        self.cache_hit = bool(cache_hit)
        ffi = _cffi_backend.FFI()
        n_ptrs = 2 + len(layout.args) + len(layout.out_dtypes)
        fn = ffi.cast(f"void(*)(int64_t, int64_t{', void*' * n_ptrs})", address)
        #: the float32 and float64 constants the code reads (``vmath.ConstTable``)
        self.constant_tables = tables
        table_ptrs = tuple(ffi.from_buffer(t) for t in tables)
        parallel_min = parallel_min_size if parallel else None
        finish = _finisher(layout, fn, ffi.from_buffer, parallel_min)
        general = _wrapper(self, layout, ffi.from_buffer, table_ptrs, finish)
        self.run = _fast_wrapper(layout, len(self.input_names), fn, ffi.from_buffer, table_ptrs,
                                 parallel_min, general, finish)

    @property
    def fast_call(self):
        """``run`` itself: hot paths call it without the ``__call__`` frame."""
        return self.run

    @property
    def source(self) -> str:
        """The LLVM IR that was compiled (``netjit compile`` and dumps show it)."""
        if callable(self._source):
            self._source = self._source()
        return self._source

    def __call__(self, inputs, state=None):
        return self.run(inputs, state)

    def __repr__(self) -> str:
        return f"<NativeExecutable {self.name!r} key={self.key[:12]}>"


def _finisher(layout: Layout, fn, buf, parallel_min):
    """``finish(shape, n, ptrs)``: allocate the outputs, run the native function over
    the ``n`` elements and return the outputs. Large outputs come from buffer pools
    (fresh 32 MB cost 4 ms of page faults per call here) and run one slice per core."""
    out_dtypes = layout.out_dtypes
    pools = [BufferPool() for _ in out_dtypes]

    def finish(shape, n, ptrs):
        if parallel_min is None or n < parallel_min:
            outs = [np.empty(shape, d) for d in out_dtypes]
            fn(0, n, *ptrs, *[buf(o) for o in outs])
            return outs
        outs = [p.take_shaped(shape, d) for p, d in zip(pools, out_dtypes)]
        _parallel(worker_pool(), fn, n, ptrs + tuple(buf(o) for o in outs))
        for p, o in zip(pools, outs):
            p.give(o)
        return outs

    return finish


def _fast_wrapper(layout: Layout, n_inputs: int, fn, buf, table_ptrs, parallel_min, general, finish):
    """``run`` for the common call, as straight-line generated code: arrays of the
    compiled dtypes, equal shapes, C order, below the parallel size; anything else
    goes to ``general`` or ``finish``. A non-contiguous array needs no test: its
    buffer (a simple, stride-less request) raises BufferError."""
    if n_inputs == 0:
        return general
    names = [f"a{i}" for i in range(n_inputs)]
    full = [f"a{a.input}" for a in layout.args if a.input >= 0 and not a.uniform]
    conds = [f"a{a.input}.dtype is D{k}" for k, a in enumerate(layout.args) if a.input >= 0]
    conds += [f"a{a.input}.size == 1" for a in layout.args if a.input >= 0 and a.uniform]
    const = layout.shape_const()      # every full input must have its shape
    shape = f"{full[0]}.shape" if full and const is None else "CONST_SHAPE"
    size = f"{full[0]}.size" if full and const is None else "CONST_SIZE"
    conds += [f"{f}.shape == shape" for f in (full[1:] if const is None else full)]
    ptrs = [f"buf(a{a.input})" if a.input >= 0 else f"C{k}" for k, a in enumerate(layout.args)]
    outs = [f"o{j}" for j in range(len(layout.out_dtypes))]
    lines = [
        "def run(inputs, state=None):",
        "    try:",
        f"        {', '.join(names)}, = inputs",
        f"        shape, n = {shape}, {size}",
        f"        if not ({' and '.join(conds) or 'True'}):",
        "            return general(inputs, state)",
        f"        ptrs = (T32, T64, {', '.join(ptrs)})",
        "    except (ValueError, AttributeError, BufferError, TypeError):",
        "        return general(inputs, state)",
        "    if n >= PARALLEL_MIN:",
        "        return finish(shape, n, ptrs)",
        *(f"    {o} = empty(shape, E{j})" for j, o in enumerate(outs)),
        f"    fn(0, n, *ptrs, {', '.join(f'buf({o})' for o in outs)})",
        f"    return [{', '.join(outs)}]",
    ]
    g = {"general": general, "finish": finish, "fn": fn, "buf": buf, "empty": np.empty,
         "PARALLEL_MIN": parallel_min if parallel_min is not None else float("inf"),
         "T32": table_ptrs[0], "T64": table_ptrs[1],
         "CONST_SHAPE": None if const is None else const.shape, "CONST_SIZE": None if const is None else const.size}
    g.update({f"D{k}": a.dtype for k, a in enumerate(layout.args)})
    g.update({f"C{k}": buf(a.const) for k, a in enumerate(layout.args) if a.input < 0})
    g.update({f"E{j}": d for j, d in enumerate(layout.out_dtypes)})
    exec(compile("\n".join(lines), "<netjit native wrapper>", "exec"), g)
    return g["run"]


def _wrapper(exe, layout: Layout, buf, table_ptrs, finish):
    """``run`` for any call: converts, checks and broadcasts the inputs first."""
    args = layout.args
    n_inputs = len(exe.input_names)
    consts = [buf(a.const) if a.input < 0 else None for a in args]
    slots = [(a.input, a.dtype, a.uniform) for a in args]
    first_full = next((a.input for a in args if not a.uniform and a.input >= 0), None)
    const = layout.shape_const()
    const_shape = None if const is None else const.shape

    def run(inputs, state=None):
        if len(inputs) != n_inputs:
            raise InvalidArgumentError(f"segment {exe.name!r}: expected {n_inputs} inputs "
                                       f"{list(exe.input_names)}, got {len(inputs)}")
        shape = const_shape if const_shape is not None else np.shape(inputs[first_full])
        ptrs = list(table_ptrs)
        for (i, dtype, uniform), c in zip(slots, consts):
            if i < 0:
                ptrs.append(c)
                continue
            x = inputs[i]
            if type(x) is not np.ndarray or x.dtype != dtype or not x.flags.c_contiguous:
                x = np.ascontiguousarray(x, dtype)
            if uniform:
                if x.size != 1:
                    raise _bad_uniform(exe, i, x)
            elif x.shape != shape:
                return _broadcast_call(run, exe, inputs, slots, const_shape)
            ptrs.append(buf(x))
        return finish(shape, int(np.prod(shape)), tuple(ptrs))

    return run


def _parallel(pool, fn, n, ptrs):
    workers = (os.cpu_count() or 1)
    step = max(_ALIGN, -(-n // workers // _ALIGN) * _ALIGN)
    futures = [pool.submit(fn, lo, min(lo + step, n), *ptrs) for lo in range(step, n, step)]
    fn(0, min(step, n), *ptrs)
    for f in futures:
        f.result()


def _bad_uniform(exe, i, x):
    return InvalidArgumentError(f"segment {exe.name!r}: input {exe.input_names[i]!r} must hold one "
                                f"element (it is broadcast), got shape {x.shape}")


def _broadcast_call(run, exe, inputs, slots, const_shape):
    """The rare call whose full inputs differ in shape: NumPy broadcasts them first."""
    full = [i for i, _, uniform in slots if i >= 0 and not uniform]
    names = [exe.input_names[i] for i in full]
    shapes = [np.shape(inputs[i]) for i in full] + ([const_shape] if const_shape is not None else [])
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError as exc:
        raise InvalidArgumentError(f"segment {exe.name!r}: inputs {names} do not broadcast: {exc}") from None
    if const_shape is not None and shape != const_shape:
        raise InvalidArgumentError(f"segment {exe.name!r}: inputs {names} broadcast to {shape}, "
                                   f"beyond the shape of its constants {const_shape}")
    expanded = list(inputs)
    for i, dtype, _ in ((i, d, u) for i, d, u in slots if i >= 0 and not u):
        expanded[i] = np.ascontiguousarray(np.broadcast_to(np.asarray(inputs[i], dtype), shape))
    return run(expanded)
