"""Data checks against a Network: inputs and targets as the kernels need them.

Every entry point (training, tracing, plots, the estimators) runs its arrays through
these before anything changes, so bad data is one ``ValueError`` everywhere.
"""
from __future__ import annotations

import numpy as np

from .graph import Network
from .kernels.neuron import BCE, SOFTMAX_CE


def check_net(net):
    """``net`` itself, or ValueError if it is not a :class:`~neurosim.graph.Network`."""
    if not isinstance(net, Network):
        raise ValueError(f"expected a neurosim.Network, got {type(net).__name__}")
    return net


def as_real_array(X, what):
    """X as a float64 array, or ValueError unless it holds real numbers only: strings
    (even "1"), complex values (their imaginary part would be dropped), None and other
    objects, and ints too large for a float (10**400) are refused, not converted."""
    try:
        A = np.asarray(X)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be a rectangular array of numbers") from None
    kind = A.dtype.kind
    if kind in "fiub":
        return A.astype(np.float64, copy=False)
    if kind == "c":
        raise ValueError(f"{what} holds complex numbers; give real ones")
    if kind == "O" and A.size and all(
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_)) for v in A.flat):
        try:
            return A.astype(np.float64)
        except OverflowError:
            raise ValueError(f"{what} holds integers too large for a float") from None
    raise ValueError(f"{what} must be numeric (got an array of {A.dtype})")


def check_trainable(net):
    """``net``, or ValueError if its weights are not all finite (training would only
    report divergence at the end of the first epoch)."""
    check_net(net)
    if not np.all(np.isfinite(net.weights)):
        bad = int(np.sum(~np.isfinite(net.weights)))
        raise ValueError(f"the network holds {bad} non-finite weight(s) (NaN or inf); "
                         "it cannot be trained")
    return net


def as_inputs(net, X, what="X"):
    """X as a C-contiguous (n_samples, n_inputs) array of the network's dtype."""
    check_net(net)
    A = as_real_array(X, what)
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
    Y = as_real_array(y, what)
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


def as_test_set(net, X_test, y_test):
    """``(X_test, T_test)`` checked like the training data, or ``(None, None)``."""
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    if X_test is None:
        return None, None
    Xt = as_inputs(net, X_test, "X_test")
    return Xt, as_targets(net, y_test, Xt.shape[0], "y_test")
