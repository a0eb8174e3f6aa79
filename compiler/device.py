"""Device names and the ``nj.device(...)`` scope that places ops built inside it."""
from __future__ import annotations

import contextlib
import contextvars
import re
from dataclasses import dataclass
from typing import Iterator, Optional

from netjit.errors import InvalidArgumentError

_SCOPE: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("netjit_device", default=None)
_NAME = re.compile(r"/?(?:device:)?([A-Za-z]+):(\d+)\Z")


@dataclass(frozen=True)
class Device:
    """One local device: ``name`` is ``"cpu:0"``-style."""

    kind: str
    index: int

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.index}"

    def __str__(self) -> str:
        return self.name


def canonical_device(name: str) -> str:
    """Normalise ``"/cpu:0"``, ``"CPU:0"``, ``"/device:CPU:0"`` to ``"cpu:0"``."""
    m = _NAME.match(str(name).strip())
    if not m:
        raise InvalidArgumentError(f"bad device name {name!r}: expected '<kind>:<index>', e.g. 'cpu:0'")
    return f"{m.group(1).lower()}:{int(m.group(2))}"


@contextlib.contextmanager
def device(name: Optional[str]) -> Iterator[Optional[str]]:
    """Place the ops built inside this scope on device ``name`` (None: unplaced)."""
    dev = None if name is None else canonical_device(name)
    token = _SCOPE.set(dev)
    try:
        yield dev
    finally:
        _SCOPE.reset(token)


def current_device() -> Optional[str]:
    """The device of the innermost ``nj.device`` scope, or None."""
    return _SCOPE.get()
