"""Partial runs, ported from TensorFlow's partial_run_test.py and direct_session_test.cc.

Each test names the TensorFlow test it ports; expected values are TensorFlow's.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, strategies as st

import netjit as nj
from netjit.errors import DeadlineExceededError, InvalidArgumentError


def abc_net():
    net = nj.Net("prun")
    a, b, c = (net.Placeholder(n, np.float32, ()) for n in "abc")
    r1 = net.Add([a, b], "r1")
    net.Mul([r1, c], "r2")
    return net


@pytest.fixture
def sess():
    with nj.Session(abc_net()) as s:
        yield s


def test_partial_run(sess):
    # partial_run_test.py RunTestPartialRun: 3, 153 then 3, 162
    h = sess.partial_run_setup(["r1", "r2"], ["a", "b", "c"])
    res = sess.partial_run(h, "r1", {"a": 1, "b": 2})
    assert res == 3
    assert sess.partial_run(h, "r2", {"c": res * 17}) == 153
    h2 = sess.partial_run_setup(["r1", "r2"], ["a", "b", "c"])
    res = sess.partial_run(h2, "r1", {"a": 1, "b": 2})
    assert res == 3
    assert sess.partial_run(h2, "r2", {"c": res * 18}) == 162


def test_partial_run_incomplete(sess):
    # partial_run_test.py RunTestPartialRunIncomplete: 3, and the run may stay unfinished
    h = sess.partial_run_setup(["r1", "r2"], ["a", "b", "c"])
    assert sess.partial_run(h, "r1", {"a": 1, "b": 2}) == 3
    assert h.pending() == {"feeds": ["c"], "fetches": ["r2"]}


def test_concurrent_partial_runs(sess):
    # partial_run_test.py RunTestConcurrentPartialRun: 3, 66, 462
    h1 = sess.partial_run_setup(["r1"], ["a", "b", "c"])
    h2 = sess.partial_run_setup(["r1", "r2"], ["a", "b", "c"])
    res = sess.partial_run(h1, "r1", {"a": 1, "b": 2})
    assert res == 3
    res = sess.partial_run(h2, "r1", {"a": res * 19, "b": 9})
    assert res == 66
    assert sess.partial_run(h2, "r2", {"c": 7}) == 462


def test_many_partial_run_steps():
    # partial_run_test.py RunTestManyPartialRun: 200 steps -> 2.0
    net = nj.Net("many")
    a = net.Const(np.float32(2.0), "a0")
    inputs, outputs = [], []
    for i in range(200):
        inputs.append(net.Placeholder(f"in{i}", np.float32, ()))
        a = net.Mul([a, inputs[-1]], f"out{i}")
        outputs.append(a)
    with nj.Session(net) as s:
        h = s.partial_run_setup(outputs, inputs)
        for i in range(200):
            res = s.partial_run(h, outputs[i], {inputs[i]: 1.0})
    assert res == 2.0


def test_run_and_partial_run():
    # partial_run_test.py RunTestRunAndPartialRun: [4, 12] both ways
    net = nj.Net("runprun")
    b = net.Mul([net.Const(np.float32(2.0)), net.Const(np.float32(2.0))], "b")
    c = net.Mul([b, net.Const(np.float32(3.0))], "c")
    with nj.Session(net) as s:
        assert [float(v) for v in s.run([b, c])] == [4, 12]
        h = s.partial_run_setup([b, c], [])
        assert [float(v) for v in s.partial_run(h, [b, c])] == [4, 12]


def test_partial_run_empty_fetches():
    # partial_run_test.py RunTestPartialRunEmptyFetches: [6.0]
    net = nj.Net("empty")
    a = net.Placeholder("a", np.float32, ())
    b = net.Mul([a, net.Const(np.float32(2.0))], "b")
    c = net.Mul([b, net.Const(np.float32(3.0))], "c")
    with nj.Session(net) as s:
        h = s.partial_run_setup([c], [a])
        assert s.partial_run(h, [], {a: 1.0}) == []
        assert s.partial_run(h, [c]) == [6.0]


def test_partial_run_setup_no_feeds():
    # partial_run_test.py RunTestPartialRunSetupNoFeeds: [6.0]
    net = nj.Net("nofeeds")
    b = net.Mul([net.Const(np.float32(1.0)), net.Const(np.float32(2.0))], "b")
    c = net.Mul([b, net.Const(np.float32(3.0))], "c")
    with nj.Session(net) as s:
        h = s.partial_run_setup([c], [])
        assert s.partial_run(h, [c]) == [6.0]
        with pytest.raises(InvalidArgumentError, match="Must specify at least one target"):
            s.partial_run_setup([], [])


def identity_net():
    net = nj.Net("consts")
    first = net.Copy(net.Const(np.float32(1.0), "first_const"), "first_identity")
    second = net.Copy(net.Const(np.float32(2.0), "second_const"), "second_identity")
    net.Copy(net.Add([first, second]), "third_identity")
    return net


def test_partial_run_feeding_constants():
    # direct_session_test.cc PartialRunTest: 11, then 22 and 33
    with nj.Session(identity_net()) as s:
        h = s.partial_run_setup(["first_identity", "second_identity", "third_identity"],
                                ["first_const", "second_const"])
        assert s.partial_run(h, ["first_identity"], {"first_const": np.float32(11)}) == [11]
        second, third = s.partial_run(h, ["second_identity", "third_identity"],
                                      {"second_const": np.float32(22)})
        assert (second, third) == (22, 33)
        with pytest.raises(InvalidArgumentError, match="Must run 'setup' before performing partial runs!"):
            s.partial_run(h, [], {})    # finished: the handle is gone


def test_partial_run_missing_feed():
    # direct_session_test.cc PartialRunMissingFeed: "can't be computed from the feeds"
    with nj.Session(identity_net()) as s:
        h = s.partial_run_setup(["third_identity"], ["first_const", "second_const"])
        with pytest.raises(InvalidArgumentError,
                           match="Fetch third_identity:0 can't be computed from the feeds that have been fed so far"):
            s.partial_run(h, ["third_identity"], {"first_const": np.float32(11)})


def test_partial_run_missing_placeholder_feed():
    # partial_run_test.py RunTestPartialRunMissingPlaceholderFeedException (raised at setup here)
    net = nj.Net("missing")
    x = net.Placeholder("x", np.float32, ())
    y = net.Mul([x, net.Const(np.float32(2.0))], "y")
    with nj.Session(net) as s, pytest.raises(InvalidArgumentError, match="You must feed a value for placeholder"):
        s.partial_run_setup([y], [])


def test_partial_run_misuse_errors(sess):
    # direct_session_test.cc PRun checks, in TensorFlow's order and words
    with pytest.raises(InvalidArgumentError, match="Must run 'setup' before performing partial runs!"):
        sess.partial_run("bogus;1", ["r1"], {"a": 1})
    h = sess.partial_run_setup(["r1"], ["a", "b"])
    with pytest.raises(InvalidArgumentError, match="The feed c was not specified in partial_run_setup."):
        sess.partial_run(h, [], {"c": 1})
    with pytest.raises(InvalidArgumentError, match="The fetch r2 was not specified in partial_run_setup."):
        sess.partial_run(h, ["r2"], {"a": 1})
    sess.partial_run(h, [], {"a": 1})
    with pytest.raises(InvalidArgumentError, match="The feed a has already been fed."):
        sess.partial_run(h, [], {"a": 1})
    h2 = sess.partial_run_setup(["r1", "r2"], ["a", "b", "c"])
    assert sess.partial_run(str(h2), "r1", {"a": 1, "b": 2}) == 3    # the string form works too
    with pytest.raises(InvalidArgumentError, match="The fetch r1 has already been fetched."):
        sess.partial_run(h2, "r1", {"c": 1})
    with pytest.raises(InvalidArgumentError, match="Cannot feed value of dtype int64 for blob 'c'"):
        sess.partial_run(h2, "r2", {"c": np.array(1, np.int64)})
    assert sess.partial_run(h2, "r2", {"c": 2}) == 6     # misuse left the run usable


def test_handle_close_pending_and_timeout(sess):
    h = sess.partial_run_setup(["r1", "r2"], ["a", "b", "c"])
    assert h.pending() == {"feeds": ["a", "b", "c"], "fetches": ["r1", "r2"]}
    h.close()
    assert h.pending() == {"feeds": [], "fetches": []}
    with pytest.raises(InvalidArgumentError, match="Must run 'setup'"):
        sess.partial_run(h, "r1", {"a": 1, "b": 2})
    h = sess.partial_run_setup(["r1", "r2"], ["a", "b", "c"], timeout_s=0.05)
    assert sess.partial_run(h, "r1", {"a": 1, "b": 2}) == 3
    time.sleep(0.1)
    with pytest.raises(DeadlineExceededError, match="expired"):
        sess.partial_run(h, "r2", {"c": 1})
    with pytest.raises(InvalidArgumentError, match="Must run 'setup'"):
        sess.partial_run(h, "r2", {"c": 1})
    assert sess.run("r2", {"a": 1.0, "b": 2.0, "c": 3.0}) == 9


def test_partial_run_across_devices():
    net = nj.Net("prun2")
    a, b = net.Placeholder("a", np.float32, ()), net.Placeholder("b", np.float32, ())
    with nj.device("cpu:1"):
        r1 = net.Neg(a, "r1")
    with nj.device("cpu:0"):
        net.Add([r1, b], "r2")
    with nj.Session(net, nj.SessionConfig(device_count={"cpu": 2})) as s:
        h = s.partial_run_setup(["r1", "r2"], ["a", "b"])
        assert s.partial_run(h, "r1", {"a": 5}) == -5
        assert s.partial_run(h, "r2", {"b": 7}) == 2


@st.composite
def feed_orders(draw):
    net = nj.Net("prand")
    blobs = [net.Placeholder(f"p{i}", np.float32, (2,)) for i in range(3)]
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["Neg", "Add", "Mul"]))
        ins = [draw(st.sampled_from(blobs)) for _ in range(1 if kind == "Neg" else 2)]
        with nj.device(draw(st.sampled_from([None, "cpu:1"]))):
            blobs.append(getattr(net, kind)(ins, f"b{i}"))
    fetches = sorted({str(b) for b in blobs[3:]})
    return net, fetches, draw(st.permutations(["p0", "p1", "p2"]))


@given(feed_orders())
def test_partial_runs_fetch_each_value_as_soon_as_its_feeds_arrived(case):
    net, fetches, order = case
    feeds = {f"p{i}": np.array([i + 1.0, -i], np.float32) for i in range(3)}
    # reference backend: this checks segmentation by feeds; numba compiles of 25 random nets cost ~50 s
    with nj.Session(net, nj.SessionConfig(device_count={"cpu": 2}, backend="reference")) as s:
        want = dict(zip(fetches, s.run(fetches, feeds)))
        needs = {f: {p for p in feeds if _depends(net, f, p)} for f in fetches}
        h = s.partial_run_setup(fetches, list(feeds))
        fed, got = set(), {}
        for p in order:
            s.partial_run(h, [], {p: feeds[p]})
            fed.add(p)
            for f in fetches:
                if f not in got and needs[f] <= fed:
                    got[f] = s.partial_run(h, f)
                elif f not in got:
                    with pytest.raises(InvalidArgumentError, match="can't be computed"):
                        s.partial_run(h, f)
    assert set(got) == set(fetches)
    for f in fetches:
        np.testing.assert_allclose(got[f], want[f], rtol=1e-6)


def _depends(net, blob: str, placeholder: str) -> bool:
    """Whether ``blob`` reads ``placeholder`` (directly or through other blobs)."""
    producers = {d.outputs[0]: d for d in net.ops}
    stack, seen = [blob], set()
    while stack:
        b = stack.pop()
        if b == placeholder:
            return True
        if b not in seen and b in producers:
            seen.add(b)
            stack.extend(producers[b].inputs)
    return False
