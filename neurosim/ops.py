"""One sample or one data set through a network, on either device: check the input, then
call the backend (:mod:`neurosim.backends`) that ``device`` names. The public
``forward``, ``backward``, ``gradient``, ``update``, ``step``, ``predict``, ``evaluate``.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import backends
from .checks import check_l2, check_lr
from .inputs import as_inputs, as_targets, check_net
from .kernels.neuron import SOFTMAX_CE


def forward(net, x, device="cpu"):
    """Run one sample forward; sets ``net.z`` and ``net.outs`` and returns the outputs.

    Parameters
    ----------
    x : array_like, shape (n_inputs,)
    """
    B = backends.get(device)
    x = as_inputs(net, x, "x")
    if x.shape[0] != 1:
        raise ValueError("forward takes one sample; use predict for many")
    out = B.forward(net, x[0])
    net.dedz = None             # the last backward pass was for other outputs: update()
    return out                  # refuses to mix them with these


def backward(net, y, device="cpu"):
    """Deltas of every neuron for target ``y`` after :func:`forward`; returns the error E.

    Sets ``net.deltas`` (dE/d output) and ``net.dedz`` (dE/dz). Weights do not change.
    """
    B = backends.get(device)
    t = as_targets(net, y, 1, "y")[0]
    return B.backward(net, t)


def _dedz(net):
    """dE/dz of every neuron from the last backward pass."""
    if net.dedz is None:
        raise ValueError("no backward pass to update from: run forward and then backward "
                         "first (a forward pass starts a new pass)")
    return net.dedz


def gradient(net, x, y, device="cpu"):
    """dE/dw of every edge for one sample (forward + backward; weights unchanged).

    Returns
    -------
    (E, grad) : float, ndarray of shape (n_edges,)
    """
    B = backends.get(device)
    as_targets(net, y, 1, "y")          # bad y raises before the forward pass runs
    forward(net, x, device)
    E = backward(net, y, device)
    return E, B.gradient(net)


def update(net, lr, device="cpu", l2=0.0):
    """Apply the gradient step of the last forward/backward pass: w -= lr * o_src * dedz_dst.

    ``l2`` > 0 adds the L2 penalty's part, AC <- (AC - lr*Ao*Cd) - lr*l2*AC (AC before the
    step; biases not penalised), as ``train(..., l2=)`` steps."""
    B = backends.get(device)
    check_net(net)
    lr = check_lr(lr)
    l2 = check_l2(l2, net.dtype)
    _dedz(net)
    if l2 == 0:
        B.update(net, lr)
        return
    keep = net.src != net.bias
    decay = net.dtype.type(lr) * l2
    share = decay * net.weights[keep]
    B.update(net, lr)
    net.weights[keep] -= share


def step(net, x, y, lr, device="cpu", l2=0.0):
    """One per-sample SGD step (forward, backward, update, with the L2 penalty ``l2``);
    returns the error before it (the data term; the penalty is ``l2/2`` times the sum of
    the non-bias weights' squares)."""
    lr = check_lr(lr)
    backends.get(device)
    check_l2(l2, check_net(net).dtype)
    as_targets(net, y, 1, "y")          # bad y raises before the forward pass runs
    forward(net, x, device)
    E = backward(net, y, device)
    update(net, lr, device, l2=l2)
    return E


def predict(net, X, device="cpu"):
    """Outputs of the output neurons for every sample, shape (n_samples, n_outputs)."""
    B = backends.get(device)
    Y = B.predict(net, as_inputs(net, X))
    bad = ~np.isfinite(Y)
    if bad.any():
        warnings.warn(f"predict: {int(bad.any(axis=1).sum())} of {len(Y)} samples give "
                      "outputs that overflowed to inf or NaN (weights or inputs too large "
                      f"for {net.dtype.name})", RuntimeWarning, stacklevel=2)
    return Y


def predict_proba(net, X, device="cpu"):
    """Class probabilities: softmax of the logits for ``softmax_ce``, else the outputs."""
    Y = predict(net, X, device)
    if net.loss == SOFTMAX_CE:
        Y = Y - Y.max(axis=1, keepdims=True)
        np.exp(Y, out=Y)
        Y /= Y.sum(axis=1, keepdims=True)
    return Y


def evaluate(net, X, y, device="cpu"):
    """Mean error per sample and accuracy over a data set.

    Accuracy: one output (or loss bce) thresholds at 0.5; several outputs take the argmax.
    """
    B = backends.get(device)
    X = as_inputs(net, X)
    return B.evaluate(net, X, as_targets(net, y, X.shape[0]))
