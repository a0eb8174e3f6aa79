"""Caffe2-style workspaces: a blob store that runs nets, steps and plans.

``BlobStore`` (``blob_store``) holds the blobs and variables with Caffe2's
visibility rules; a ``Workspace`` adds what running needs: a root owns the
compiled nets of its tree (``net_runner.NetCache``), and ``run`` hands a net,
step or plan to the plan executor.
"""
from __future__ import annotations

from typing import Optional

from netjit.config import SessionConfig

from .blob_store import UNSET, BlobStore, BlobsView, as_blob_value  # noqa: F401  (re-exported)
from .net_runner import NetCache
from .plan_executor import run_runnable


class Workspace(BlobStore):
    """Named blobs with an optional parent (Caffe2's ``Workspace``).

    Parameters
    ----------
    parent : Workspace, optional
        A child sees its parent's blobs and writes through to those it has.
    config : SessionConfig, optional
        Compile options (backend, opt level) of a root workspace; children
        share their root's options and compiled nets.
    """

    def __init__(self, parent: Optional["Workspace"] = None, config: Optional[SessionConfig] = None):
        super().__init__(parent, config)
        if parent is None:
            self.net_cache = NetCache(self.config)

    def run(self, runnable) -> None:
        """Run a Net once, or an ExecutionStep, or a Plan (steps in order)."""
        run_runnable(self, runnable)

    def __repr__(self) -> str:
        depth, ws = 0, self.parent
        while ws is not None:
            depth, ws = depth + 1, ws.parent
        return f"<Workspace depth={depth}: {len(self._blobs)} local blobs>"
