"""``inspect``, ``compile --dump-dir`` and ``passes`` show what the pipeline produced.

On the demo net: the placed stage is the optimised graph, placed (10 nodes, not
the 17 lowered ones); the partition is that graph on its device; the dumped
segments show the numba backend's SEGMENT passes (FC/Softmax expansion, packed
weights), and ``passes`` lists those with their backend.
"""
import json
import re

import pytest

from netjit.cli.demo import build_demo_net
from netjit.cli.main import main


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build_demo_net().save(tmp_path / "demo.json")

    def run(*args):
        rc = main([str(a) for a in args])
        cap = capsys.readouterr()
        assert rc == 0, cap.err
        return cap.out
    return run


def ops_of(text: str) -> list[str]:
    """The IR lines of a graph, without devices and placement comments."""
    lines = [ln.strip() for ln in text.strip().splitlines()[1:-1] if " = " in ln and not ln.lstrip().startswith("#")]
    return [re.sub(r" @cpu:\d+.*$", "", ln) for ln in lines]


def test_each_stage_is_the_pipeline_snapshot(cli):
    lowered, optimized, placed = (ops_of(cli("inspect", "demo.json", "--stage", s))
                                  for s in ("lowered", "optimized", "placed"))
    assert (len(lowered), len(optimized)) == (17, 10)
    assert placed == optimized
    text = cli("inspect", "demo.json", "--stage", "placed")
    assert all("@cpu:0" in ln for ln in text.splitlines() if " = " in ln and not ln.lstrip().startswith("#"))
    partition = cli("inspect", "demo.json", "--partition", "0", "--format", "json")
    assert len(json.loads(partition)["nodes"]) == len(placed)


def test_compile_dumps_show_the_backend_passes(cli, tmp_path):
    cli("compile", "demo.json", "--dump-dir", "dump", "--backend", "numba")
    summary = json.loads((tmp_path / "dump" / "summary.json").read_text())
    segment_passes = [p["pass"] for p in summary["passes"] if p["phase"] == "SEGMENT"]
    assert segment_passes == ["expand_composites", "prepack_weights"]
    (segment,) = (tmp_path / "dump" / "segments").glob("*.txt")
    text = segment.read_text()
    assert "PackedMatMul(" in text and "Softmax(" not in text and "ReduceMax(" in text


def test_passes_lists_the_backend_constraint(cli):
    rows = {r["name"]: r for r in json.loads(cli("passes", "--format", "json"))}
    assert rows["prepack_weights"]["backends"] == ["numba"] and rows["prepack_weights"]["phase"] == "SEGMENT"
    assert rows["fuse_elementwise"]["backends"] == []
    assert "numba" in cli("passes")
