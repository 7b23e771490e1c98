"""Per-neuron math, written once for the CPU and CUDA kernels: activations and their
derivatives, the loss codes and the stable softplus the losses use. Plain ``@njit`` scalar
functions of floats and ints; activations and losses are small integer codes.
"""
import math

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


@njit(cache=True, inline="always")
def output_terms(loss, code, z, o, t, want_E):
    """One output neuron's share of the loss, for ``quadratic`` and ``bce``:
    ``(E term, delta = dE/do, dedz = dE/dz)`` from its net input z, output o and target t.

    quadratic: E = 1/2 (o - t)^2, delta = o - t, dedz = f'(z) delta.
    bce (sigmoid output): E = softplus(z) - t z (from z, so it never overflows; skipped,
    0, when not ``want_E``), dedz = o - t exactly, delta = dedz / (o (1 - o)).
    """
    if loss == BCE:
        E = softplus(z) - t * z if want_E else 0.0
        g = o - t
        den = o * (1.0 - o)
        return E, (g / den if den > 1e-300 else g * 1e300), g
    d = o - t
    return 0.5 * d * d, d, derivative(code, z, o) * d
