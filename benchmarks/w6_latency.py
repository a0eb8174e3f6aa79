"""W6: time to first result of a 200-op chain in a fresh process (run as a script).

Usage: python -m benchmarks.w6_latency MODE  (MODE: numba | tiered | reference | pytensor)
Prints one JSON line: import time of netjit (of PyTensor in mode pytensor),
and the time from then to the first result. The caller chooses the cache
directories (NETJIT_CACHE_DIR; PyTensor's compiledir in PYTENSOR_FLAGS).
"""
import json
import sys
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402

if sys.argv[1:] == ["pytensor"]:
    import pytensor  # noqa: E402,F401
else:
    import netjit as nj  # noqa: E402

t_import = time.perf_counter() - t0


def main(mode: str) -> None:
    from benchmarks.workloads import w6_net, w6_numpy
    x = np.linspace(-1, 1, 1024).astype(np.float32)
    t1 = time.perf_counter()
    if mode == "pytensor":
        from benchmarks import pytensor_graphs
        out = pytensor_graphs.w6()(x=x)
        first = full = time.perf_counter() - t1
        np.testing.assert_allclose(out, w6_numpy(x), rtol=1e-4, atol=1e-5)
        print(json.dumps({"import_s": t_import, "first_s": first, "full_s": full}))
        return
    net, y, feeds = w6_net()
    if mode == "tiered":
        # The session default: the first call answers from the reference
        # backend, passes and numba run on the compile thread after it.
        prog = nj.compile(net, y, feeds=feeds, backend="numba", tiered=True)
        out = prog(x)
        first = time.perf_counter() - t1
        assert prog.wait_compiled() == 1
        out2 = prog(x)
        full = time.perf_counter() - t1
        np.testing.assert_allclose(out2, out, rtol=1e-4, atol=1e-5)
    else:
        prog = nj.compile(net, y, feeds=feeds, backend=mode, tiered=False)  # fully compiled
        out = prog(x)
        first = full = time.perf_counter() - t1
    np.testing.assert_allclose(out, w6_numpy(x), rtol=1e-4, atol=1e-5)
    print(json.dumps({"import_s": t_import, "first_s": first, "full_s": full}))


if __name__ == "__main__":
    main(sys.argv[1])
