"""Placement: give every node of a graph a device, and say why.

Rules, in order of precedence:

1. Variable ops (Variable/Assign/AssignAdd) of one variable share a device,
   and once a variable has been placed it stays there for the session's life
   (``pins``); an explicit scope that later contradicts the pin is an error.
2. An explicit ``nj.device(...)`` scope places the op; an unknown device is
   InvalidArgumentError, or with soft placement a logged fallback to rule 3.
3. An unplaced op is colocated with its first placed data input.
4. Sources without inputs (placeholders, constants) go where their first
   consumer is, so they never cause a cross-device transfer on their own.
5. Anything left goes to the default device (the first one).

Every node records the rule that placed it in ``graph.meta(n)["placement"]``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping, MutableMapping, Optional, Sequence

from netjit.errors import InvalidArgumentError

from .device import Device, canonical_device
from .ir import Graph
from .ops import Op

log = logging.getLogger("netjit.placement")


def local_devices(device_count: Optional[Mapping[str, int]]) -> list[Device]:
    """The virtual devices a config offers: ``cpu:0 .. cpu:N-1`` (N defaults to 1)."""
    counts = {str(k).lower(): int(v) for k, v in (device_count or {}).items()}
    n_cpu = counts.pop("cpu", 1)
    if n_cpu < 1:
        raise InvalidArgumentError(f"device_count['cpu'] must be >= 1, got {n_cpu}")
    if any(v for v in counts.values()):
        raise InvalidArgumentError(f"unsupported device kinds {sorted(counts)}: only 'cpu' devices exist")
    return [Device("cpu", i) for i in range(n_cpu)]


def variable_key(op: Op) -> Optional[tuple]:
    """The (container, name) of the variable a stateful op touches, or None."""
    return op.key if getattr(op, "var_name", None) is not None and op.stateful else None


@dataclass
class Placer:
    """Places graphs onto ``devices``; ``pins`` (variable key -> device) outlive one graph."""

    devices: Sequence[str]
    pins: MutableMapping[tuple, str] = field(default_factory=dict)
    allow_soft_placement: bool = False

    def place(self, graph: Graph) -> Graph:
        """Set the device and reason of every node not yet placed; returns ``graph``.

        New pins are committed only when the whole graph placed without error.
        """
        new_pins: dict[tuple, str] = {}
        deferred = []
        for n in graph.nodes():
            if graph.device(n) is not None and graph.meta(n).get("placement"):
                continue  # placed before (a later pass added nodes around it)
            if self._is_free_source(graph, n):
                deferred.append(n)
                continue
            dev, why = self._choose(graph, n, new_pins)
            graph.set_device(n, dev, why)
        for n in deferred:
            self._place_source(graph, n)
        self.pins.update(new_pins)
        return graph

    # -- rules ------------------------------------------------------------
    def _is_free_source(self, graph: Graph, n: int) -> bool:
        op = graph.op(n)
        return (not op.stateful and not graph.inputs_of(n) and not graph.control_inputs(n)
                and self._explicit(graph, n)[0] is None)

    def _choose(self, graph: Graph, n: int, new_pins: dict) -> tuple[str, str]:
        explicit, soft_note = self._explicit(graph, n)
        key = variable_key(graph.op(n))
        if key is not None:
            pinned = self.pins.get(key) or new_pins.get(key)
            if pinned is not None:
                if explicit is not None and explicit != pinned:
                    raise InvalidArgumentError(
                        f"Stateful placement mismatch: {graph.op(n).name} {_label(graph, n)} of variable "
                        f"{key[1]!r} asks for {explicit}, but the variable has been assigned to {pinned}")
                return pinned, f"pinned: variable {key[1]!r} lives on {pinned}"
        if explicit is not None:
            dev, why = explicit, f"explicit scope {explicit}"
        else:
            dev, why = self._colocate(graph, n)
        if key is not None:
            new_pins[key] = dev
        return dev, soft_note + why

    def _explicit(self, graph: Graph, n: int) -> tuple[Optional[str], str]:
        """The node's requested device if it exists, and a note when soft placement dropped it."""
        asked = graph.device(n)
        if asked is None:
            return None, ""
        dev = canonical_device(asked)
        if dev in self.devices:
            return dev, ""
        if not self.allow_soft_placement:
            raise InvalidArgumentError(
                f"{graph.op(n).name} {_label(graph, n)} in net {graph.name!r} is placed on {dev}, "
                f"which does not exist; available devices: {', '.join(self.devices)} "
                "(set SessionConfig(device_count=...) or allow_soft_placement=True)")
        log.warning("soft placement: %s %s asked for unknown device %s", graph.op(n).name, _label(graph, n), dev)
        return None, f"soft placement ({dev} does not exist): "

    def _colocate(self, graph: Graph, n: int) -> tuple[str, str]:
        for v in graph.inputs_of(n):
            dev = graph.device(v[0])
            if dev is not None and graph.meta(v[0]).get("placement"):
                return dev, f"colocated with input {_label(graph, v[0], v[1])}"
        return self.devices[0], f"default device {self.devices[0]}"

    def _place_source(self, graph: Graph, n: int) -> None:
        consumers = [w for w in graph.node_users(n) if graph.meta(w).get("placement")]
        if consumers:
            w = consumers[0]
            graph.set_device(n, graph.device(w), f"colocated with consumer {_label(graph, w)}")
        else:
            graph.set_device(n, self.devices[0], f"default device {self.devices[0]}")


def _label(graph: Graph, n: int, out: int = 0) -> str:
    names = graph.names(n)
    name = names[out] if out < len(names) else None
    return repr(name) if name else f"%{n}"
