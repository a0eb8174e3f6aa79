"""LLVM through llvmlite alone: optimise IR to host object code, load object code.

No numba here: a process that loads a cached native segment imports
llvmlite's binding (about 30 ms) and nothing else. One MCJIT engine per
process holds every loaded object; libm symbols (``expf``, ``tanh``) resolve
against the running process.
"""
from __future__ import annotations

import threading

import llvmlite
import llvmlite.binding as llvm

_LOCK = threading.Lock()
_STATE: dict = {}


def _machine():
    if "tm" not in _STATE:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        target = llvm.Target.from_triple(llvm.get_process_triple())
        features = llvm.get_host_cpu_features().flatten()
        _STATE["features"] = features
        _STATE["tm"] = target.create_target_machine(cpu=llvm.get_host_cpu_name(), features=features,
                                                    opt=3, reloc="pic", codemodel="default")
    return _STATE["tm"]


def host() -> str:
    """What compiled code depends on besides the IR: LLVM, the CPU and its features."""
    with _LOCK:
        _machine()
        return (f"llvmlite={llvmlite.__version__};llvm={'.'.join(map(str, llvm.llvm_version_info))};"
                f"triple={llvm.get_process_triple()};cpu={llvm.get_host_cpu_name()};{_STATE['features']}")


def has_avx() -> bool:
    """Whether LLVM sees AVX on this CPU (``host`` asks /proc/cpuinfo first)."""
    with _LOCK:
        _machine()
        return "+avx" in _STATE["features"].split(",")


def compile_ir(text: str) -> bytes:
    """Object code for an IR module: verified, optimised at O2 without LLVM's
    loop and SLP vectorisers (the IR is vector code already)."""
    with _LOCK:
        tm = _machine()
        mod = llvm.parse_assembly(text)
        mod.verify()
        pto = llvm.create_pipeline_tuning_options(speed_level=2)
        pto.loop_vectorization = False
        pto.slp_vectorization = False
        pb = llvm.create_pass_builder(tm, pto)
        pb.getModulePassManager().run(mod, pb)
        return tm.emit_object(mod)


def load(obj: bytes, symbol: str) -> int:
    """Load object code into the process's engine; the address of ``symbol``.

    Every object names its function after its cache key (``compile_native``):
    MCJIT resolves names across every object it holds.
    """
    return load_many(obj, [symbol])[0]


def load_many(obj: bytes, symbols) -> list:
    """Load object code once; the addresses of ``symbols``."""
    with _LOCK:
        tm = _machine()
        if "engine" not in _STATE:
            _STATE["engine"] = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
        engine = _STATE["engine"]
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        addresses = [engine.get_function_address(symbol) for symbol in symbols]
        missing = [s for s, a in zip(symbols, addresses) if not a]
        if missing:
            raise RuntimeError(f"symbols {missing} not found in the loaded object")
        return addresses
