"""Keep numba from swapping ``sys.stdout`` while it compiles.

With colorama installed, numba formats each error message it builds, and it
builds and catches many while compiling any kernel, inside colorama's
``init()``/``deinit()``. Those replace ``sys.stdout`` and ``sys.stderr`` and
then put back what they saw. On netjit's background compile thread that
races with the application's own redirection (``contextlib.redirect_stdout``,
pytest's capture): a redirection is undone, or a closed stream comes back.
Under numba's default colour scheme, "no_color", the highlighting adds only a
bold escape code, so netjit makes it plain text. numba's modules each keep the
one scheme instance from import time, so the instance itself is changed.
"""
from __future__ import annotations


def plain_error_messages() -> None:
    """Plain error messages, unless the user chose a numba colour scheme (cheap to repeat)."""
    from numba.core import config, errors     # deferred: numba (about 0.9 s); called only to compile
    scheme = errors.termcolor()
    if config.COLOR_SCHEME == "no_color" and hasattr(scheme, "_markup"):
        scheme._markup = _plain    # an instance attribute: the class stays as numba has it


def _plain(msg, color=None, style=None):
    return msg
