"""Partial runs, ported from TensorFlow's partial_run_test.py and direct_session_test.cc.

Each test names the TensorFlow test it ports; expected values are TensorFlow's.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

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
