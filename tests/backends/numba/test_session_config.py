"""SessionConfig's backend options reach the numba backend, and run metadata shows the live tier."""
import numpy as np

import netjit as nj
from netjit.config import SessionConfig
from netjit.runtime.stats import RunMetadata

FULL = nj.RunOptions(trace_level=nj.RunOptions.FULL_TRACE)


def _net():
    net = nj.Net("cfg")
    x = net.Placeholder("x", np.float32, (None, 5))
    net.Softmax(net.Mul([x, net.Const(2.375)]), "y")    # a constant no other test compiles
    return net


def _tiers(sess, feed):
    meta = RunMetadata()
    out = sess.run("y", feed, options=FULL, run_metadata=meta)
    e = np.exp(2.375 * feed["x"])
    np.testing.assert_allclose(out, e / e.sum(-1, keepdims=True), rtol=1e-5)
    return [s.tier for s in meta.step_stats]


def _executables(sess):
    """The segments' executables of every compiled signature (test-only peek)."""
    return [seg.executable for entry in sess._cache._slow.values() for seg in entry.schedule.segments]


def test_cache_dir_and_tiered_false_come_from_the_config(tmp_path):
    feed = {"x": np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)}
    with nj.Session(_net(), config=SessionConfig(cache_dir=str(tmp_path), tiered=False)) as sess:
        assert _tiers(sess, feed) == ["numba"]
    assert list(tmp_path.glob("*/*/manifest.json")), "the config's cache_dir holds no entry"


def test_dump_dir_from_the_config_gets_the_generated_source(tmp_path):
    feed = {"x": np.ones((2, 5), np.float32)}
    with nj.Session(_net(), config=SessionConfig(dump_dir=str(tmp_path), tiered=False)) as sess:
        sess.run("y", feed)
    (src,) = tmp_path.glob("netjit-segment-*.py")
    assert "def kernel0" in src.read_text()


def test_tiered_session_reports_reference_then_numba():
    feed = {"x": np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)}
    with nj.Session(_net(), config=SessionConfig(tiered=True)) as sess:
        assert _tiers(sess, feed) == ["reference"]
        (exe,) = _executables(sess)
        exe.wait(timeout=300)                  # the background compile's future
        assert _tiers(sess, feed) == ["numba"]
        assert exe.cache_hit is not None
