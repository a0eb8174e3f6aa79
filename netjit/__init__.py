"""netjit: a graph compiler and session runtime for nets of tensor operators.

Build a net Caffe2 style (ops over named blobs) and run it TensorFlow style
(feeds in, fetches out) or compile it once with ``nj.compile``.

The TensorFlow-style core (``Net``, ``Session``, ``compile``) loads with the
package. The Caffe2 orchestration (workspaces, steps, tasks, NetBuilder),
saved nets and run metadata load on first use (PEP 562), so a program that
never touches them does not pay for importing them.
"""
from .version import __version__  # noqa: F401

import importlib

from . import errors  # noqa: F401
from .config import RunOptions, SessionConfig
from netjit.compiler.device import Device, device
from netjit.compiler.frontend.net import BlobReference, Net
from netjit.runtime.compiled_program import Program, compile
from netjit.runtime.session import Session

#: Public names loaded on first access: name -> module that defines it.
_LAZY = {
    "load": "netjit.compiler.frontend.loading",
    **dict.fromkeys(["bisect", "BisectResult"], "netjit.compiler.bisect"),
    "RunMetadata": "netjit.runtime.stats",
    **dict.fromkeys(["ExecutionStep", "Plan", "execution_step", "to_execution_step"], "netjit.compiler.frontend.steps"),
    **dict.fromkeys(["Cluster", "Node", "Task", "TaskGroup", "TaskOutput", "WorkspaceType", "final_output"],
                    "netjit.compiler.frontend.task"),
    **dict.fromkeys(["NetBuilder", "ops"], "netjit.compiler.frontend.net_builder"),
    "Workspace": "netjit.runtime.caffe2.workspace",
    **dict.fromkeys(["CompiledRunnable", "LocalSession"], "netjit.runtime.caffe2.local_session"),
}

__all__ = ["Net", "BlobReference", "device", "Session", "SessionConfig", "RunOptions",
           "Device", "Program", "compile", "errors", *_LAZY]


#: Public subpackages loaded on first access (``nj.onnx`` imports the onnx package).
_SUBPACKAGES = {"onnx": "netjit.onnx"}


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(_SUBPACKAGES[name])
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'netjit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
