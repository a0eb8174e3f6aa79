"""The on-disk compilation cache: cross-process hits, corruption, invalidation, opt-out."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from netjit.backends.numba import NumbaBackend, cache_stats
from netjit.backends.numba import cache as cache_mod
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Add, Const, ConstValue, Mul, Placeholder, Tanh

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from netjit.backends.numba import NumbaBackend, cache_stats
    from netjit.compiler.ir import Graph
    from netjit.compiler.ops import Add, Mul, Placeholder, Tanh
    g = Graph("cached_chain")
    x = g.add(Placeholder(np.float32, (None,)), names=["x"])
    g.inputs.append(x)
    y = g.add(Tanh(), [(g.add(Mul(), [(x, 0), (x, 0)]), 0)])
    g.outputs = [(g.add(Add(), [(y, 0), (x, 0)]), 0)]
    out = NumbaBackend().compile(g)([np.arange(4, dtype=np.float32)])[0]
    print(json.dumps({"stats": cache_stats(), "out": out.tolist()}))
""")


def _run(cache_dir, extra_env=None):
    env = dict(os.environ, NETJIT_CACHE_DIR=str(cache_dir), **(extra_env or {}))
    res = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def warm_dir(tmp_path_factory):
    """A cache directory after one cold compile in a subprocess."""
    d = tmp_path_factory.mktemp("xproc")
    first = _run(d)
    assert first["stats"]["misses"] == 1 and first["stats"]["numba_compiles"] == 1
    return d, first


def test_second_process_hits_the_disk_cache(warm_dir):
    d, first = warm_dir
    second = _run(d)
    assert second["stats"]["disk_hits"] == 1
    assert second["stats"]["misses"] == 0 and second["stats"]["numba_compiles"] == 0
    x = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(second["out"], np.tanh(x * x) + x, rtol=1e-6)


def _entries(d):
    return [p for p in d.glob("*/*") if (p / "segment.py").exists()]


def test_corrupt_entry_is_detected_deleted_and_recompiled(warm_dir, tmp_path):
    src, _ = warm_dir
    d = tmp_path / "copy"
    import shutil
    shutil.copytree(src, d)
    (entry,) = _entries(d)
    (nbc,) = list((entry / "__pycache__").glob("*.nbc"))
    nbc.write_bytes(nbc.read_bytes()[: len(nbc.read_bytes()) // 2])   # truncated object code
    out = _run(d)
    assert out["stats"]["corrupt"] == 1 and out["stats"]["numba_compiles"] == 1
    assert _run(d)["stats"]["disk_hits"] == 1      # rewritten whole: the next process hits


def test_numba_cache_dir_does_not_take_a_segments_files_out_of_its_entry(tmp_path):
    """Under NUMBA_CACHE_DIR numba wrote a segment's object code there, where the
    manifest did not check it: a damaged file failed every later compile."""
    d, numba_dir = tmp_path / "netjit", tmp_path / "numba"
    env = {"NUMBA_CACHE_DIR": str(numba_dir)}
    assert _run(d, env)["stats"]["numba_compiles"] == 1
    assert not [p for p in numba_dir.rglob("segment*")]
    (entry,) = _entries(d)
    (nbc,) = list((entry / "__pycache__").glob("*.nbc"))
    nbc.write_bytes(nbc.read_bytes()[: len(nbc.read_bytes()) // 2])
    out = _run(d, env)
    assert out["stats"]["corrupt"] == 1 and out["stats"]["numba_compiles"] == 1
    x = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(out["out"], np.tanh(x * x) + x, rtol=1e-6)
    assert _run(d, env)["stats"]["disk_hits"] == 1


def test_unreadable_manifest_counts_as_corrupt(warm_dir, tmp_path):
    import shutil
    d = tmp_path / "copy"
    shutil.copytree(warm_dir[0], d)
    (entry,) = _entries(d)
    (entry / "manifest.json").write_text("{not json")
    assert _run(d)["stats"]["corrupt"] == 1


def _graph(scale=2.0):
    g = Graph("inproc")
    x = g.add(Placeholder(np.float32, (None, None)), names=["x"])
    g.inputs.append(x)
    c = g.add(Const(ConstValue(np.float32(scale))))
    g.outputs = [(g.add(Mul(), [(x, 0), (c, 0)]), 0)]
    return g


def test_in_memory_cache_skips_the_disk(tmp_path):
    b = NumbaBackend(cache_dir=str(tmp_path))
    b.compile(_graph())
    before = cache_stats()
    exe = b.compile(_graph())
    after = cache_stats()
    assert after["memory_hits"] == before["memory_hits"] + 1
    assert after["disk_hits"] == before["disk_hits"] and after["misses"] == before["misses"]
    np.testing.assert_array_equal(exe([np.ones((2, 2), np.float32)])[0], np.full((2, 2), 2, np.float32))


def test_version_change_invalidates(monkeypatch):
    src = "x = 1"
    k1 = cache_mod.entry_key(src, [], "opts")
    monkeypatch.setattr(cache_mod, "versions", lambda: "netjit=9;numba=0.0;numpy=0;python=0")
    assert cache_mod.entry_key(src, [], "opts") != k1
    assert cache_mod.entry_key(src, [[(np.dtype("f4"), 1, False)]], "opts") != cache_mod.entry_key(src, [], "opts")


def test_disabled_cache_writes_nothing(tmp_path):
    exe = NumbaBackend(cache=False, cache_dir=str(tmp_path)).compile(_graph(3.0))
    np.testing.assert_array_equal(exe([np.ones((1, 2), np.float32)])[0], np.full((1, 2), 3, np.float32))
    assert not any(tmp_path.iterdir())


def test_disabled_by_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NETJIT_CACHE", "0")
    NumbaBackend(cache_dir=str(tmp_path)).compile(_graph(4.0))
    assert not any(tmp_path.iterdir())


def test_manifest_lists_source_and_object_code(warm_dir):
    (entry,) = _entries(warm_dir[0])
    manifest = json.loads((entry / "manifest.json").read_text())
    files = manifest["files"]
    assert "segment.py" in files and any(k.endswith(".nbc") for k in files) and any(k.endswith(".nbi") for k in files)
    assert len(manifest["hmac"]) == 64


NAMED_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import netjit as nj
    from netjit.backends.numba import cache_stats
    from netjit.config import SessionConfig
    net = nj.Net(sys.argv[1])                  # auto blob names carry the net name
    x = net.Placeholder("x", np.float32, (None, 6))
    h = net.Tanh(net.MatMul([x, net.Const(np.ones((6, 3), np.float32))]))
    net.Softmax(net.Mul([h, net.Const(1.75)]), "y")
    with nj.Session(net, config=SessionConfig(tiered=False)) as sess:
        out = sess.run("y", {"x": np.ones((2, 6), np.float32)})
    print(json.dumps({"stats": cache_stats(), "out": out.tolist()}))
""")


def _run_named(cache_dir, name):
    env = dict(os.environ, NETJIT_CACHE_DIR=str(cache_dir))
    res = subprocess.run([sys.executable, "-c", NAMED_SCRIPT, name], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def _twin_graph(name):
    """A segment graph whose blob names, like NetBuilder's auto names, carry ``name``."""
    g = Graph(f"{name}/cpu:0/s0")
    x = g.add(Placeholder(np.float32, (None, None)), names=[f"{name}/x"])
    g.inputs.append(x)
    t = g.add(Tanh(), [(g.add(Mul(), [(x, 0), (g.add(Const(ConstValue(np.float32(1.625)))), 0)]), 0)],
              names=[f"{name}/Tanh"])
    g.outputs = [(g.add(Add(), [(t, 0), (x, 0)], names=[f"{name}/out"]), 0)]
    return g


def test_identical_segments_of_differently_named_nets_share_one_compile(tmp_path):
    b = NumbaBackend(cache_dir=str(tmp_path))
    first = b.compile(_twin_graph("twin"))
    before = cache_stats()
    second = b.compile(_twin_graph("twin_2"))
    after = cache_stats()
    assert after["memory_hits"] == before["memory_hits"] + 1
    assert after["misses"] == before["misses"] and after["numba_compiles"] == before["numba_compiles"]
    assert second.key == first.key and second.cache_hit and not first.cache_hit
    assert "twin_2" not in second.module_source           # the keyed text names no net
    assert "'twin_2/cpu:0/s0'" in second.source and "%twin_2/Tanh" in second.source   # dumps do
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(second([x])[0], np.tanh(x * 1.625) + x, rtol=1e-6)


def test_a_differently_named_net_in_a_new_process_hits_the_disk(tmp_path):
    first = _run_named(tmp_path, "twin")
    assert first["stats"]["misses"] == 1 and first["stats"]["disk_hits"] == 0
    second = _run_named(tmp_path, "other_name")
    assert second["stats"]["disk_hits"] == 1
    assert second["stats"]["misses"] == 0 and second["stats"]["numba_compiles"] == 0
    np.testing.assert_allclose(second["out"], first["out"])


def test_threads_compiling_one_segment_compile_it_once():
    """Each thread compiles the same (new) segment: numba compiles it once."""
    import threading
    g = Graph("raced")
    x = g.add(Placeholder(np.float32, (None,)), names=["x"])
    g.inputs.append(x)
    y = g.add(Tanh(), [(g.add(Mul(), [(x, 0), (g.add(Const(ConstValue(np.float32(1.0078125))), []), 0)]), 0)])
    g.outputs = [(y, 0)]
    before = cache_stats()["numba_compiles"]
    barrier = threading.Barrier(3)
    outs = []

    def compile_one():
        barrier.wait()
        outs.append(NumbaBackend(cache=False).compile(g)([np.arange(3, dtype=np.float32)])[0])

    threads = [threading.Thread(target=compile_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache_stats()["numba_compiles"] - before == 1
    for out in outs:
        np.testing.assert_allclose(out, np.tanh(np.arange(3, dtype=np.float32) * 1.0078125), rtol=1e-6)
