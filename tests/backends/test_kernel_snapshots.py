"""The generated source of W1-W5 and W7 stays byte-identical unless a change means it.

Each workload is compiled untiered on the numba backend and every segment's
generated source (numba module and wrapper, or the native generator's LLVM
IR) is compared with the snapshot in ``snapshots/``. A change that only
restructures the code generators must keep them equal; a change that means
to alter the kernels rewrites them with ``NETJIT_UPDATE_SNAPSHOTS=1`` and
shows the diff in its commit.
"""
from __future__ import annotations

import os
import pathlib
import re

import numpy as np
import pytest

import netjit as nj
from benchmarks import workloads as W

SNAPSHOTS = pathlib.Path(__file__).parent / "snapshots"

#: workload -> (net builder, small inputs of the benchmark's ranks and dtypes)
WORKLOADS = {
    "w1": (W.w1_net, lambda: {"x": np.linspace(-3, 3, 5000, dtype=np.float32)}),
    "w1_numba": (W.w1_net, lambda: {"x": np.linspace(-3, 3, 1000, dtype=np.float32)}),
    "w2": (W.w2_net, lambda: {"x": np.ones((3, 784), np.float32)}),
    "w3": (W.w3_net, W.w3_inputs),
    "w4": (W.w4_net, lambda: {"x": np.ones((5, 1024), np.float32)}),
    "w5": (W.w5_net, lambda: {"x": np.ones((5, 1024), np.float32)}),
}


def _segment_sources(net, fetch, feeds: dict, tmp_path, **config) -> str:
    cfg = nj.SessionConfig(tiered=False, cache_dir=str(tmp_path), verify_passes=False, **config)
    with nj.Session(net, cfg) as sess:
        sess.run(fetch, feeds)
        (entry,) = sess._cache.entries()
        parts = []
        for seg, exe in zip(entry.compiled.segmentation.segments, entry.compiled.executables):
            text = exe.source
            if exe.wrapper_source:          # numba segments have one; native ones none
                text += "\n# --- wrapper ---\n" + exe.wrapper_source
            parts.append(f"# ===== segment {seg.name} ({type(exe).__name__}) =====\n{text}")
    # hashes of cache keys and symbol names depend on the netjit version only through the key
    text = re.sub(r"netjit_[0-9a-f]{16,}", "netjit_<key>", "\n".join(parts))
    return text.replace(f"{net.name}/", "NET/")   # net names are unique per process


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("NETJIT_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
    assert path.exists(), f"no snapshot {path}: write it with NETJIT_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"generated source of {name} changed; see {path}"


def _w7_net(n: int = 256):
    """W7's shape (two branches of three matmuls with tanh between, summed), one branch a device."""
    rng = np.random.default_rng(0)
    net = nj.Net("w7")
    x = net.Placeholder("x", np.float32, (n, n))
    outs = []
    for b in range(2):
        with nj.device(f"cpu:{b}"):
            h = x
            for k in range(3):
                h = net.MatMul([h, net.Const(rng.standard_normal((n, n)).astype(np.float32), f"w{b}{k}")])
                h = net.Tanh(h) if k < 2 else h
            outs.append(h)
    with nj.device("cpu:0"):
        return net, net.Add(outs, "y")


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_workload_kernels_are_unchanged(name, tmp_path, monkeypatch):
    build, inputs = WORKLOADS[name]
    if name == "w1_numba":
        monkeypatch.setenv("NETJIT_NATIVE", "0")
    net, y, _ = build()
    _check(name, _segment_sources(net, y, inputs(), tmp_path))


def test_w7_kernels_are_unchanged(tmp_path):
    net, y = _w7_net()
    x = np.ones((256, 256), np.float32)
    _check("w7", _segment_sources(net, y, {"x": x}, tmp_path, device_count={"cpu": 2}))
