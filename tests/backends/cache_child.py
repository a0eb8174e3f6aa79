"""A fresh process for tests/backends/test_cache_trust.py: ``python cache_child.py SCENARIO...``.

Each scenario is ``name:c:cache_dir[:dump_dir]`` and compiles one numba segment
and one native segment with the constant ``c`` (give each scenario of one
process its own, or the memory cache answers); the last line printed is JSON: per scenario,
the cache counters' change, whether the answers were right, the CacheWarnings
and the seconds taken. With ``--uid N`` it drops to that user (and group) after
importing netjit and warming numba without a cache: the interpreter's own
library may not be readable by that user, the cache must be used only as it.
"""
import json
import os
import sys
import time
import warnings

import numpy as np

from netjit.backends.common import cache as store
from netjit.backends.numba import NumbaBackend
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Add, Const, ConstValue, Mul, Placeholder, ReduceSum, Tanh
from netjit.errors import CacheWarning


def graph(c: float, reduce: bool) -> Graph:
    g = Graph(f"trust_{'numba' if reduce else 'native'}")
    x = g.add(Placeholder(np.float32, (4096,)), names=["x"])
    g.inputs.append(x)
    k = g.add(Const(ConstValue(np.float32(c))))
    y = g.add(Add(), [(g.add(Tanh(), [(g.add(Mul(), [(x, 0), (k, 0)]), 0)]), 0), (x, 0)])
    g.outputs = [(g.add(ReduceSum(axes=(0,)), [(y, 0)]) if reduce else y, 0)]
    return g


def run(c: float, cache_dir: str, dump_dir=None) -> bool:
    x = np.linspace(-1, 1, 4096, dtype=np.float32)
    want = np.tanh(x * np.float32(c)) + x
    ok = True
    for reduce in (True, False):
        exe = NumbaBackend().compile(graph(c, reduce), cache_dir=cache_dir, dump_dir=dump_dir)
        got = exe([x])[0]
        ok = ok and np.allclose(got, want.sum() if reduce else want, rtol=1e-4, atol=1e-3)
    return ok


def main(argv) -> dict:
    if argv[0] == "--uid":
        for reduce in (True, False):     # imports everything a compile needs, touches no cache
            NumbaBackend().compile(graph(0.25, reduce), cache=False)
        uid = int(argv[1])
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        argv = argv[2:]
    report = {}
    for spec in argv:
        name, c, cache_dir, dump_dir = (spec.split(":") + [""])[:4]
        before = dict(store.STATS)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ok = run(float(c), cache_dir, dump_dir or None)
        report[name] = {"ok": bool(ok), "seconds": round(time.perf_counter() - t0, 3),
                        "stats": {k: store.STATS[k] - before[k] for k in before},
                        "warnings": [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]}
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
