"""Probing kernels: one value frozen (the perturbation experiment), error curves, and
the analytic and finite-difference gradients of a data set's mean error. Same bundles as
:mod:`neurosim.kernels.cpu`, whose forward and loss code they call.
"""
import math

import numpy as np
from numba import njit

from .cpu import backward, forward, net_input, output_deltas, set_inputs, sum_sq
from .neuron import BCE, activate


# ---------------------------------------------------------------------------------------
# forward with one value frozen (the perturbation experiment, Figs 14-3, 14-4, 14-7)
@njit(cache=True, nogil=True)
def forward_clamped(x, loss, topo, w, z, out, clamp, value):
    """Forward pass in which neuron ``clamp`` outputs ``value`` instead of f(z).

    Neurons before it are computed as usual, neurons after it see ``value``. With
    ``clamp < 0`` this is the plain forward pass. An output under ``bce`` (whose error
    is computed from z) gets ``z = logit(value)`` (NaN outside (0, 1)).
    """
    n_in, act, is_out, _, run_ptr, run_edge, run_src, run_len = topo[:8]
    set_inputs(x, n_in, z, out)
    if 0 <= clamp <= n_in:
        z[clamp] = value
        out[clamp] = value
    for j in range(n_in + 1, act.shape[0]):
        s = net_input(j, run_ptr, run_edge, run_src, run_len, w, out)
        z[j] = s
        if j == clamp:
            out[j] = value
            if is_out[j] and loss == BCE:
                z[j] = math.log(value / (1.0 - value)) if 0.0 < value < 1.0 else np.nan
        else:
            out[j] = activate(act[j], s)


@njit(cache=True, nogil=True)
def sweep(x, t, loss, topo, w, S, neuron, edge, values, errors):
    """Error of one sample as one value sweeps ``values``, everything else frozen.

    ``neuron >= 0``: that neuron's output takes each value (see :func:`forward_clamped`).
    ``edge >= 0``: that weight takes each value (restored afterwards).
    """
    z, out, delta, dedz = S
    keep = w[edge] if edge >= 0 else 0.0
    for v in range(values.shape[0]):
        if edge >= 0:
            w[edge] = values[v]
            forward_clamped(x, loss, topo, w, z, out, -1, 0.0)
        else:
            forward_clamped(x, loss, topo, w, z, out, neuron, values[v])
        errors[v] = output_deltas(loss, topo[1], topo[3], z, out, t, delta, dedz, True)
    if edge >= 0:
        w[edge] = keep


# ---------------------------------------------------------------------------------------
# whole data sets (gradient check)
@njit(cache=True, nogil=True)
def mean_gradient(X, T, loss, topo, w, S, grad, eps, near, l2):
    """Mean over the samples of dE/dw (into ``grad``); returns the mean error. With
    ``l2`` > 0 the error includes ``l2/2 * sum w^2`` over the non-bias weights and their
    gradients ``l2 * w``.

    ``near[j]`` counts the samples for which neuron j's net input is within ``eps`` of 0
    (where a ReLU's finite difference is not its derivative)."""
    z, out, delta, dedz = S
    n_in, act, src, dst = topo[0], topo[1], topo[10], topo[11]
    m = w.shape[0]
    n = X.shape[0]
    for e in range(m):
        grad[e] = 0.0
    total = 0.0
    for i in range(n):
        forward(X[i], topo, w, z, out)
        for j in range(n_in + 1, act.shape[0]):
            if abs(z[j]) <= eps:
                near[j] += 1
        total += backward(loss, topo, w, z, out, T[i], delta, dedz)
        for e in range(m):
            grad[e] += out[src[e]] * dedz[dst[e]]
    for e in range(m):
        grad[e] /= n
        if l2 != 0.0 and src[e] != n_in:
            grad[e] += l2 * w[e]
    return total / n + (0.5 * l2 * sum_sq(w, src, n_in) if l2 != 0.0 else 0.0)


@njit(cache=True, nogil=True)
def numeric_gradient(X, T, loss, topo, w, S, eps, num, l2):
    """Central finite difference of the mean error for every weight (into ``num``):
    (E(w + eps) - E(w - eps)) / (2 eps), one weight at a time, the rest frozen; with
    ``l2`` > 0, E includes the penalty ``l2/2 * sum w^2`` (non-bias weights), summed
    again at each perturbed point."""
    z, out, delta, dedz = S
    n = X.shape[0]
    src, bias = topo[10], topo[0]
    for e in range(w.shape[0]):
        keep = w[e]
        tot = 0.0
        for sgn in (1.0, -1.0):
            w[e] = keep + sgn * eps
            s = 0.0
            for i in range(n):
                forward(X[i], topo, w, z, out)
                s += output_deltas(loss, topo[1], topo[3], z, out, T[i], delta, dedz, True)
            s /= n
            if l2 != 0.0:
                s += 0.5 * l2 * sum_sq(w, src, bias)
            tot += sgn * s
        w[e] = keep
        num[e] = tot / (2.0 * eps)
