"""Fuzzing the loaders: mutated saved nets, plans and IR files give netjit errors, nothing else.

Hypothesis mutates valid files (byte flips, truncation, JSON edits of types,
sizes, names and nesting; side ``.npz`` files holding pickles or ``../``
names) and every load must end within a timeout with success or a
``NetjitError``, without writing a file outside its folder or running code
from the file. ``NETJIT_FUZZ_EXAMPLES`` sets the examples per target (CI: 60).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import pickle
import resource
import signal
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import netjit as nj
from netjit.compiler.frontend.lowering import lower_net
from netjit.compiler.ir.serialize import load_graph, save_graph
from netjit.compiler.ops import TensorType
from netjit.errors import NetjitError

EXAMPLES = int(os.environ.get("NETJIT_FUZZ_EXAMPLES", 60))
SECONDS = 10
MARKER = pathlib.Path("/tmp/netjit-fuzz-code-ran")


class _Payload:
    """Unpickling this would create MARKER: the check that nothing in a file is unpickled."""

    def __reduce__(self):
        return (pathlib.Path.touch, (MARKER,))


def _net():
    net = nj.Net("fuzz")
    x = net.Placeholder("x", np.float32, (None, 4))
    w = net.Const(np.arange(400, dtype=np.float32).reshape(4, 100) / 100, "w")
    h = net.Relu(net.MatMul([x, w]), "h")
    net.ReduceSum(h, "y", axes=(1,))
    return net


def _originals(folder: pathlib.Path) -> dict[str, bytes]:
    """The valid files every mutation starts from: net, plan and IR JSON with their side files."""
    net = _net()
    net.save(folder / "net.json")
    plan = nj.Plan("plan")
    plan.AddStep(nj.execution_step("step", net, num_iter=3))
    plan.save(folder / "plan.json")
    lowered = lower_net(net.ops, net.name, {"x": TensorType(np.float32, (None, 4))})
    lowered.graph.outputs = [lowered.blobs["y"]]
    save_graph(lowered.graph, folder / "ir.json")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from(["f32", "../x", "c0", "Relu", "FusedElementwise", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _replace(doc, path, value):
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


@st.composite
def mutations(draw):
    """(file name, how to mutate its bytes)."""
    name = draw(st.sampled_from(["net.json", "plan.json", "ir.json", "net.npz"]))
    kind = draw(st.sampled_from(["flip", "truncate", "json", "json", "npz"]))
    if kind == "flip":
        return name, ("flip", draw(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1,
                                            max_size=8)))
    if kind == "truncate":
        return name, ("truncate", draw(st.floats(0, 1)))
    if kind == "json" and name.endswith(".json"):
        return name, ("json", draw(st.floats(0, 1)), draw(JSON_VALUES))
    return "net.npz", ("npz", draw(st.sampled_from(["pickle", "dotdot", "garbage", "wrong_shape"])))


def _mutate(data: bytes, how) -> bytes:
    if how[0] == "flip":
        out = bytearray(data)
        for where, byte in how[1]:
            out[min(int(where * len(out)), len(out) - 1)] = byte
        return bytes(out)
    if how[0] == "truncate":
        return data[:int(how[1] * len(data))]
    if how[0] == "json":
        doc = json.loads(data)
        paths = list(_paths(doc))
        return json.dumps(_replace(doc, paths[int(how[1] * (len(paths) - 1))], how[2])).encode()
    return _npz(how[1])


def _npz(kind: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        if kind == "pickle":
            arr = np.empty(1, dtype=object)
            arr[0] = _Payload()
            member = io.BytesIO()
            np.save(member, arr, allow_pickle=True)
            zf.writestr("c0.npy", member.getvalue())
        elif kind == "dotdot":
            zf.writestr("../c0.npy", b"\x93NUMPY")
        elif kind == "garbage":
            zf.writestr("c0.npy", os.urandom(64))
        else:
            member = io.BytesIO()
            np.save(member, np.zeros((3, 3), np.float32))
            zf.writestr("c0.npy", member.getvalue())
    return buf.getvalue()


def _record(target: str, kind: str, outcome: str, seconds: float) -> None:
    """With NETJIT_FUZZ_REPORT=path, one JSON line per example (for the closing numbers)."""
    report = os.environ.get("NETJIT_FUZZ_REPORT")
    if report:
        with open(report, "a") as fh:
            fh.write(json.dumps({"target": target, "mutation": kind, "outcome": outcome,
                                 "seconds": seconds,
                                 "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}) + "\n")


@contextlib.contextmanager
def _deadline(seconds: int):
    def expire(*_):
        raise TimeoutError(f"a load took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _load(path: pathlib.Path) -> None:
    if path.name == "ir.json":
        load_graph(path)
    else:
        nj.load(path)


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    return _originals(tmp_path_factory.mktemp("originals"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutation=mutations(), target=st.sampled_from(["net.json", "plan.json", "ir.json"]))
def test_a_mutated_file_loads_or_raises_a_netjit_error(originals, tmp_path_factory, mutation, target):
    folder = tmp_path_factory.mktemp("case")
    for name, data in originals.items():
        (folder / name).write_bytes(data)
    name, how = mutation
    name = target if name.endswith(".json") else name     # mutate what is loaded, or its side file
    (folder / name).write_bytes(_mutate(originals[name], how))
    before_cwd = set(os.listdir("."))
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    MARKER.unlink(missing_ok=True)
    t0, outcome = time.perf_counter(), "loaded"
    with _deadline(SECONDS):
        try:
            _load(folder / target)
        except NetjitError as exc:
            outcome = type(exc).__name__
    _record(target, how[0], outcome, time.perf_counter() - t0)
    assert not MARKER.exists(), "loading ran code from the file"
    assert set(os.listdir(".")) == before_cwd, "loading wrote a file"
    assert sorted(p.name for p in folder.iterdir()) == sorted(originals), "loading wrote a file"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_rss) / 1024
    assert grown_mb < 200


def test_the_pickle_payload_would_run_if_unpickled(tmp_path):
    """The marker check above can fail: unpickling the payload does create the marker."""
    MARKER.unlink(missing_ok=True)
    pickle.loads(pickle.dumps(_Payload()))
    assert MARKER.exists()
    MARKER.unlink()
