"""Drivers (layer 3 of 4): hand a Network's arrays to the kernels, one device or another.

These functions validate their input, allocate scratch arrays and call
:mod:`neurosim.kernels.cpu` (or, for ``device="cuda"``, the CUDA driver, imported only
then). Everything above this layer -- training, tracing, plots, the CLI -- goes through
here.
"""
from __future__ import annotations

import numpy as np

from ._scalar import BCE, SOFTMAX_CE
from .graph import Network
from .kernels import cpu

DEVICES = ("cpu", "cuda")


def check_device(device):
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cuda":
        from . import cuda  # noqa: F401  (raises a clear error if CUDA is unusable)
    return device


def _cuda():
    from . import cuda
    return cuda


# -- input checking ----------------------------------------------------------------------
def check_net(net):
    """``net`` itself, or ValueError if it is not a :class:`~neurosim.graph.Network`."""
    if not isinstance(net, Network):
        raise ValueError(f"expected a neurosim.Network, got {type(net).__name__}")
    return net


def as_inputs(net, X, what="X"):
    """X as a C-contiguous (n_samples, n_inputs) array of the network's dtype."""
    check_net(net)
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numeric") from None
    if A.ndim == 1 and A.shape[0] == net.n_inputs:
        A = A[None, :]
    if A.ndim != 2 or A.shape[1] != net.n_inputs:
        raise ValueError(f"{what} must have shape (n_samples, {net.n_inputs}), got {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{what} has no samples")
    return _finite(net, A, what)


def _finite(net, A, what):
    """A as a plain, C-contiguous, writeable array of the network's dtype, or ValueError if
    it holds NaN or inf (checked after the cast: a float32 network cannot hold 1e39).
    Writeable because Numba compiles every kernel again for read-only arrays (memmaps,
    some pandas results), which would cost a user a long first call."""
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{what} contains NaN or inf")
    with np.errstate(over="ignore"):
        B = np.require(A, dtype=net.dtype, requirements="CAWE")
    if not np.all(np.isfinite(B)):
        raise ValueError(f"{what} has values too large for {net.dtype.name}")
    return B


def as_targets(net, y, n, what="y"):
    """Targets as a (n_samples, n_outputs) array that fits the network's loss.

    quadratic: any finite numbers; bce: values in [0, 1]; softmax_ce: class labels
    0..n_out-1 (shape (n,)) or rows of probabilities (shape (n, n_out)).
    """
    m = len(check_net(net).output_idx)
    try:
        Y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numeric") from None
    if Y.ndim == 0:
        Y = Y.reshape(1)
    if Y.ndim == 1 and n == 1 and m > 1 and Y.shape[0] == m:
        Y = Y[None, :]                                  # one sample's target row
    elif net.loss == SOFTMAX_CE and Y.ndim == 1:
        if Y.shape[0] != n:
            raise ValueError(f"{what} has {Y.shape[0]} labels for {n} samples")
        if not np.all(np.isfinite(Y)) or np.any(Y != np.round(Y)) or np.any((Y < 0) | (Y >= m)):
            raise ValueError(f"{what}: softmax_ce labels must be integers 0..{m - 1}")
        T = np.zeros((n, m))
        T[np.arange(n), Y.astype(np.int64)] = 1.0
        Y = T
    elif Y.ndim == 1 and m == 1 and Y.shape[0] == n:
        Y = Y[:, None]
    if Y.shape != (n, m):
        raise ValueError(f"{what} must have shape ({n},) or ({n}, {m}) for this network, "
                         f"got {np.shape(y)}")
    Y = _finite(net, Y, what)
    if net.loss == BCE and np.any((Y < 0) | (Y > 1)):
        raise ValueError(f"{what}: loss 'bce' needs targets in [0, 1]")
    if net.loss == SOFTMAX_CE and (np.any(Y < 0) or not np.allclose(Y.sum(1), 1.0)):
        raise ValueError(f"{what}: softmax_ce targets must be class labels or probability rows")
    return Y


def check_int(v, name, lo):
    """``v`` as an int, or ValueError if it is not an integer >= ``lo`` (bools refused)."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def check_bool(v, name):
    """``v`` as a bool, or ValueError if it is not True or False."""
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {v!r}")
    return bool(v)


def as_test_set(net, X_test, y_test):
    """``(X_test, T_test)`` checked like the training data, or ``(None, None)``."""
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    if X_test is None:
        return None, None
    Xt = as_inputs(net, X_test, "X_test")
    return Xt, as_targets(net, y_test, Xt.shape[0], "y_test")


def check_lr(lr):
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"learning rate must be a number, got {lr!r}") from None
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"learning rate must be > 0 and finite, got {lr}")
    return lr


# -- argument tuples ---------------------------------------------------------------------
def fwd_args(net):
    return (net.n_inputs, net.act, net.run_ptr, net.run_edge, net.run_src, net.run_len)


def scratch(net):
    """Fresh per-neuron work arrays (z, out, delta, g)."""
    n = net.n_neurons
    return tuple(np.zeros(n, dtype=net.dtype) for _ in range(4))


# -- one sample ----------------------------------------------------------------------------
def forward(net, x, device="cpu"):
    """Run one sample forward; sets ``net.z`` and ``net.outs`` and returns the outputs.

    Parameters
    ----------
    x : array_like, shape (n_inputs,)
    """
    check_device(device)
    x = as_inputs(net, x, "x")
    if x.shape[0] != 1:
        raise ValueError("forward takes one sample; use predict for many")
    if device == "cuda":
        return _cuda().forward(net, x[0])
    cpu.forward(x[0], *fwd_args(net), net.weights, net.z, net.outs)
    return net.outs[net.output_idx].copy()


def backward(net, y, device="cpu"):
    """Deltas of every neuron for target ``y`` after :func:`forward`; returns the error E.

    Sets ``net.deltas`` (dE/d output). Weights do not change.
    """
    check_device(device)
    t = as_targets(net, y, 1, "y")[0]
    if device == "cuda":
        return _cuda().backward(net, t)
    g = np.zeros(net.n_neurons, dtype=net.dtype)
    E = cpu.backward(net.loss, net.n_inputs, net.act, net.is_output, net.output_idx,
                     net.out_ptr, net.out_edge, net.dst, net.weights, net.z, net.outs, t,
                     net.deltas, g)
    net._g = g
    return float(E)


def signal(net):
    """dE/dz of every neuron from the last backward pass."""
    g = getattr(net, "_g", None)
    if g is None:
        raise RuntimeError("run forward and backward first")
    return g


def gradient(net, x, y, device="cpu"):
    """dE/dw of every edge for one sample (forward + backward; weights unchanged).

    Returns
    -------
    (E, grad) : float, ndarray of shape (n_edges,)
    """
    check_device(device)
    as_targets(net, y, 1, "y")          # bad y raises before the forward pass runs
    forward(net, x, device)
    E = backward(net, y, device)
    if device == "cuda":
        return E, _cuda().gradient(net)
    grad = np.empty(net.n_edges, dtype=net.dtype)
    cpu.gradient(net.src, net.dst, net.outs, signal(net), grad)
    return E, grad


def update(net, lr, device="cpu"):
    """Apply the gradient step of the last forward/backward pass: w -= lr * o_src * g_dst."""
    check_device(device)
    check_net(net)
    lr = check_lr(lr)
    if device == "cuda":
        return _cuda().update(net, lr)
    cpu.update(net.src, net.dst, net.outs, signal(net), net.weights, lr)


def step(net, x, y, lr, device="cpu"):
    """One per-sample SGD step (forward, backward, update); returns the error before it."""
    lr = check_lr(lr)
    check_device(device)
    as_targets(net, y, 1, "y")          # bad y raises before the forward pass runs
    forward(net, x, device)
    E = backward(net, y, device)
    update(net, lr, device)
    return E


# -- many samples --------------------------------------------------------------------------
def predict(net, X, device="cpu"):
    """Outputs of the output neurons for every sample, shape (n_samples, n_outputs)."""
    check_device(device)
    X = as_inputs(net, X)
    if device == "cuda":
        return _cuda().predict(net, X)
    z, out, _, _ = scratch(net)
    Y = np.empty((X.shape[0], len(net.output_idx)), dtype=net.dtype)
    cpu.predict(X, net.n_inputs, net.act, net.output_idx, net.run_ptr, net.run_edge,
                net.run_src, net.run_len, net.weights, z, out, Y)
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
    check_device(device)
    X = as_inputs(net, X)
    T = as_targets(net, y, X.shape[0])
    if device == "cuda":
        return _cuda().evaluate(net, X, T)
    return _evaluate(net, X, T)


def _evaluate(net, X, T):
    z, out, delta, g = scratch(net)
    tot, right = cpu.evaluate(X, T, net.loss, net.n_inputs, net.act, net.output_idx,
                              net.run_ptr, net.run_edge, net.run_src, net.run_len,
                              net.weights, z, out, delta, g)
    return tot / X.shape[0], right / X.shape[0]
