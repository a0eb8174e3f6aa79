"""W6: time to first result of a 200-op chain in a fresh process (run as a script).

Usage: python -m benchmarks.w6_latency MODE  (MODE: numba | tiered | reference)
Prints one JSON line: import time of netjit, and the time from then to the
first result. The caller chooses the cache directory (NETJIT_CACHE_DIR).
"""
import json
import sys
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402

import netjit as nj  # noqa: E402

t_import = time.perf_counter() - t0


def main(mode: str) -> None:
    from benchmarks.workloads import w6_net, w6_numpy
    x = np.linspace(-1, 1, 1024).astype(np.float32)
    t1 = time.perf_counter()
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
