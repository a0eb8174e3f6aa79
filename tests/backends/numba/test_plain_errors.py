"""Compiling leaves sys.stdout alone: numba's error highlighting stays off."""
import numpy as np
from numba.core import config, errors

from netjit.backends.numba import NumbaBackend
from netjit.backends.numba.plain_errors import plain_error_messages
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Exp, Placeholder


def _compile():
    g = Graph("plain")
    x = g.add(Placeholder(np.float32, (None,)), names=["x"])
    g.inputs.append(x)
    g.outputs = [(g.add(Exp(), [(x, 0)]), 0)]
    return NumbaBackend(native=False).compile(g)


def test_compiling_makes_numba_messages_plain():
    # with colorama installed, numba's default scheme wraps every message it formats
    # in colorama's init()/deinit(), which reassign sys.stdout; its modules keep
    # the scheme they found at import
    from numba.core.typing import typeof
    _compile()
    for scheme in (errors.termcolor(), typeof._termcolor):
        assert scheme.errmsg("boom") == "boom" and scheme.code("x = 1") == "x = 1"


def test_a_chosen_colour_scheme_is_kept(monkeypatch):
    class Chosen:
        def _markup(self, msg, color=None, style=None):
            return "<" + msg + ">"

    monkeypatch.setattr(config, "COLOR_SCHEME", "dark_bg")
    monkeypatch.setattr(errors, "_termcolor_inst", Chosen())
    plain_error_messages()
    assert errors.termcolor()._markup("x") == "<x>"
