"""What compiled code depends on besides the IR, known without loading LLVM.

A warm start must not import ``llvmlite.binding`` (30-45 ms, mostly loading
its shared library) only to name the CPU in a cache key. On Linux,
``/proc/cpuinfo`` names it (family, model, feature flags); elsewhere LLVM is
asked (``jit``).
"""
from __future__ import annotations

import platform

_CACHE: dict = {}
_FIELDS = ("vendor_id", "cpu family", "model", "flags")


def _cpuinfo() -> dict:
    """The first processor's fields of /proc/cpuinfo, or {} where there is none."""
    try:
        with open("/proc/cpuinfo") as fh:
            text = fh.read().split("\n\n", 1)[0]
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in fields.items() if k.strip() in _FIELDS}


def identity() -> str:
    """The host for cache keys: llvmlite's version (it pins LLVM's), the machine and the CPU."""
    if "identity" not in _CACHE:
        import llvmlite            # the package alone: its version, not its library
        info = _cpuinfo()
        if "flags" in info:
            cpu = ";".join(f"{k}={info.get(k, '')}" for k in _FIELDS)
        else:
            from . import jit      # deferred: llvmlite's binding, only where /proc/cpuinfo says nothing
            cpu = jit.host()
        _CACHE["identity"] = f"llvmlite={llvmlite.__version__};{platform.machine()};{cpu}"
    return _CACHE["identity"]


def vector_bytes() -> int:
    """The SIMD width emitted code uses: 32 bytes with AVX (also on AVX-512
    machines, where 512-bit code lowers the clock), else 16."""
    if "vector_bytes" not in _CACHE:
        flags = _cpuinfo().get("flags")
        if flags is not None:
            avx = "avx" in flags.split()
        else:
            from . import jit      # deferred: as above
            avx = jit.has_avx()
        _CACHE["vector_bytes"] = 32 if avx else 16
    return _CACHE["vector_bytes"]
