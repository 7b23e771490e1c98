"""Tracing kernels: ``@njit(cache=True)`` loops for recording, perturbing and checking.

They use the array layout of :mod:`neurosim.kernels.cpu` (see the table there) and its
public one-sample kernels ``forward``, ``output_deltas``, ``backward`` and ``update``, so
they compute exactly what training computes; only the bookkeeping differs.

Extra arrays:

=============  ==========================  ===============================================
name           shape, dtype                meaning
=============  ==========================  ===============================================
watch          (k,) int64                  neurons whose output and delta are recorded
rec_out        (n_steps, k) float          output of each watched neuron at each step
rec_delta      (n_steps, k) float          delta (dE/d output) at each step
rec_err        (n_steps,) float            the sample's error at each step
values         (n_values,) float           values a neuron's output or a weight sweeps
=============  ==========================  ===============================================
"""
import math

import numpy as np
from numba import njit

from .._scalar import BCE, activate, derivative
from .cpu import _apply_grad, _backward_update, _set_inputs, backward, forward, output_deltas


# ---------------------------------------------------------------------------------------
# training with a recorder attached (History.records)
@njit(cache=True, error_model="numpy")
def _backward_scatter(lr, n_in, act, is_out, run_ptr, run_edge, run_src, run_len, w, z,
                      out, delta, g, grad, fused):
    """Deltas of every neuron after ``output_deltas``, as a scatter over incoming runs in
    reverse topological order, and the weight change (``fused``: per-sample SGD) or the
    gradient added to ``grad`` (minibatch): the training kernel's own ``_backward_update``,
    so a recorded run gives the same weights as an unrecorded one, plus g = delta for
    the inputs and the bias.

    Each consumer j adds w_ij g_j to delta_i before w_ij changes, so every delta is the
    chapter's A-delta = AC x C-delta + AD x D-delta with the pre-update weights.
    """
    _backward_update(lr, n_in, act, is_out, run_ptr, run_edge, run_src, run_len, w, z, out,
                     delta, g, grad, fused)
    for i in range(n_in + 1):                       # inputs and bias: g = delta
        g[i] = delta[i]


@njit(cache=True, error_model="numpy")
def record_epoch(X, T, perm, lr, batch, skip_zero, loss, n_in, act, is_out, outputs,
                 run_ptr, run_edge, run_src, run_len, w, z, out, delta, g, grad, watch,
                 rec_out, rec_delta, rec_err):
    """One training epoch like ``cpu.train_epoch`` that also records, at every sample
    step ``s`` (sample ``perm[s]``), the output and delta of the ``watch`` neurons
    (computed before that step's weight change) and the sample's error. Returns the
    number of weight updates made.

    Per-sample SGD (``batch == 1``): forward, deltas, update (Fig 14-27). ``batch > 1``:
    gradients summed over ``batch`` samples, then ``w -= lr * grad / batch``.
    ``skip_zero``: no update for a sample whose error is 0 (every delta is then 0, and
    recorded as 0 without running the backward pass).
    """
    m = w.shape[0]
    k = watch.shape[0]
    updates = 0
    fused = batch == 1
    if not fused:
        for e in range(m):
            grad[e] = 0.0
    nb = 0
    for s in range(perm.shape[0]):
        i = perm[s]
        forward(X[i], n_in, act, run_ptr, run_edge, run_src, run_len, w, z, out)
        E = output_deltas(loss, act, outputs, z, out, T[i], delta, g, True)
        rec_err[s] = E
        if skip_zero and E == 0.0:
            for q in range(k):
                rec_out[s, q] = out[watch[q]]
                rec_delta[s, q] = delta[watch[q]] if is_out[watch[q]] else 0.0
            continue
        _backward_scatter(lr, n_in, act, is_out, run_ptr, run_edge, run_src, run_len, w,
                          z, out, delta, g, grad, fused)
        for q in range(k):
            rec_out[s, q] = out[watch[q]]
            rec_delta[s, q] = delta[watch[q]]
        if fused:
            updates += 1
        else:
            nb += 1
            if nb == batch:
                _apply_grad(w, grad, lr / nb)
                nb = 0
                updates += 1
    if not fused and nb > 0:
        _apply_grad(w, grad, lr / nb)
        updates += 1
    return updates


# ---------------------------------------------------------------------------------------
# forward with one value frozen (the perturbation experiment, Figs 14-3, 14-4, 14-7)
@njit(cache=True)
def forward_clamped(x, loss, n_in, act, is_out, run_ptr, run_edge, run_src, run_len, w,
                    z, out, clamp, value):
    """Forward pass in which neuron ``clamp`` outputs ``value`` instead of f(z).

    Neurons before it are computed as usual, neurons after it see ``value``. With
    ``clamp < 0`` this is the plain forward pass. An output under ``bce`` (whose error
    is computed from z) gets ``z = logit(value)`` (NaN outside (0, 1)).
    """
    n = act.shape[0]
    _set_inputs(x, n_in, z, out)
    if 0 <= clamp <= n_in:
        z[clamp] = value
        out[clamp] = value
    for j in range(n_in + 1, n):
        s = 0.0
        for r in range(run_ptr[j], run_ptr[j + 1]):
            e0 = run_edge[r]
            s0 = run_src[r]
            for q in range(run_len[r]):
                s += w[e0 + q] * out[s0 + q]
        z[j] = s
        if j == clamp:
            out[j] = value
            if is_out[j] and loss == BCE:
                z[j] = math.log(value / (1.0 - value)) if 0.0 < value < 1.0 else np.nan
        else:
            out[j] = activate(act[j], s)


@njit(cache=True)
def sweep(x, t, loss, n_in, act, is_out, outputs, run_ptr, run_edge, run_src, run_len, w,
          z, out, delta, g, neuron, edge, values, errors):
    """Error of one sample as one value sweeps ``values``, everything else frozen.

    ``neuron >= 0``: that neuron's output takes each value (see :func:`forward_clamped`).
    ``edge >= 0``: that weight takes each value (restored afterwards).
    """
    keep = w[edge] if edge >= 0 else 0.0
    for v in range(values.shape[0]):
        if edge >= 0:
            w[edge] = values[v]
            forward_clamped(x, loss, n_in, act, is_out, run_ptr, run_edge, run_src,
                            run_len, w, z, out, -1, 0.0)
        else:
            forward_clamped(x, loss, n_in, act, is_out, run_ptr, run_edge, run_src,
                            run_len, w, z, out, neuron, values[v])
        errors[v] = output_deltas(loss, act, outputs, z, out, t, delta, g, True)
    if edge >= 0:
        w[edge] = keep


# ---------------------------------------------------------------------------------------
# whole data sets (gradient check)
@njit(cache=True)
def mean_gradient(X, T, loss, n_in, act, is_out, outputs, out_ptr, out_edge, src, dst,
                  run_ptr, run_edge, run_src, run_len, w, z, out, delta, g, grad, eps, near):
    """Mean over the samples of dE/dw (into ``grad``); returns the mean error.

    ``near[j]`` counts the samples for which neuron j's net input is within ``eps`` of 0
    (where a ReLU's finite difference is not its derivative)."""
    m = w.shape[0]
    n = X.shape[0]
    for e in range(m):
        grad[e] = 0.0
    total = 0.0
    for i in range(n):
        forward(X[i], n_in, act, run_ptr, run_edge, run_src, run_len, w, z, out)
        for j in range(n_in + 1, act.shape[0]):
            if abs(z[j]) <= eps:
                near[j] += 1
        total += backward(loss, n_in, act, is_out, outputs, out_ptr, out_edge, dst, w, z,
                          out, T[i], delta, g)
        for e in range(m):
            grad[e] += out[src[e]] * g[dst[e]]
    for e in range(m):
        grad[e] /= n
    return total / n


@njit(cache=True)
def numeric_gradient(X, T, loss, n_in, act, outputs, run_ptr, run_edge, run_src, run_len,
                     w, z, out, delta, g, eps, num):
    """Central finite difference of the mean error for every weight (into ``num``):
    (E(w + eps) - E(w - eps)) / (2 eps), one weight at a time, the rest frozen."""
    n = X.shape[0]
    for e in range(w.shape[0]):
        keep = w[e]
        tot = 0.0
        for sgn in (1.0, -1.0):
            w[e] = keep + sgn * eps
            s = 0.0
            for i in range(n):
                forward(X[i], n_in, act, run_ptr, run_edge, run_src, run_len, w, z, out)
                s += output_deltas(loss, act, outputs, z, out, T[i], delta, g, True)
            tot += sgn * s
        w[e] = keep
        num[e] = tot / n / (2.0 * eps)
