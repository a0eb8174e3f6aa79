"""Kernel identifiers for graph values: canonical in the code, readable for people."""
from __future__ import annotations

import keyword
import re

from netjit.compiler.ir import Graph
from netjit.compiler.ir.printer import value_labels

#: Identifiers the generated code uses itself; a readable value name never takes one.
_RESERVED = re.compile(r"^(j|i\d+|k\d+|g\d+_.*|kernel\d+.*|np|math|njit|prange|bdim|expand|fexp|fexp_capped|fsigmoid"
                       r"|ftanh|fmaximum|fminimum|imatmul|radd|add_ieee|acc_add|sgemm|dgemm|psgemm|psgemm_bias|inputs|state|run|host_call|bad_arity|runtime_error|exc|[A-Z_]+|_.*)$")


class ValueNames:
    """Identifiers for graph values: canonical in the code, readable for people.

    The compiled module is keyed and cached by its text, so it names values
    ``v0, v1, ...`` in graph order: identical segments of differently named nets
    (whose blob names carry the net name) share one entry. ``readable`` maps
    each canonical name to one made from the blob name, for dumps.
    """

    def __init__(self, graph: Graph):
        self.map, self.readable, self.labels, used = {}, {}, {}, set()
        for i, (v, label) in enumerate(value_labels(graph).items()):
            self.map[v] = f"v{i}"
            self.labels[f"v{i}"] = label
            base = re.sub(r"\W", "_", label.replace("~", "_v"))
            if not base or base[0].isdigit() or keyword.iskeyword(base) or _RESERVED.match(base):
                base = "v_" + base
            name, k = base, 2
            while name in used:
                name, k = f"{base}_{k}", k + 1
            used.add(name)
            self.readable[f"v{i}"] = name

    def __getitem__(self, v):
        return self.map[tuple(v)]

    def canonical_labels(self) -> dict:
        """value -> canonical IR label (for the comments of keyed code)."""
        return dict(self.map)
