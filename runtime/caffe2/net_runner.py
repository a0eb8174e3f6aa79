"""Running a Net on a workspace: compile once per input signature, then a lean call.

A net run on a workspace reads its external inputs (and fed placeholders)
from the workspace and stores back every blob it writes, or only its declared
external outputs. The whole net is compiled as one graph, so passes such as
fusion apply inside it. Compiled code is cached per net object, per net
version (its op count: nets only grow) and per input signature (dtype and
rank of each input; dims are dynamic, so a change of shape does not
recompile). It goes through the pipeline like any compile (every pass phase, one
device: a net's explicit devices are ignored). Everything else is precomputed, so the hot path only gathers the
inputs, calls the executable and scatters the outputs. Outputs are written
after the whole net succeeded, so a failing net leaves no half-written blobs.
Variables are state, not blobs: an update made by an op that ran before the
failing one stays, as in a TensorFlow step that fails part-way.
"""
from __future__ import annotations

import operator
import threading
import weakref
from typing import Sequence

from netjit.backends import get_backend
from netjit.backends.base import Executable
from netjit.backends.reference import op_failure
from netjit.compiler.frontend.lowering import feed_type
from netjit.compiler.frontend.net import Net
from netjit.compiler.ops import TensorType, as_dtype
from netjit.compiler.ops.python_op import PythonOp, instance_scope
from netjit.compiler.pipeline import CompiledSignature, compile_signature
from netjit.compiler.placement import Placer, local_devices
from netjit.compiler.segments import Segmentation
from netjit.errors import InvalidArgumentError, NetjitError, NotFoundError

from ..step import check_feed
from .blob_store import UNSET


#: An input's part of the compile key: dtype and rank (dims are dynamic).
_signature = operator.attrgetter("dtype", "ndim")


class CompiledNet:
    """One net compiled for one input signature: executable plus precomputed plumbing.

    On one device the pipeline makes at most one segment; its outputs are the
    fetched values, in its own order, and a fetch of an input is no output at
    all: ``picks`` indexes each stored blob in (segment outputs + inputs).
    """

    __slots__ = ("name", "executable", "order", "identity", "outputs", "picks", "checks", "scoped")

    def __init__(self, name, compiled: CompiledSignature, input_names: Sequence[str], outputs: Sequence[str]):
        self.name = name
        segments = compiled.segmentation.segments
        seg = segments[0] if segments else None
        self.executable = compiled.executables[0] if segments else _NoSegment()
        self.executable.on_compiled(self._use_compiled)
        position = {b: i for i, b in enumerate(input_names)}
        self.order = tuple(position[b] for b in self.executable.input_names)
        self.identity = self.order == tuple(range(len(input_names)))
        self.outputs = tuple(outputs)
        self.picks = _picks(compiled.segmentation, seg, position)
        graph = seg.graph if seg is not None else compiled.graph
        self.checks = tuple((graph.name_of_input(n), i, graph.type((n, 0)))
                            for i, n in enumerate(graph.inputs)
                            if graph.op(n).shape is not None and any(d is not None for d in graph.op(n).shape))
        self.scoped = any(isinstance(graph.op(n), PythonOp) and graph.op(n).builder is not None
                          for n in graph.nodes())

    def _use_compiled(self, exe) -> None:
        self.executable = exe

    def __call__(self, ws, values: list) -> None:
        inputs = values if self.identity else [values[i] for i in self.order]
        for blob, i, t in self.checks:
            check_feed(blob, t, inputs[i])
        try:
            if self.scoped:
                with instance_scope(ws.op_instances):
                    outs = self.executable(inputs, ws.variables)
            else:
                outs = self.executable(inputs, ws.variables)
        except NetjitError:
            raise
        except Exception as exc:  # noqa: BLE001 - one error type whatever ran: OpFailure, caused by it
            raise op_failure("an op", f"net {self.name!r}", exc) from exc
        if self.picks is not None:
            both = list(outs) + values
            outs = [both[k] for k in self.picks]
        ws.store_many(self.outputs, outs)


class _NoSegment(Executable):
    """The executable of a net that computes nothing (it only stores inputs)."""

    input_names: tuple = ()

    def __call__(self, inputs, state=None) -> list:
        return []


def _picks(plan: Segmentation, seg, position: dict):
    """Where each fetch comes from, as an index into (segment outputs + gathered inputs);
    None when the segment's outputs are the fetches, in order."""
    produced = {key: j for j, keys in enumerate(seg.outputs) for key in keys} if seg is not None else {}
    n_out = len(seg.outputs) if seg is not None else 0
    picks = tuple(produced[key] if key in produced else n_out + position[key[1]] for key in plan.fetches)
    return None if picks == tuple(range(n_out)) else picks


class NetVersion:
    """What running one version of a net needs (a net's version is its op count)."""

    def __init__(self, net: Net):
        self.ops = list(net.ops)
        self.size = len(self.ops)
        self.placeholders = tuple(d.outputs[0] for d in self.ops if d.type == "Placeholder")
        self.inputs = tuple(str(b) for b in net.external_inputs) + self.placeholders
        written = [b for b in net.written_blobs() if b not in self.placeholders]
        self.outputs = tuple(str(b) for b in net.external_outputs) or tuple(written)
        self.readers: dict = {}
        for d in self.ops:
            for b in d.inputs:
                self.readers.setdefault(b, d)
        #: input signature -> CompiledNet
        self.compiled: dict = {}

    def missing(self, net_name: str, values) -> NetjitError:
        """The error for the first input that has no value."""
        blob = next(b for b, v in zip(self.inputs, values) if v is UNSET)
        if blob in self.placeholders:
            return NotFoundError(f"net {net_name!r}: placeholder {blob!r} has no value in the workspace "
                                 "(feed it with feed_blob before running the net)")
        d = self.readers.get(blob)
        if d is None:
            return NotFoundError(f"net {net_name!r}: external input {blob!r} does not exist in the workspace")
        out = f" {d.outputs[0]!r}" if d.outputs else ""
        return NotFoundError(f"net {net_name!r}: op {d.type}{out} reads blob {blob!r}, "
                             "which does not exist in the workspace")


class NetRunner:
    """Runs one net on any workspace sharing a root; compiles lazily per signature.

    The per-version state is swapped as one object, so threads running the
    same net never see half of a refresh.
    """

    def __init__(self, net: Net, config):
        self.net = net
        self.config = config
        self._lock = threading.Lock()
        self.current = NetVersion(net)
        self.compilations = 0

    @property
    def inputs(self) -> tuple:
        return self.current.inputs

    @property
    def compiled(self) -> dict:
        return self.current.compiled

    def _refresh(self) -> NetVersion:
        with self._lock:
            if self.current.size != len(self.net.ops):
                self.current = NetVersion(self.net)
            return self.current

    def run(self, ws) -> None:
        """Run the net once on ``ws``."""
        version = self.current
        if version.size != len(self.net.ops):
            version = self._refresh()
        values = ws.gather(version.inputs)
        try:
            key = tuple(map(_signature, values))
        except AttributeError:
            raise version.missing(self.net.name, values) from None
        compiled = version.compiled.get(key)
        if compiled is None:
            compiled = self._compile(version, key, values)
        compiled(ws, values)

    def _compile(self, version: NetVersion, key, values) -> CompiledNet:
        with self._lock:
            compiled = version.compiled.get(key)
            if compiled is None:
                compiled = version.compiled[key] = self._build(version, values)
                self.compilations += 1
            return compiled

    def _build(self, version: NetVersion, values) -> CompiledNet:
        """Compile ``version`` for the types of ``values`` through the pipeline, on one
        device: placeholders are fed, other inputs typed from the workspace, and every
        stateful and host op runs."""
        types = {}
        for b, v in zip(version.inputs, values):
            try:
                types[b] = feed_type(TensorType(as_dtype(v.dtype), v.shape))
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(f"net {self.net.name!r}: blob {b!r}: {exc}") from None
        feeds = {b: types[b] for b in version.placeholders}
        inputs = {b: t for b, t in types.items() if b not in feeds}
        device = local_devices(getattr(self.config, "device_count", None))[0].name
        compiled = compile_signature(version.ops, self.net.name, feeds, list(version.outputs), (), self.config,
                                     Placer([device], allow_soft_placement=True),
                                     get_backend(self.config.backend), inputs=inputs, effects_as_targets=True)
        return CompiledNet(self.net.name, compiled, version.inputs, version.outputs)


class NetCache:
    """The runners of one workspace tree, by net object (weakly held)."""

    def __init__(self, config):
        self.config = config
        self._runners: "weakref.WeakKeyDictionary[Net, NetRunner]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def runner(self, net: Net) -> NetRunner:
        runner = self._runners.get(net)
        if runner is None:
            with self._lock:
                runner = self._runners.get(net)
                if runner is None:
                    runner = self._runners[net] = NetRunner(net, self.config)
        return runner

    @property
    def compilations(self) -> int:
        """How many (net, signature) pairs have been compiled in this workspace tree."""
        return sum(r.compilations for r in list(self._runners.values()))


def run_net(ws, net: Net) -> None:
    """Run ``net`` once on ``ws`` (Caffe2's RunNetOnce)."""
    if not isinstance(net, Net):
        raise InvalidArgumentError(f"expected a Net, got {type(net).__name__}")
    ws.root.net_cache.runner(net).run(ws)
