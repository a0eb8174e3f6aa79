"""The exceptions netjit raises.

Every error a user can cause is one of these, named after TensorFlow's status
codes so that code written against either system reads the same.
"""


class NetjitError(Exception):
    """Base of every netjit error."""


class InvalidArgumentError(NetjitError, ValueError):
    """A caller passed something malformed: a bad op, attribute, feed or shape."""


class NotFoundError(NetjitError, KeyError):
    """A named blob, op, pass, device or handle does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class FailedPreconditionError(NetjitError, RuntimeError):
    """The system is not in a state that allows the call (closed, uninitialised)."""


class CancelledError(NetjitError):
    """The operation was cancelled (session closed, sibling failed)."""


class DeadlineExceededError(NetjitError, TimeoutError):
    """The run did not finish before its deadline."""


class UnimplementedError(NetjitError, NotImplementedError):
    """The operation is valid but not supported here."""


class CompilationError(NetjitError):
    """A backend failed to compile a segment."""


class PassError(NetjitError):
    """A pass raised, or left a graph that does not verify."""


class CacheWarning(RuntimeWarning):
    """The compile cache cannot be used as configured (a directory that cannot be
    written, a key file that cannot be read): netjit compiles in memory instead.
    Issued once per directory (or key file) per process."""


__all__ = [
    "NetjitError", "InvalidArgumentError", "NotFoundError",
    "FailedPreconditionError", "CancelledError", "DeadlineExceededError",
    "UnimplementedError", "CompilationError", "PassError", "CacheWarning",
]
