"""Blob stores: the named blobs of Caffe2-style workspaces, in a tree of scopes.

Visibility follows ``caffe2/core/workspace.cc``: a child reads every blob of
its ancestors; writing a name that already exists in an ancestor writes
through to that ancestor's blob; a name that exists nowhere is created in the
child and dies with it. Removing a blob never touches the parent.

Variables (``net.Variable`` / ``Assign``) follow the same rule in a per
workspace store (``WorkspaceVariables``): a variable first initialised in a
child lives in that child; one an ancestor already holds is shared.
"""
from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import Iterator, Optional

import numpy as np

from netjit.config import SessionConfig
from netjit.errors import InvalidArgumentError, NotFoundError

#: The value of a blob that exists but was never written (Caffe2's CreateBlob).
UNSET = object()


def as_blob_value(name: str, value) -> np.ndarray:
    """A fed value as the array a workspace stores (copied, as Caffe2's FeedBlob copies).

    Python floats become float32 and strings host (object) values, as ``Net.Const`` does.
    """
    if value is None:
        raise InvalidArgumentError(f"cannot feed blob {name!r}: None is not a value")
    try:
        if isinstance(value, np.ndarray):
            arr = np.array(value, copy=True)
        elif isinstance(value, float) or (isinstance(value, (list, tuple)) and not isinstance(value, np.generic)
                                          and np.asarray(value).dtype == np.float64):
            arr = np.asarray(value, dtype=np.float32)
        else:
            arr = np.array(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"cannot feed blob {name!r}: {exc}") from None
    if arr.dtype.kind in "USO":
        arr = arr.astype(object)
    return arr


def _owner(start, key, table: str):
    """The first of ``start`` and its ancestors whose ``table`` dict holds ``key``."""
    node = start
    while node is not None:
        if key in getattr(node, table):
            return node
        node = node.parent
    return None


class WorkspaceVariables:
    """The state store of one workspace: variables with write-through to ancestors."""

    def __init__(self, parent: Optional["WorkspaceVariables"]):
        self.parent = parent
        self.values: dict[tuple, np.ndarray] = {}
        self._lock = threading.Lock()

    def read(self, key: tuple, initial: np.ndarray) -> np.ndarray:
        owner = _owner(self, key, "values")
        if owner is not None:
            return owner.values[key]
        with self._lock:
            return self.values.setdefault(key, np.array(initial, copy=True))

    def write(self, key: tuple, value: np.ndarray) -> None:
        (_owner(self, key, "values") or self).values[key] = value

    def update(self, key: tuple, initial: np.ndarray, fn) -> np.ndarray:
        """Store and return ``fn(current value)`` atomically (see ``VariableStore.update``)."""
        owner = _owner(self, key, "values") or self
        with owner._lock:
            current = owner.values.get(key)
            new = owner.values[key] = fn(np.array(initial, copy=True) if current is None else current)
            return new


class BlobStore:
    """Named blobs with an optional parent: the data half of a Caffe2 ``Workspace``
    (whose docstring gives the parameters)."""

    def __init__(self, parent: Optional["BlobStore"] = None, config: Optional[SessionConfig] = None):
        self.parent = parent
        self.root: BlobStore = self if parent is None else parent.root
        self._blobs: dict[str, object] = {}
        self.variables = WorkspaceVariables(None if parent is None else parent.variables)
        #: Per-workspace instances of host ops (Python op builders), never inherited.
        self.op_instances: dict = {}
        if parent is None:
            self.config = config or SessionConfig()
        else:
            if config is not None:
                raise InvalidArgumentError("a child workspace shares its root's config")
            self.config = parent.config

    # -- blobs ------------------------------------------------------------
    def lookup(self, name: str):
        """The value of ``name`` (searching ancestors), or UNSET if it has none."""
        ws = self
        while ws is not None:
            value = ws._blobs.get(name, UNSET)
            if value is not UNSET:
                return value
            ws = ws.parent
        return UNSET

    def gather(self, names) -> list:
        """The values of ``names`` (UNSET where missing): the net runner's hot path."""
        if self.parent is None:
            get = self._blobs.get
            return [get(n, UNSET) for n in names]
        return [self.lookup(n) for n in names]

    def store_many(self, names, values) -> None:
        """``store`` each name; a root workspace takes them in one dict update."""
        if self.parent is None:
            self._blobs.update(zip(names, values))
        else:
            for name, value in zip(names, values):
                self.store(name, value)

    def has_blob(self, name) -> bool:
        """True if ``name`` exists here or in an ancestor (even if never written)."""
        return _owner(self, str(name), "_blobs") is not None

    def create_blob(self, name) -> None:
        """Make ``name`` exist without a value, unless it exists already (here or above)."""
        if _owner(self, str(name), "_blobs") is None:
            self._blobs[str(name)] = UNSET

    def feed_blob(self, name, value) -> None:
        """Store ``value`` under ``name``: in the ancestor that has it, else locally."""
        self.store(str(name), as_blob_value(str(name), value))

    def store(self, name: str, value) -> None:
        """Write an already-converted value with Caffe2's write-through rule."""
        (_owner(self, name, "_blobs") or self)._blobs[name] = value

    def fetch_blob(self, name) -> np.ndarray:
        """A copy of the value of ``name`` (Caffe2's FetchBlob copies: changing it in place
        changes nothing stored); NotFoundError if no workspace in the chain has it."""
        value = self.lookup(str(name))
        if value is UNSET:
            state = "exists but was never written" if self.has_blob(name) else "does not exist"
            raise NotFoundError(f"Can't find blob {str(name)!r}: it {state} in this workspace")
        return value.copy() if isinstance(value, np.ndarray) else value

    def remove_blob(self, name) -> bool:
        """Remove a local blob; never touches the parent. True if one was removed."""
        return self._blobs.pop(str(name), None) is not None

    def local_blobs(self) -> list[str]:
        return list(self._blobs)

    def blob_names(self) -> list[str]:
        """Local names, then ancestors' (Caffe2's ``Blobs()``)."""
        names = dict.fromkeys(self._blobs)
        if self.parent is not None:
            names.update(dict.fromkeys(self.parent.blob_names()))
        return list(names)

    @property
    def blobs(self) -> "BlobsView":
        """A live mapping name -> value over this workspace and its ancestors."""
        return BlobsView(self)

    def create_child(self) -> "BlobStore":
        """A child: sees these blobs; its new blobs die with it (same class as this one)."""
        return type(self)(self)


class BlobsView(MutableMapping):
    """``ws.blobs``: read, feed and delete blobs with workspace rules."""

    def __init__(self, ws: BlobStore):
        self._ws = ws

    def __getitem__(self, name):
        value = self._ws.lookup(str(name))
        if value is UNSET:
            raise NotFoundError(f"Can't find blob {str(name)!r}")
        return value

    def __setitem__(self, name, value) -> None:
        self._ws.feed_blob(name, value)

    def __delitem__(self, name) -> None:
        if not self._ws.remove_blob(name):
            raise NotFoundError(f"blob {str(name)!r} is not local to this workspace")

    def __iter__(self) -> Iterator[str]:
        return (n for n in self._ws.blob_names() if self._ws.lookup(n) is not UNSET)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name) -> bool:
        return self._ws.lookup(str(name)) is not UNSET
