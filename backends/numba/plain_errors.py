"""Keep numba from swapping ``sys.stdout`` while it compiles.

With colorama installed, numba formats each error message it builds, and it
builds and catches many while compiling any kernel, inside colorama's
``init()``/``deinit()``. Those replace ``sys.stdout`` and ``sys.stderr`` and
then put back what they saw. On netjit's background compile thread that
races with the application's own redirection (``contextlib.redirect_stdout``,
pytest's capture): a redirection is undone, or a closed stream comes back.
Under numba's default colour scheme, "no_color", the highlighting adds only a
bold escape code, so netjit replaces it with plain text.
"""
from __future__ import annotations

_PLAIN = None


def plain_error_messages() -> None:
    """Plain error messages, unless the user chose a numba colour scheme (cheap to repeat)."""
    global _PLAIN
    from numba.core import config, errors
    if config.COLOR_SCHEME != "no_color":
        return
    if _PLAIN is None:
        def same(self, msg):
            return msg
        names = ("code", "errmsg", "filename", "indicate", "highlight", "reset")
        _PLAIN = type("PlainColorScheme", (errors._DummyColorScheme,), dict.fromkeys(names, same))()
    errors._termcolor_inst = _PLAIN
