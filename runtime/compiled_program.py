"""``nj.compile``: compile-then-run for one fixed signature."""
from __future__ import annotations

from typing import Any, Sequence

from netjit.compiler.frontend.net import Net
from netjit.config import SessionConfig
from netjit.errors import InvalidArgumentError, NotFoundError

from .session import Session


class Program:
    """A net compiled for fixed fetches and feeds; call it with the feed values.

    ``program(x, y)`` takes the feeds positionally in the order given to
    ``nj.compile``, or by name: ``program(x=..., y=...)``.
    """

    def __init__(self, net: Net, fetches: Any, feeds: Sequence = (), **options):
        self.net = net
        self.feeds = [str(f) for f in ([feeds] if isinstance(feeds, str) else feeds)]
        self.session = Session(net, _config(options))
        call = self.session.callable_for(fetches, self.feeds, by_name=self._by_name)
        # The call itself is the (generated) callable: no extra Python frame per call.
        self.__class__ = type("Program", (Program,), {"__call__": staticmethod(call), "__slots__": ()})
        self._call = call

    def __call__(self, *values, **named):  # replaced per instance in __init__
        return self._call(*values, **named)

    def _by_name(self, values: tuple, named: dict):
        twice = sorted(f for f in self.feeds[:len(values)] if f in named)
        if twice:
            raise InvalidArgumentError(f"feeds {twice} given both by position and by name")
        named = dict(named)
        values = values + tuple(named.pop(f) for f in self.feeds[len(values):] if f in named)
        if named:
            raise NotFoundError(f"unknown feeds {sorted(named)}; this program takes {self.feeds}")
        return self._call(*values)

    def wait_compiled(self, timeout_s=None) -> int:
        """Block until the numba tier runs this program (see ``Session.wait_compiled``)."""
        return self.session.wait_compiled(timeout_s)

    def __repr__(self) -> str:
        return f"<Program of net {self.net.name!r} feeds={self.feeds}>"


def compile(net: Net, fetches: Any, feeds: Sequence = (), **options) -> Program:
    """Compile ``net`` for ``fetches`` given ``feeds``; returns a callable Program."""
    return Program(net, fetches, feeds, **options)


def _config(options: dict) -> SessionConfig:
    unknown = sorted(set(options) - set(SessionConfig.__dataclass_fields__))
    if unknown:
        raise InvalidArgumentError(f"nj.compile: unknown options {unknown}; the options are SessionConfig's: "
                                   f"{sorted(SessionConfig.__dataclass_fields__)}")
    return SessionConfig(**options)
