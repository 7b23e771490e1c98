"""Per-neuron math, written once for the CPU and CUDA kernels: activations and their
derivatives, the loss codes and the stable softplus the losses use. Plain ``@njit`` scalar
functions of floats and ints; activations and losses are small integer codes.
"""
import math

import numpy as np
from numba import njit

# ---------------------------------------------------------------------------------------
# activations (chapter 13's activation functions; chapter 14 ignores them while explaining)
IDENTITY, RELU, LEAKY_RELU, SIGMOID, TANH = 0, 1, 2, 3, 4
ACTIVATIONS = {"identity": IDENTITY, "relu": RELU, "leaky_relu": LEAKY_RELU,
               "sigmoid": SIGMOID, "tanh": TANH}
ACTIVATION_NAMES = {v: k for k, v in ACTIVATIONS.items()}
LEAKY_SLOPE = 0.01

# losses
QUADRATIC, BCE, SOFTMAX_CE = 0, 1, 2
LOSSES = {"quadratic": QUADRATIC, "bce": BCE, "softmax_ce": SOFTMAX_CE}
LOSS_NAMES = {v: k for k, v in LOSSES.items()}

# roles
INPUT, BIAS, HIDDEN, OUTPUT = 0, 1, 2, 3
ROLE_NAMES = {INPUT: "input", BIAS: "bias", HIDDEN: "hidden", OUTPUT: "output"}


@njit(cache=True, inline="always")
def activate(code, z):
    """Output o = f(z) of a neuron with activation ``code``."""
    if code == RELU:
        return z if z > 0.0 else 0.0 * z
    if code == LEAKY_RELU:
        return z if z > 0.0 else LEAKY_SLOPE * z
    if code == SIGMOID:
        if z >= 0.0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    if code == TANH:
        return math.tanh(z)
    return z


@njit(cache=True, inline="always")
def derivative(code, z, o):
    """f'(z), given the net input z and the output o = f(z)."""
    if code == RELU:
        return 1.0 if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return 1.0 if z > 0.0 else LEAKY_SLOPE
    if code == SIGMOID:
        return o * (1.0 - o)
    if code == TANH:
        return 1.0 - o * o
    return 1.0


@njit(cache=True, inline="always")
def softplus(z):
    """log(1 + e^z) without overflow."""
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


# ---------------------------------------------------------------------------------------
# binary cross-entropy of a sigmoid output o = 1 / (1 + e^-z), from z (never from o, which
# rounds to 0 or 1 long before the loss or its derivative stop being meaningful). Computed
# in float64 whatever the network's dtype (np.float64(): Numba's float() keeps a float32 a
# float32); the caller stores the result.
@njit(cache=True, inline="always")
def bce_loss(z, t):
    """E = -[t log o + (1 - t) log(1 - o)] = t softplus(-z) + (1 - t) softplus(z).

    Two non-negative terms, so no cancellation: accurate to a few ulp even where E is tiny
    (z = 50, t = 1: E = 1.9e-22). A term whose weight is 0 is skipped (t = 1, z = inf is 0,
    not NaN)."""
    zz = np.float64(z)
    tt = np.float64(t)
    e = 0.0
    if tt != 0.0:
        e += tt * softplus(-zz)
    if tt != 1.0:
        e += (1.0 - tt) * softplus(zz)
    return e


@njit(cache=True, inline="always")
def bce_delta(z, t):
    """delta = dE/do = -t/o + (1 - t)/(1 - o) with 1/o = 1 + e^-z and 1/(1 - o) = 1 + e^z.

    No division, so nothing divides by an o or 1 - o that rounded to 0: each term is exact
    to rounding, and for t in {0, 1} so is delta. At saturation delta is truly huge
    (z = 50, t = 0: 1 + e^50 = 5.18e21) and overflows to +-inf where the true value is
    beyond the dtype's range (float64: |z| > 709.78; float32 once stored: |z| > 88.72).
    For 0 < t < 1 the two terms cancel near o = t, as the rounding of t itself would.
    A term whose weight is 0 is skipped (0 * inf would be NaN)."""
    zz = np.float64(z)
    tt = np.float64(t)
    d = 0.0
    if tt != 0.0:
        d -= _times_one_plus_exp(tt, -zz)
    if tt != 1.0:
        d += _times_one_plus_exp(1.0 - tt, zz)
    return d


@njit(cache=True, inline="always")
def _times_one_plus_exp(c, x):
    """c (1 + e^x) for 0 < c <= 1 in float64, +inf only where the product is past its
    range (c e^x is formed as (c h) h with h = e^(x/2), so e^x alone may overflow).
    math.exp is only called where it cannot overflow: the CUDA simulator runs this as
    Python, whose math.exp raises there."""
    if x > 1418.0:
        return math.inf
    if x > 709.0:
        h = math.exp(0.5 * x)         # 1 + e^x == e^x here
        return (c * h) * h
    return c * (1.0 + math.exp(x))


@njit(cache=True, inline="always")
def output_terms(loss, code, z, o, t, want_E):
    """One output neuron's share of the loss, for ``quadratic`` and ``bce``:
    ``(E term, delta = dE/do, dedz = dE/dz)`` from its net input z, output o and target t.

    quadratic: E = 1/2 (o - t)^2, delta = o - t, dedz = f'(z) delta.
    bce (sigmoid output): E = t softplus(-z) + (1 - t) softplus(z) (:func:`bce_loss`;
    skipped, 0, when not ``want_E``), dedz = o - t exactly, delta = dedz / (o (1 - o))
    computed from z as -t (1 + e^-z) + (1 - t)(1 + e^z) (:func:`bce_delta`: no division
    by a rounded o (1 - o); huge, or inf, at saturation, which is the truth).
    """
    if loss == BCE:
        E = bce_loss(z, t) if want_E else 0.0
        return E, bce_delta(z, t), o - t
    d = o - t
    return 0.5 * d * d, d, derivative(code, z, o) * d
