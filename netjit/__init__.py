"""netjit: a graph compiler and session runtime for nets of tensor operators.

Build a net Caffe2 style (ops over named blobs) and run it TensorFlow style
(feeds in, fetches out) or compile it once with ``nj.compile``.
"""
__version__ = "0.1.0"

from . import errors  # noqa: F401
from .config import RunOptions, SessionConfig
from netjit.compiler.device import device
from netjit.compiler.net import BlobReference, Net
from netjit.compiler.net_io import load
from netjit.runtime.compiled_program import Program, compile
from netjit.runtime.session import Session
from netjit.runtime.stats import RunMetadata
from netjit.compiler.device import Device
from netjit.compiler.steps import ExecutionStep, Plan, execution_step, to_execution_step
from netjit.compiler.task import Cluster, Node, Task, TaskGroup, TaskOutput, WorkspaceType, final_output
from netjit.compiler.net_builder import NetBuilder, ops
from netjit.runtime.workspace import Workspace
from netjit.runtime.local_session import CompiledRunnable, LocalSession

__all__ = ["Net", "BlobReference", "device", "Session", "SessionConfig", "RunOptions",
           "RunMetadata", "Device",
           "Program", "compile", "errors", "load",
           "Workspace", "ExecutionStep", "execution_step", "to_execution_step", "Plan", "Task",
           "TaskGroup", "TaskOutput", "WorkspaceType", "Node", "Cluster", "LocalSession",
           "CompiledRunnable", "final_output", "NetBuilder", "ops"]
