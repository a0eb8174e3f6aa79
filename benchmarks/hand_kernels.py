"""Hand-written @njit kernels of the workloads: what a person would write.

Straightforward loops with ``fastmath=True`` and ``prange`` over rows, libm
``math.tanh``/``math.exp`` (no SVML here), preallocated outputs: the ceiling
our generated code is compared with.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .workloads import EPS, W2_B, W2_W, W4_B, W4_G

F = np.float32


@njit(fastmath=True, parallel=True)
def w1(x, out):
    for i in prange(x.shape[0]):
        v = x[i]
        t = math.tanh(F(0.7978845608) * (v + F(0.044715) * v * v * v))
        out[i] = F(0.5) * v * (F(1) + t) * F(1.5) + F(1) / (F(1) + math.exp(-v))
    return out


@njit(fastmath=True)
def _bias_relu(h, b):
    for i in range(h.shape[0]):
        for j in range(h.shape[1]):
            h[i, j] = max(h[i, j] + b[j], F(0))


@njit(fastmath=True)
def _softmax_rows(z, b, out):
    for i in range(z.shape[0]):
        m = -np.inf
        for j in range(z.shape[1]):
            m = max(m, z[i, j] + b[j])
        s = F(0)
        for j in range(z.shape[1]):
            e = math.exp(z[i, j] + b[j] - m)
            out[i, j] = e
            s += e
        for j in range(z.shape[1]):
            out[i, j] /= s


@njit(fastmath=True)
def w2_kernel(x, w0, b0, w1_, b1, w2, b2):
    h = np.dot(x, w0)
    _bias_relu(h, b0)
    h2 = np.dot(h, w1_)
    _bias_relu(h2, b1)
    z = np.dot(h2, w2)
    out = np.empty_like(z)
    _softmax_rows(z, b2, out)
    return out


def w2(x):
    return w2_kernel(x, W2_W[0], W2_B[0], W2_W[1], W2_B[1], W2_W[2], W2_B[2])


@njit
def w3(x, y):
    return x + y


@njit(fastmath=True, parallel=True)
def _layernorm(x, g, b, out):
    n, c = x.shape
    for i in prange(n):
        s = F(0)
        for j in range(c):
            s += x[i, j]
        m = s / c
        ss = F(0)
        for j in range(c):
            d = x[i, j] - m
            ss += d * d
        r = F(1) / np.sqrt(ss / c + F(EPS))
        for j in range(c):
            out[i, j] = (x[i, j] - m) * r * g[j] + b[j]
    return out


def w4(x, out):
    return _layernorm(x, W4_G, W4_B, out)


@njit(fastmath=True, parallel=True)
def w5(x, out):
    n, c = x.shape
    for i in prange(n):
        m = -np.inf
        for j in range(c):
            m = max(m, x[i, j])
        s = F(0)
        for j in range(c):
            e = math.exp(x[i, j] - m)
            out[i, j] = e
            s += e
        r = F(1) / s
        for j in range(c):
            out[i, j] *= r
    return out
