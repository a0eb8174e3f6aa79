"""netjit's fast-math levels: one table, read by both code generators.

A level names the LLVM fast-math flags of a segment's own arithmetic. The
native code generator puts them on each instruction; numba takes one
``fastmath=`` argument per kernel, derived here from the same flags, so the two
backends give a level the same meaning:

=====  =====================  ==========================  ============================
level  LLVM flags             numba's ``fastmath=``       meaning
=====  =====================  ==========================  ============================
0      none                   ``False``                   IEEE
1      ``contract``, ``nsz``  ``{'contract', 'nsz'}``     FMA and signed-zero freedom;
                                                          inf and NaN keep IEEE meaning
2      ``fast``               ``True``                    LLVM's full "fast" (nnan, ninf)
=====  =====================  ==========================  ============================

Level 1 keeps to contraction and signed-zero freedom: (x + inf) - inf stays
NaN, x / denormal stays finite. W1 ran as fast (2.49-2.56 ms against 2.53-2.69
with reassoc and arcp, alternated in one process). The reassociation a
vectorised reduction needs rides on its accumulation alone (numba's
``mathlib.radd``), and a division by a row's reduction multiplies by its
reciprocal.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FastMathLevel:
    """One fast-math level: its LLVM flags, and numba's spelling of them."""

    level: int
    llvm_flags: tuple[str, ...]

    @property
    def numba_arg(self) -> str:
        """The source text of numba's ``fastmath=`` argument (``False``, ``True`` or a set
        literal in the table's order, so generated source is the same in every process)."""
        if not self.llvm_flags:
            return "False"
        if self.llvm_flags == ("fast",):
            return "True"
        return "{" + ", ".join(repr(f) for f in self.llvm_flags) + "}"


#: level -> its flags; the one table
LEVELS = {lv.level: lv for lv in (FastMathLevel(0, ()), FastMathLevel(1, ("contract", "nsz")),
                                  FastMathLevel(2, ("fast",)))}

#: the float32 approximations' own LLVM flags, whatever the level: their error bounds
#: hold with these, and under "fast" (nnan, ninf) fsigmoid(-100) came out NaN
APPROX_FLAGS = ("reassoc", "contract", "arcp", "nsz")


def level(n: int) -> FastMathLevel:
    """The level ``n`` (0, 1 or 2); KeyError for anything else."""
    return LEVELS[n]
