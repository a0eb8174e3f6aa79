"""Generated fast paths: feed checks and callables as straight-line Python.

A cached run must cost little more than the executable it calls, so the
checks a step needs (type, dtype, rank, static dims of each feed) are
generated once as one boolean expression, and ``make_callable`` generates
the whole call: check the feeds inline, call the executable with the inputs
in its order, pick the fetches. Anything the expression refuses (another
dtype, a list, a closed session) takes the general path.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np



def feed_tests(checks, names) -> tuple[list[str], dict]:
    """Boolean expressions testing each value (named by ``names``) against ``checks``."""
    env = {"ndarray": np.ndarray}
    tests = []
    for i, ((_, t, dtype, ndim, dims), v) in enumerate(zip(checks, names)):
        env[f"d{i}"] = dtype
        tests.append(f"type({v}) is ndarray and {v}.dtype is d{i}")
        if ndim is not None and len(dims) == ndim:
            tests.append(f"{v}.shape == {tuple(t.shape)!r}")
        elif ndim is not None:
            tests.append(f"{v}.ndim == {ndim}")
            tests += [f"{v}.shape[{a}] == {d}" for a, d in dims]
    return tests, env


def _define(src: str, env: dict, name: str) -> Callable:
    exec(compile(src, f"<netjit {name}>", "exec"), env)
    return env[name]


def acceptor(checks) -> Callable:
    """``accepts(values)``: True if every value passes its feed's checks."""
    tests, env = feed_tests(checks, [f"values[{i}]" for i in range(len(checks))])
    body = "\n            and ".join([f"len(values) == {len(checks)}"] + tests)
    return _define(f"def accepts(values):\n    return ({body})\n", env, "accepts")


def direct_callable(step, session, state, slow: Callable, rebuild: Callable, single: bool,
                    by_name: Optional[Callable] = None) -> Callable:
    """``call(*values)`` running a direct (single-segment) step with everything inlined.

    With ``by_name`` the function also takes keyword feeds: ``call(x=...)`` returns
    ``by_name(values, named)``.
    """
    n = len(step.checks)
    names = [f"v{i}" for i in range(n)]
    tests, env = feed_tests(step.checks, names)
    env.update(session=session, exe=step.exe.fast_call, state=state, slow=slow, rebuild=rebuild, by_name=by_name)
    step.exe.on_compiled(lambda compiled: env.__setitem__("exe", compiled.fast_call))  # its global
    args = names if step.args is None else [names[i] for i in step.args]
    call = f"exe([{', '.join(args)}], state)"
    # fetched values that are a variable's memory are copied (``VariableStore.unalias``);
    # a session without variables pays one dict test
    lines = [f"out = {call}", "if state.roots:", "    out = state.unalias(out)"]
    if step.pick is None:
        lines.append("return out[0]" if single else "return rebuild(out)")
    else:
        picked = ", ".join(f"out[{i}]" if i >= 0 else names[~i] for i in step.pick)
        lines.append(f"return [{picked}][0]" if single else f"return rebuild([{picked}])")
    cond = " and ".join(tests + ["not session._closed"])
    src = ["def call(*values, **named):", "    if named:", "        return by_name(values, named)"] \
        if by_name is not None else ["def call(*values):"]
    src.append(f"    if len(values) == {n}:")
    if n:
        src.append(f"        {', '.join(names)}{',' if n == 1 else ''} = values")
    src.append(f"        if {cond}:")
    src += [f"            {line}" for line in lines]
    src.append("    return slow(values)")
    return _define("\n".join(src) + "\n", env, "call")
