"""RunMetadata: step stats per segment, partition graphs, cost summary, compile trace, Chrome JSON."""
from __future__ import annotations

import json

import numpy as np

import netjit as nj
from netjit.runtime.stats import RunMetadata

from _session_helpers import ping_pong_expected, ping_pong_net, session

FULL = nj.RunOptions(trace_level=nj.RunOptions.FULL_TRACE)


def test_first_run_traces_compile_then_cache_hits(tmp_path):
    xv = np.ones((2, 3), np.float32)
    net = ping_pong_net()
    with session(net) as s:
        first = RunMetadata()
        np.testing.assert_allclose(s.run("c", {"x": xv}, options=FULL, run_metadata=first),
                                   ping_pong_expected(xv), rtol=1e-6)
        second = RunMetadata()
        s.run("c", {"x": xv}, options=FULL, run_metadata=second)
    names = [e.name for e in first.compile_events]
    for stage in ("lower", "PRE_PLACEMENT", "placement", "POST_PLACEMENT", "partition", "segments"):
        assert stage in names
    assert sum(n.startswith("compile ") for n in names) == 3     # one backend compile per segment
    assert "pass prune" in names                                 # each pass application too
    assert first.executor_cache == "compiled" and second.executor_cache == "cache hit"
    assert second.compile_events == []
    stats = second.step_stats
    assert [s.device for s in stats] == ["cpu:0", "cpu:1", "cpu:0"]
    assert all(s.duration >= 0 and s.thread and s.tier for s in stats)
    assert [s.output_bytes for s in stats] == [24, 24, 24]       # one f32[2,3] each
    assert stats[0].start + stats[0].duration <= stats[1].start + 1e-6    # cpu:1 waited for a
    assert [g.name for g in second.partition_graphs] == [f"{net.name}@cpu:0", f"{net.name}@cpu:1"]
    summary = second.cost_summary
    assert summary["segments"] == 3 and summary["devices"] == 2 and summary["output_bytes"] == 72
    path = tmp_path / "trace.json"
    first.to_chrome_trace(path)
    events = json.loads(path.read_text())["traceEvents"]
    assert {e["ph"] for e in events} == {"X"}
    assert {e["tid"] for e in events} >= {"compile", "caller"}
    assert all(e["ts"] >= 0 and e["dur"] >= 0 for e in events)
    seg_events = [e for e in events if e["cat"] in ("cpu:0", "cpu:1")]
    assert len(seg_events) == 3 and seg_events[0]["args"]["output_bytes"] == 24


def test_metadata_without_trace_level_has_partitions_but_no_stats():
    md = RunMetadata()
    with session(ping_pong_net()) as s:
        s.run("c", {"x": np.ones((1, 3), np.float32)}, run_metadata=md)
    assert md.step_stats == [] and len(md.partition_graphs) == 2


def test_independent_branches_start_together():
    """Two devices' segments with no dependency between them are both ready at the start."""
    net = nj.Net("branches")
    x = net.Placeholder("x", np.float32, (None, 3))
    with nj.device("cpu:0"):
        a = net.Tanh(x, "a")
    with nj.device("cpu:1"):
        b = net.Neg(x, "b")
    net.Add([a, b], "y")
    with session(net) as s:
        md = RunMetadata()
        s.run("y", {"x": np.ones((1, 3), np.float32)}, options=FULL, run_metadata=md)
        plan = s._cache.entries()[0].schedule
    starters = [seg.device for seg in plan.segments if not seg.after]
    assert sorted(starters) == ["cpu:0", "cpu:1"]
    assert len(md.step_stats) == len(plan.segments) == 3


def test_dump_dir_holds_partition_and_segment_graphs(tmp_path):
    net = ping_pong_net()
    with session(net, dump_dir=str(tmp_path)) as s:
        s.run("c", {"x": np.ones((1, 3), np.float32)})
    folder = tmp_path / net.name
    partitions = (folder / "partitions.txt").read_text()
    assert f'graph "{net.name}@cpu:1"' in partitions and 'Send(%b, key="cpu:1->cpu:0/b")' in partitions
    segments = (folder / "segments.txt").read_text()
    assert segments.count("# segment ") == 3 and "after [0, 1]" in segments
