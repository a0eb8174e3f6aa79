"""Compiled steps: an executable built for sorted names, bound to a caller's order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import TensorType
from netjit.errors import InvalidArgumentError


def check_feed(blob: str, expected: TensorType, value: np.ndarray) -> None:
    """Raise InvalidArgumentError unless ``value`` may be fed where ``expected`` is declared."""
    if value.dtype != expected.dtype:
        raise InvalidArgumentError(f"Cannot feed value of dtype {value.dtype} for blob {blob!r}, "
                                   f"which has dtype {expected.dtype}")
    if expected.shape is not None and not expected.accepts(TensorType(expected.dtype, value.shape)):
        raise InvalidArgumentError(f"Cannot feed value of shape {value.shape} for blob {blob!r}, "
                                   f"which has shape {expected}")


@dataclass
class CompiledEntry:
    """What the executor cache keeps per signature (order independent)."""

    executable: object
    graph: Graph
    feeds: tuple[str, ...]      # sorted
    fetches: tuple[str, ...]    # sorted, may repeat


class CompiledStep:
    """Runs a CompiledEntry for feeds and fetches in the caller's order."""

    __slots__ = ("entry", "executable", "order", "checks", "out_order", "identity_in", "identity_out")

    def __init__(self, entry: CompiledEntry, feed_names: Sequence[str], fetch_names: Sequence[str]):
        self.entry = entry
        self.executable = entry.executable
        position = {name: i for i, name in enumerate(feed_names)}
        self.order = tuple(position[name] for name in self.executable.input_names)
        graph = entry.graph
        self.checks = tuple((name, graph.type((n, 0))) for name, n in
                            zip(self.executable.input_names, graph.inputs))
        sorted_pos = {}
        for i, name in enumerate(entry.fetches):
            sorted_pos.setdefault(name, i)
        self.out_order = tuple(sorted_pos[name] for name in fetch_names)
        self.identity_in = self.order == tuple(range(len(feed_names)))
        self.identity_out = self.out_order == tuple(range(len(entry.fetches)))

    def __call__(self, values: Sequence[np.ndarray], state) -> list:
        inputs = values if self.identity_in else [values[i] for i in self.order]
        for (name, t), v in zip(self.checks, inputs):
            check_feed(name, t, v)
        outs = self.executable(inputs, state)
        return outs if self.identity_out else [outs[i] for i in self.out_order]
