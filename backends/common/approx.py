"""Constants of the float32 approximations of exp and tanh, shared by both code generators.

``backends.numba.mathlib`` uses them in numba helpers, ``backends.native.vmath``
in LLVM IR; keeping them in one numba-free place keeps the two bit-identical
without making the native code generator import numba.
"""
import numpy as np

F = np.float32
LOG2E = F(1.4426950408889634)
LN2_HI = F(0.693359375)
LN2_LO = F(-2.12194440e-4)
# exp(r) = 1 + r + r**2 (Q0 r**3 + Q1 r**2 + Q2 r + Q3) on |r| <= ln2/2.
Q0, Q1, Q2, Q3 = (F(c) for c in (8.312801830470562e-3, 4.1890207678079605e-2,
                                     1.6667111217975616e-1, 4.99992311000824e-1))
EXP_LO = F(-88.0)
ROUND_BIAS = F(12582912.0)  # 1.5 * 2**23
ROUND_BIAS_HI = F(12582912.0 + 128)
# With 127 folded in, the rounded sum's low bits are n + 127, 2**n's exponent field.
ROUND_BIAS_EXP = F(12582912.0 + 127)
EXP_ONE_BITS = np.int32(127 << 23)
ONE = F(1.0)
# Eigen's generic_fast_tanh_float: a 13/6 rational approximation.
A = [F(c) for c in (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
                     5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
                     4.89352455891786e-03)]
A13, A11, A9, A7, A5, A3, A1 = A
B6, B4, B2, B0 = (F(c) for c in (1.19825839466702e-06, 1.18534705686654e-04,
                                     2.26843463243900e-03, 4.89352518554385e-03))
TCLAMP = F(7.90531110763549805)

#: Pow exponents both code generators strength-reduce: ``x**3`` is two multiplies and
#: ``x**0.5`` a square root, not a libm ``pow`` call (NumPy's ``x**3`` is one)
SMALL_POWERS = (1.0, 2.0, 3.0, 4.0, 0.5)
