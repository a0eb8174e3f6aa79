"""Shared builders for the direct-session tests (placement, executor, partial runs)."""
from __future__ import annotations

import numpy as np

import netjit as nj
from netjit.backends import get_backend
from netjit.errors import InvalidArgumentError


def available_backends() -> list[str]:
    """The reference backend, plus numba once it is registered."""
    names = ["reference"]
    try:
        get_backend("numba")
        names.append("numba")
    except InvalidArgumentError:
        pass
    return names


def session(net, devices: int = 2, backend: str = "reference", **config) -> nj.Session:
    return nj.Session(net, nj.SessionConfig(device_count={"cpu": devices}, backend=backend, **config))


def ping_pong_net() -> nj.Net:
    """x -> a (cpu:0) -> b (cpu:1) -> c (cpu:0): dependencies go A -> B -> A."""
    net = nj.Net("pingpong")
    x = net.Placeholder("x", np.float32, (None, 3))
    with nj.device("cpu:0"):
        a = net.Tanh(x, "a")
    with nj.device("cpu:1"):
        b = net.Mul([a, a], "b")
    with nj.device("cpu:0"):
        net.Add([b, a], "c")
    return net


def ping_pong_expected(xv: np.ndarray) -> np.ndarray:
    a = np.tanh(xv)
    return a * a + a


def blocking_op(net: nj.Net, blob, out: str, event, timeout: float = 10.0):
    """A host op that waits for ``event`` (at most ``timeout`` s) then copies its input."""
    def wait(inputs, outputs):
        event.wait(timeout)
        outputs[0] = inputs[0]
    return net.Python(wait)([blob], out)


def failing_op(net: nj.Net, blob, out: str, message: str = "boom"):
    """A host op that raises ValueError(message)."""
    def fail(inputs, outputs):
        raise ValueError(message)
    return net.Python(fail)([blob], out)
