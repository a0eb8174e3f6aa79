"""The typed scalar globals of a generated module (``k0 = np.float32(0.5)``)."""
from __future__ import annotations

import numpy as np


class ModuleConsts:
    """Typed scalar globals of the module (``k0 = np.float32(0.5)``)."""

    def __init__(self, fastmath: int):
        self.fastmath = fastmath
        self.globals: dict = {}        # (dtype, repr) -> name
        self.values: dict = {}         # name -> python value

    def const(self, value, dtype) -> str:
        dt = np.dtype(dtype)
        v = dt.type(value).item()
        key = (dt.name, repr(v))
        if key not in self.globals:
            name = f"k{len(self.globals)}"
            self.globals[key] = name
            self.values[name] = v
        return self.globals[key]

    def literal_of(self, arg: str):
        return self.values.get(arg)

    def lines(self) -> list:
        out = []
        for (dt, text), name in self.globals.items():
            text = {"inf": "np.inf", "-inf": "-np.inf", "nan": "np.nan"}.get(text, text)
            ctor = "np.bool_" if dt == "bool" else f"np.{dt}"
            out.append(f"{name} = {ctor}({text})")
        return out
