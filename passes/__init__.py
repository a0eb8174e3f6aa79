"""netjit.passes: the pass registry, pass manager, instruments and built-in passes.

Write a pass::

    from netjit.passes import register_pass, Phase

    @register_pass("my_pass", phase=Phase.PRE_PLACEMENT, opt_level=2, after=["simplify"])
    def my_pass(graph, ctx):
        \"\"\"Foo(Foo(x)) -> Foo(x).\"\"\"
        ...            # mutate graph in place
        return changed

Run a phase: ``run_phase(graph, Phase.PRE_PLACEMENT, make_context(config))``.
Ship passes in a package with an entry point in the ``netjit.passes`` group.
Bisect, which drives the whole pipeline, sits above it: ``netjit.bisect``
(``netjit.compiler.bisect``).
"""
from .context import AnalysisCache, Application, PassContext, make_context
from .instruments import (DumpInstrument, PassInstrument, TimingInstrument,
                          VerifyInstrument)
from .compare import outputs_differ
from .manager import PassManager, run_pass, run_phase, select
from .options import PassOptions
from .phase import Phase
from .plugins import ensure_plugins, plugin_errors
from .registry import REGISTRY, PassInfo, register_pass

# The built-in passes register themselves on import, in their default order.
from . import prune, fold_constants, simplify, cse, dce, fuse_elementwise  # noqa: E402,F401
from . import expand_composites, prepack_weights  # noqa: E402,F401  (numba backend's SEGMENT passes)

# Tools, not the compile path: imported on first use.
_LAZY = {"PassRecord": "listing", "list_passes": "listing"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["register_pass", "Phase", "PassContext", "PassOptions", "make_context",
           "PassManager", "run_phase", "run_pass", "select", "list_passes", "PassRecord", "PassInfo",
           "PassInstrument", "TimingInstrument", "VerifyInstrument", "DumpInstrument",
           "Application", "AnalysisCache", "plugin_errors", "ensure_plugins",
           "outputs_differ", "REGISTRY"]
