"""The pass manager: selects a phase's passes from the options and runs them.

Selection: required passes always; otherwise a pass runs when its opt level
is at most the requested one and it is not disabled, or when it is enabled by
name. ``order`` options add ordering constraints. A phase runs once, and again
while a pass registered with ``fixed_point=True`` (or one that called
``ctx.request_rerun()``) changed the graph, up to ``max_iterations``.
"""
from __future__ import annotations

from itertools import pairwise
from typing import Optional

from netjit.errors import InvalidArgumentError, NotFoundError, PassError

from .context import Application, PassContext, make_context
from .instruments import broken_message
from .phase import Phase
from .plugins import ensure_plugins
from .registry import REGISTRY, PassInfo, PassRegistry


def _check_names(registry: PassRegistry, options) -> None:
    named = set(options.enabled) | set(options.disabled) | set(options.order) | set(options.pass_options)
    unknown = sorted(named - set(registry.passes))
    if unknown:
        raise NotFoundError(f"unknown pass(es) {unknown} in the pass options; registered "
                            f"passes: {sorted(registry.passes)}")
    required = sorted(n for n in options.disabled if registry.passes[n].required)
    if required:
        raise InvalidArgumentError(f"pass(es) {required} are required for correctness and "
                                   "cannot be disabled")
    for name, opts in options.pass_options.items():
        bad = sorted(set(opts) - set(registry.passes[name].options))
        if bad:
            raise InvalidArgumentError(f"pass {name!r} has no option(s) {bad}; its options are "
                                       f"{sorted(registry.passes[name].options)}")


def select(phase: Phase, options, registry: PassRegistry = REGISTRY,
           backend: Optional[str] = None) -> list[PassInfo]:
    """The passes of ``phase`` that ``options`` ask for on ``backend``, in run order."""
    ensure_plugins()
    _check_names(registry, options)
    ordered = registry.order(phase, list(pairwise(options.order)))
    return [p for p in ordered if p.runs_on(backend) and (
            p.required or p.name in options.enabled
            or (p.opt_level <= options.opt_level and p.name not in options.disabled))]


class PassManager:
    """Runs phases over graphs with one PassContext."""

    def __init__(self, ctx: PassContext, registry: PassRegistry = REGISTRY):
        self.ctx = ctx
        self.registry = registry

    def run_phase(self, graph, phase) -> bool:
        """Run ``phase`` on ``graph`` in place; True if any pass changed it."""
        phase = Phase.parse(phase)
        ctx = self.ctx
        passes = select(phase, ctx.options, self.registry, ctx.backend)
        if not passes:  # nothing to run: no dumps, no verification of a phase that does nothing
            return False
        for inst in ctx.instruments:
            inst.enter_phase(graph, phase, ctx)
        changed_any = False
        for iteration in range(1, ctx.options.max_iterations + 1):
            again = []
            for info in passes:
                ctx.rerun_requested = False
                if self._apply(graph, info, phase, iteration):
                    changed_any = True
                    if info.fixed_point or ctx.rerun_requested:
                        again.append(info.name)
            if not again:
                break
        else:
            raise PassError(f"phase {phase.name} of graph {graph.name!r} did not reach a fixed "
                            f"point after {ctx.options.max_iterations} iterations; passes still "
                            f"changing it: {again}")
        for inst in ctx.instruments:
            inst.exit_phase(graph, phase, ctx)
        return changed_any

    def _apply(self, graph, info: PassInfo, phase: Phase, iteration: int) -> bool:
        ctx = self.ctx
        app = Application(len(ctx.history) + 1, info, phase, iteration, graph.name)
        ctx.history.append(app)
        limit = ctx.options.bisect_limit
        if limit is not None and app.index > limit and not info.required:
            app.skipped = True
            ctx.logger.info("bisect limit %d: not running application %d (%s, %s)",
                            limit, app.index, info.name, phase.name)
            return False
        for inst in ctx.instruments:
            inst.run_before_pass(graph, app, ctx)
        ctx.current = info
        size = len(graph)
        try:
            app.changed = info(graph, ctx)
        except PassError:
            raise
        except Exception as exc:  # any bug in a pass: say which pass, keep the cause
            raise PassError(broken_message(app, ctx, graph, f"it raised {type(exc).__name__}: "
                                                            f"{exc}")) from exc
        finally:
            ctx.current = None
        if not app.changed and size != len(graph):
            ctx.logger.warning("pass %r changed graph %r but returned False; treating it as "
                               "changed", info.name, graph.name)
            app.changed = True  # stale analyses would blame a later pass
        if app.changed:
            ctx.analyses.invalidate()
        for inst in ctx.instruments:
            inst.run_after_pass(graph, app, ctx)
        return app.changed


def run_phase(graph, phase, ctx: PassContext) -> bool:
    """Run one phase of passes over ``graph`` in place; True if it changed."""
    return PassManager(ctx).run_phase(graph, phase)


def run_pass(graph, name: str, ctx: PassContext = None) -> bool:
    """Apply the one pass ``name`` (with the context's instruments); True if it changed.

    For pass tests and tools: no selection, no ordering, no fixed point.
    """
    ctx = ctx if ctx is not None else make_context()
    ensure_plugins()
    info = REGISTRY.get(name)
    for inst in ctx.instruments:
        inst.enter_phase(graph, info.phase, ctx)
    changed = PassManager(ctx)._apply(graph, info, info.phase, 1)
    for inst in ctx.instruments:
        inst.exit_phase(graph, info.phase, ctx)
    return changed
