"""Loaders are bounded: no file makes netjit read forever, block, or build gigabytes.

Each test is one finding of the reliability probe; the large ones run in a
subprocess so their peak memory can be measured.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import netjit as nj
from netjit.compiler.ir.files import MAX_JSON_VALUES
from netjit.compiler.ir.serialize import load_graph
from netjit.errors import InvalidArgumentError


@pytest.fixture
def saved(tmp_path):
    net = nj.Net("n")
    net.Relu(net.Placeholder("x", np.float32, (3,)), "y")
    net.save(tmp_path / "n.json")
    return tmp_path / "n.json"


@pytest.mark.parametrize("loader", [nj.load, load_graph])
def test_a_symlink_to_a_device_is_refused_before_reading(tmp_path, loader):
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(InvalidArgumentError, match="is a device, not a regular file"):
        loader(link)


@pytest.mark.parametrize("loader", [nj.load, load_graph])
def test_a_fifo_is_refused_without_blocking(tmp_path, loader):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgumentError, match="is a FIFO"):
        loader(fifo)


def test_a_side_file_that_is_a_device_is_refused(tmp_path):
    net = nj.Net("big")
    net.Const(np.ones(1000, np.float32), "w")
    net.save(tmp_path / "big.json")
    (tmp_path / "big.npz").unlink()
    (tmp_path / "big.npz").symlink_to("/dev/zero")
    with pytest.raises(InvalidArgumentError, match="not a regular file"):
        nj.load(tmp_path / "big.json")


def test_a_huge_inline_constant_fails_fast_in_bounded_memory(tmp_path, saved):
    """The probe's 190 MB net of one inline Const took 2 GB; counting values first refuses it."""
    doc = json.loads(saved.read_text())
    n = MAX_JSON_VALUES + 10
    doc["ops"].append({"type": "Const", "inputs": [], "outputs": ["c"], "device": None,
                       "attrs": {"value": {"tensor": {"dtype": "f32", "shape": [n], "data": "DATA"}}}})
    text = json.dumps(doc).replace('"DATA"', "[" + ",".join(["1.5"] * n) + "]")
    path = tmp_path / "huge.json"
    path.write_text(text)
    script = textwrap.dedent(f"""
        import time, netjit as nj
        from netjit.errors import InvalidArgumentError
        t = time.perf_counter()
        try:
            nj.load({str(path)!r})
        except InvalidArgumentError as exc:
            print("refused:", str(exc)[:80])
        # VmHWM is this process's own peak (ru_maxrss keeps the forking parent's across exec)
        hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
        print(time.perf_counter() - t, hwm * 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "refused:" in out.stdout, out.stderr
    seconds, peak = map(float, out.stdout.split()[-2:])
    assert seconds < 10
    assert peak < 3 * path.stat().st_size + 400e6     # the interpreter and netjit take ~150 MB


@pytest.mark.parametrize("num_iter", [10**9, 2**63 - 1, 2**64, 10**30])
def test_a_saved_plan_cannot_ask_for_endless_iterations(tmp_path, num_iter):
    net = nj.Net("count")
    net.Add(["i", net.Const(1)], "i")
    plan = nj.Plan("p")
    plan.AddStep(nj.execution_step("s", net, num_iter=5))
    plan.save(tmp_path / "p.json")
    doc = json.loads((tmp_path / "p.json").read_text())
    doc["steps"][0]["num_iter"] = num_iter
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(InvalidArgumentError, match="NETJIT_MAX_NUM_ITER"):
        nj.load(tmp_path / "p.json")


def test_the_iteration_limit_of_saved_plans_can_be_raised(tmp_path, monkeypatch):
    net = nj.Net("count")
    net.Add(["i", net.Const(1)], "i")
    plan = nj.Plan("p")
    plan.AddStep(nj.execution_step("s", net, num_iter=20_000_000))
    plan.save(tmp_path / "p.json")
    with pytest.raises(InvalidArgumentError):
        nj.load(tmp_path / "p.json")
    monkeypatch.setenv("NETJIT_MAX_NUM_ITER", str(10**8))
    assert nj.load(tmp_path / "p.json").Steps()[0].num_iter == 20_000_000


def test_a_saved_plan_cannot_ask_for_a_hundred_thousand_instances(tmp_path):
    net = nj.Net("n")
    net.Const(1, "one")
    plan = nj.Plan("p")
    plan.AddStep(nj.execution_step("s", net, num_concurrent_instances=2))
    plan.save(tmp_path / "p.json")
    doc = json.loads((tmp_path / "p.json").read_text())
    doc["steps"][0]["num_concurrent_instances"] = 100_000
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(InvalidArgumentError, match="NETJIT_MAX_INSTANCES"):
        nj.load(tmp_path / "p.json")


def test_a_saved_fused_node_with_a_malformed_program_is_a_load_error(tmp_path, saved):
    doc = json.loads(saved.read_text())
    doc["ops"].append({"type": "FusedElementwise", "inputs": ["x"], "outputs": ["z"], "device": None,
                       "attrs": {"program": [[1, [0]]], "outputs": [1]}})
    saved.write_text(json.dumps(doc))
    with pytest.raises(InvalidArgumentError, match=r"instruction 0 must be an \(op, refs\) pair"):
        nj.load(saved)


def test_a_saved_print_to_file_needs_a_configured_folder(tmp_path, monkeypatch):
    net = nj.Net("p")
    net.Print(net.Const(np.float32(1), "x" * 300), to_file=1)
    net.save(tmp_path / "p.json")
    monkeypatch.delenv("NETJIT_PRINT_DIR", raising=False)
    with pytest.raises(InvalidArgumentError, match="NETJIT_PRINT_DIR"):
        nj.load(tmp_path / "p.json")
    logs = tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setenv("NETJIT_PRINT_DIR", str(logs))
    nj.Workspace().run(nj.load(tmp_path / "p.json"))
    (written,) = logs.iterdir()
    assert len(written.name) <= 100 and written.read_text().endswith("1.0\n")
