"""Many networks of one topology at once on the CPU: ``W[edge, net]``, networks innermost,
so every edge's work is a loop over networks that LLVM vectorises; Numba's ``prange``
spreads chunks of networks over the cores. Each network does what ``cpu.train_epoch`` does
on it alone, in the same order, so the results are the same bit for bit.
"""
import numpy as np
from numba import njit, prange

from .cpu import correct, output_deltas
from .neuron import BCE, RELU, activate, derivative


@njit(cache=True, inline="always", error_model="numpy")
def _forward(X, rows, topo, W, k0, c, Z, O, acc):
    """Every network of the chunk ``k0:k0+c`` forward on its own sample ``X[rows[q]]``."""
    n_in, act, _, _, run_ptr, run_edge, run_src, run_len = topo[:8]
    for q in range(c):
        i = rows[q]
        for a in range(n_in):
            Z[a, q] = X[i, a]
            O[a, q] = X[i, a]
        Z[n_in, q] = 1.0
        O[n_in, q] = 1.0
    for j in range(n_in + 1, act.shape[0]):
        for q in range(c):
            acc[q] = 0.0
        for r in range(run_ptr[j], run_ptr[j + 1]):
            e0 = np.uint64(run_edge[r])
            s0 = np.uint64(run_src[r])
            for kk in range(np.uint64(run_len[r])):
                e = e0 + kk
                s = s0 + kk
                for q in range(c):
                    acc[q] += W[e, k0 + q] * O[s, q]
        code = act[j]
        if code == RELU:
            for q in range(c):
                v = acc[q]
                Z[j, q] = v
                O[j, q] = v if v > 0.0 else 0.0 * v
        else:
            for q in range(c):
                Z[j, q] = acc[q]
                O[j, q] = activate(code, acc[q])


@njit(cache=True, inline="always", error_model="numpy")
def _backward(topo, W, k0, c, Z, O, D, G, lr, active, fused, GR):
    """Deltas and the weight change (``fused``: per-sample SGD) or gradient sum into ``GR``
    (minibatch) of the active networks, as ``cpu._backward_update`` does on one network:
    consumers from the last to the first, rows whose dE/dz is 0 skipped."""
    n_in, act, is_out, _, run_ptr, run_edge, run_src, run_len = topo[:8]
    n = act.shape[0]
    for i in range(n):
        if not is_out[i]:
            for q in range(c):
                D[i, q] = 0.0
    for j in range(n - 1, n_in, -1):
        if not is_out[j]:
            code = act[j]
            for q in range(c):
                G[j, q] = derivative(code, Z[j, q], O[j, q]) * D[j, q]
        for r in range(run_ptr[j], run_ptr[j + 1]):
            e0 = np.uint64(run_edge[r])
            s0 = np.uint64(run_src[r])
            for kk in range(np.uint64(run_len[r])):
                e = e0 + kk
                s = s0 + kk
                if fused:
                    for q in range(c):
                        g = G[j, q]
                        if active[q] and g != 0.0:
                            D[s, q] += W[e, k0 + q] * g
                            W[e, k0 + q] -= (lr[q] * g) * O[s, q]
                else:
                    for q in range(c):
                        g = G[j, q]
                        if active[q] and g != 0.0:
                            D[s, q] += W[e, k0 + q] * g
                            GR[e, q] += O[s, q] * g


@njit(cache=True, inline="always", error_model="numpy")
def _apply(W, k0, q, GR, scale):
    for e in range(W.shape[0]):
        W[e, k0 + q] -= scale * GR[e, q]
        GR[e, q] = 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _evaluate(X, T, loss, topo, W, k0, c, Z, O, D, G, acc, rows, tot, right):
    """Sum of the error and correct samples of each network of the chunk over (X, T)."""
    outputs = topo[3]
    for q in range(c):
        tot[q] = 0.0
        right[q] = 0
    for i in range(X.shape[0]):
        for q in range(c):
            rows[q] = i
        _forward(X, rows, topo, W, k0, c, Z, O, acc)
        for q in range(c):
            tot[q] += output_deltas(loss, topo[1], outputs, Z[:, q], O[:, q], T[i],
                                    D[:, q], G[:, q], True)
            right[q] += correct(loss, outputs, O[:, q], T[i])


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def train_many(X, T, perms, lrs, batch, skip_zero, loss, topo, W, first, epochs, chunk,
               Xt, Tt, stopped, loss_tr, acc_tr, loss_te, acc_te, snaps):
    """Epochs ``first+1 .. first+epochs`` for every network, then each epoch's evaluation.

    ``W`` (n_edges, k) is trained in place. Network k visits the samples of epoch
    ``first+e+1`` in the order ``perms[k % len(perms), e]``. After every epoch the
    training set (and ``Xt, Tt`` when it has samples) is evaluated into
    ``loss_tr[k, first+e+1]`` (sum of E / n), ``acc_tr`` (correct / n) and the test twins;
    ``snaps[first+e+1]`` gets the weights when ``snaps`` has rows. A network whose loss or
    weights stop being finite is marked in ``stopped`` (the epoch number) and trains no
    more; its later rows repeat that epoch's values.
    """
    m, K = W.shape
    n_neurons = topo[1].shape[0]
    n = X.shape[0]
    P = perms.shape[0]
    fused = batch == 1
    want_E = skip_zero or loss != BCE
    n_chunks = (K + chunk - 1) // chunk
    for b in prange(n_chunks):
        k0 = b * chunk
        c = min(chunk, K - k0)
        Z = np.empty((n_neurons, c), W.dtype)
        O = np.empty((n_neurons, c), W.dtype)
        D = np.zeros((n_neurons, c), W.dtype)
        G = np.zeros((n_neurons, c), W.dtype)
        GR = np.zeros((m if not fused else 0, c), W.dtype)
        acc = np.empty(c, np.float64)
        rows = np.empty(c, np.int64)
        active = np.empty(c, np.bool_)
        nb = np.zeros(c, np.int64)
        tot = np.empty(c, np.float64)
        right = np.empty(c, np.int64)
        lr = np.empty(c, W.dtype)
        for q in range(c):
            lr[q] = lrs[k0 + q]
        for e in range(epochs):
            ep = first + e + 1
            for q in range(c):
                nb[q] = 0
            for s in range(n):
                for q in range(c):
                    rows[q] = perms[(k0 + q) % P, e, s]
                _forward(X, rows, topo, W, k0, c, Z, O, acc)
                for q in range(c):
                    E = output_deltas(loss, topo[1], topo[3], Z[:, q], O[:, q], T[rows[q]],
                                      D[:, q], G[:, q], want_E)
                    active[q] = stopped[k0 + q] < 0 and not (skip_zero and E == 0.0)
                _backward(topo, W, k0, c, Z, O, D, G, lr, active, fused, GR)
                if not fused:
                    for q in range(c):
                        if active[q]:
                            nb[q] += 1
                            if nb[q] == batch:
                                _apply(W, k0, q, GR, lr[q] / nb[q])
                                nb[q] = 0
            if not fused:
                for q in range(c):
                    if nb[q] > 0:
                        _apply(W, k0, q, GR, lr[q] / nb[q])
            _evaluate(X, T, loss, topo, W, k0, c, Z, O, D, G, acc, rows, tot, right)
            for q in range(c):
                k = k0 + q
                if stopped[k] >= 0:
                    loss_tr[k, ep] = loss_tr[k, ep - 1]
                    acc_tr[k, ep] = acc_tr[k, ep - 1]
                else:
                    loss_tr[k, ep] = tot[q] / n
                    acc_tr[k, ep] = right[q] / n
            if Xt.shape[0] > 0:
                _evaluate(Xt, Tt, loss, topo, W, k0, c, Z, O, D, G, acc, rows, tot, right)
                for q in range(c):
                    k = k0 + q
                    if stopped[k] >= 0:
                        loss_te[k, ep] = loss_te[k, ep - 1]
                        acc_te[k, ep] = acc_te[k, ep - 1]
                    else:
                        loss_te[k, ep] = tot[q] / Xt.shape[0]
                        acc_te[k, ep] = right[q] / Xt.shape[0]
            for q in range(c):
                k = k0 + q
                if stopped[k] < 0:
                    ok = np.isfinite(loss_tr[k, ep])
                    for w_e in range(m):
                        if not np.isfinite(W[w_e, k]):
                            ok = False
                    if not ok:
                        stopped[k] = ep
            if snaps.shape[0] > 0:
                for w_e in range(m):
                    for q in range(c):
                        snaps[ep, k0 + q, w_e] = W[w_e, k0 + q]


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def evaluate_many(X, T, loss, topo, W, chunk, loss_out, acc_out):
    """Mean error and accuracy of every network over (X, T), weights fixed."""
    m, K = W.shape
    n_neurons = topo[1].shape[0]
    n_chunks = (K + chunk - 1) // chunk
    for b in prange(n_chunks):
        k0 = b * chunk
        c = min(chunk, K - k0)
        Z = np.empty((n_neurons, c), W.dtype)
        O = np.empty((n_neurons, c), W.dtype)
        D = np.zeros((n_neurons, c), W.dtype)
        G = np.zeros((n_neurons, c), W.dtype)
        acc = np.empty(c, np.float64)
        rows = np.empty(c, np.int64)
        tot = np.empty(c, np.float64)
        right = np.empty(c, np.int64)
        _evaluate(X, T, loss, topo, W, k0, c, Z, O, D, G, acc, rows, tot, right)
        for q in range(c):
            loss_out[k0 + q] = tot[q] / X.shape[0]
            acc_out[k0 + q] = right[q] / X.shape[0]
