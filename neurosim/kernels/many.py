"""Many networks of one topology at once on the CPU: ``W[edge, net]``, networks innermost,
so every edge's work is a loop over networks that LLVM vectorises. The kernels release the
GIL and take a range of chunks of networks, so the caller's threads share the cores. Each
network does what ``cpu.train_epoch`` does on it alone, in the same order: same bits.
"""
import numpy as np
from numba import njit

from .cpu import correct, output_deltas
from .neuron import BCE, RELU, SOFTMAX_CE, activate, derivative, output_terms


@njit(cache=True, nogil=True, error_model="numpy")
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
    ku, cu = np.uint64(k0), np.uint64(c)      # unsigned: no wrap-around checks, so the
    for j in range(n_in + 1, act.shape[0]):    # loops over networks vectorise
        for q in range(c):
            acc[q] = 0.0
        for r in range(run_ptr[j], run_ptr[j + 1]):
            e0 = np.uint64(run_edge[r])
            s0 = np.uint64(run_src[r])
            for kk in range(np.uint64(run_len[r])):
                e = e0 + kk
                s = s0 + kk
                for q in range(cu):
                    acc[q] += W[e, ku + q] * O[s, q]
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
def _outputs(loss, topo, Z, O, T, rows, D, G, c, want_E, E):
    """Each network's error E[q] and its outputs' delta and dE/dz, by the same per-output
    arithmetic as ``cpu.output_deltas`` (softmax_ce: that very function, per network)."""
    act, outputs = topo[1], topo[3]
    if loss == SOFTMAX_CE:
        for q in range(c):
            E[q] = output_deltas(loss, act, outputs, Z[:, q], O[:, q], T[rows[q]], D[:, q],
                                 G[:, q], want_E)
        return
    for q in range(c):
        E[q] = 0.0
    for k in range(outputs.shape[0]):
        j = outputs[k]
        code = act[j]
        for q in range(c):
            e, dl, g = output_terms(loss, code, Z[j, q], O[j, q], T[rows[q], k], want_E)
            E[q] += e
            D[j, q] = dl
            G[j, q] = g


@njit(cache=True, inline="always", error_model="numpy")
def _correct(loss, outputs, O, T, rows, c, right):
    """``right[q] += cpu.correct(...)`` for each network of the chunk."""
    if outputs.shape[0] == 1 or loss == BCE:
        for q in range(c):
            ok = 1
            for k in range(outputs.shape[0]):
                if (O[outputs[k], q] >= 0.5) != (T[rows[q], k] >= 0.5):
                    ok = 0
            right[q] += ok
    else:
        for q in range(c):
            right[q] += correct(loss, outputs, O[:, q], T[rows[q]])


@njit(cache=True, nogil=True, error_model="numpy")
def _backward(topo, W, k0, c, Z, O, D, G, lr, active, fused, GR, on, gq, st):
    """Deltas and the weight change (``fused``: per-sample SGD) or gradient sum into ``GR``
    (minibatch) of the active networks, as ``cpu._backward_update`` does on one network:
    consumers from the last to the first, rows whose dE/dz is 0 left exactly as they were
    (selects, not branches, so the loops over networks vectorise)."""
    n_in, act, is_out, _, run_ptr, run_edge, run_src, run_len = topo[:8]
    n = act.shape[0]
    ku, cu = np.uint64(k0), np.uint64(c)
    for i in range(n):
        if not is_out[i]:
            for q in range(c):
                D[i, q] = 0.0
    for j in range(n - 1, n_in, -1):
        if not is_out[j]:
            code = act[j]
            for q in range(c):
                G[j, q] = derivative(code, Z[j, q], O[j, q]) * D[j, q]
        for q in range(cu):
            g = G[j, q]
            on[q] = active[q] and g != 0.0
            gq[q] = g
            st[q] = lr[q] * g
        for r in range(run_ptr[j], run_ptr[j + 1]):
            e0 = np.uint64(run_edge[r])
            s0 = np.uint64(run_src[r])
            for kk in range(np.uint64(run_len[r])):
                e = e0 + kk
                s = s0 + kk
                if fused:
                    for q in range(cu):
                        w = W[e, ku + q]
                        d = D[s, q]
                        D[s, q] = d + w * gq[q] if on[q] else d
                        W[e, ku + q] = w - st[q] * O[s, q] if on[q] else w
                else:
                    for q in range(cu):
                        d = D[s, q]
                        gr = GR[e, q]
                        D[s, q] = d + W[e, ku + q] * gq[q] if on[q] else d
                        GR[e, q] = gr + O[s, q] * gq[q] if on[q] else gr


@njit(cache=True, inline="always", error_model="numpy")
def _apply(W, k0, q, GR, scale, decay, src, bias):
    """``cpu.apply_grad`` for network ``k0 + q``."""
    if decay == 0.0:
        for e in range(W.shape[0]):
            W[e, k0 + q] -= scale * GR[e, q]
            GR[e, q] = 0.0
        return
    for e in range(W.shape[0]):
        wo = W[e, k0 + q]
        w1 = wo - scale * GR[e, q]
        W[e, k0 + q] = w1 - decay * wo if src[e] != bias else w1
        GR[e, q] = 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _decay_share(W, k0, c, src, bias, dec, active, PS):
    """``cpu.decay_share`` for each active network of the chunk with a penalty (0 for the
    others, so that they stay exactly as they are)."""
    ku, cu = np.uint64(k0), np.uint64(c)
    for e in range(W.shape[0]):
        if src[e] == bias:
            for q in range(cu):
                PS[e, q] = 0.0
        else:
            for q in range(cu):
                PS[e, q] = dec[q] * W[e, ku + q] if active[q] and dec[q] != 0.0 else 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _take_share(W, k0, c, PS):
    ku, cu = np.uint64(k0), np.uint64(c)
    for e in range(W.shape[0]):
        for q in range(cu):
            W[e, ku + q] -= PS[e, q]


@njit(cache=True, inline="always", error_model="numpy")
def _sum_sq(W, k0, c, src, bias, stopped, ep, sq):
    """``cpu.sum_sq`` of each network of the chunk into ``sq[k, ep]`` (a stopped network
    repeats its last row, as :func:`_store` does)."""
    for q in range(c):
        k = k0 + q
        if stopped[k] >= 0 and ep > 0:
            sq[k, ep] = sq[k, ep - 1]
            continue
        s = 0.0
        for e in range(W.shape[0]):
            if src[e] != bias:
                s += np.float64(W[e, k]) * np.float64(W[e, k])
        sq[k, ep] = s


@njit(cache=True, nogil=True, error_model="numpy")
def _evaluate(X, T, loss, topo, W, k0, c, Z, O, D, G, acc, rows, tot, right):
    """Sum of the error and correct samples of each network of the chunk over (X, T)."""
    for q in range(c):
        tot[q] = 0.0
        right[q] = 0
    for i in range(X.shape[0]):
        for q in range(c):
            rows[q] = i
        _forward(X, rows, topo, W, k0, c, Z, O, acc)
        _outputs(loss, topo, Z, O, T, rows, D, G, c, True, acc)
        for q in range(c):
            tot[q] += acc[q]
        _correct(loss, topo[3], O, T, rows, c, right)


@njit(cache=True, inline="always", error_model="numpy")
def _store(tot, right, n, stopped, k0, c, ep, loss, acc):
    """Epoch ``ep``'s mean error and accuracy of each network of the chunk; a stopped
    (diverged) network repeats its last row."""
    for q in range(c):
        k = k0 + q
        if stopped[k] >= 0:
            loss[k, ep] = loss[k, ep - 1]
            acc[k, ep] = acc[k, ep - 1]
        else:
            loss[k, ep] = tot[q] / n
            acc[k, ep] = right[q] / n


@njit(cache=True, inline="always", error_model="numpy")
def _scratch(n_neurons, c, dtype):
    """A chunk's work arrays: Z, O, D, G (n_neurons, c); acc, tot (c,) float64; rows,
    right (c,) int64."""
    return (np.empty((n_neurons, c), dtype), np.empty((n_neurons, c), dtype),
            np.zeros((n_neurons, c), dtype), np.zeros((n_neurons, c), dtype),
            np.empty(c, np.float64), np.empty(c, np.int64), np.empty(c, np.float64),
            np.empty(c, np.int64))


@njit(cache=True, nogil=True, error_model="numpy")
def train_many(X, T, perms, lrs, decays, batch, skip_zero, loss, topo, W, first, epochs,
               chunk, b_lo, b_hi, Xt, Tt, stopped, loss_tr, acc_tr, loss_te, acc_te, sq,
               snaps):
    """Epochs ``first+1 .. first+epochs`` for the networks of chunks ``b_lo..b_hi-1``
    (``chunk`` networks each), each epoch followed by its evaluation.

    ``W`` (n_edges, k) is trained in place. Network k visits the samples of epoch
    ``first+e+1`` in the order ``perms[k % len(perms), e]``. After every epoch the
    training set (and ``Xt, Tt`` when it has samples) is evaluated into
    ``loss_tr[k, first+e+1]`` (sum of E / n), ``acc_tr`` (correct / n) and the test twins;
    ``sq[k, first+e+1]`` the sum of its non-bias weights' squares (the L2 penalty over
    ``l2/2``), and ``snaps[first+e+1]`` the weights when ``snaps`` has rows.
    ``decays[k] = lrs[k] * l2[k]`` (0: no penalty) as in ``cpu.train_epoch``. A network
    whose loss or
    weights stop being finite is marked in ``stopped`` (the epoch number) and trains no
    more; its later rows repeat that epoch's values.
    """
    m, K = W.shape
    n_neurons = topo[1].shape[0]
    n = X.shape[0]
    P = perms.shape[0]
    fused = batch == 1
    want_E = skip_zero or loss != BCE
    src, bias = topo[10], topo[0]
    for b in range(b_lo, b_hi):
        k0 = b * chunk
        c = min(chunk, K - k0)
        Z, O, D, G, acc, rows, tot, right = _scratch(n_neurons, c, W.dtype)
        GR = np.zeros((m if not fused else 0, c), W.dtype)
        active = np.empty(c, np.bool_)
        on = np.empty(c, np.bool_)
        gq = np.empty(c, W.dtype)
        st = np.empty(c, W.dtype)
        nb = np.zeros(c, np.int64)
        lr = np.empty(c, W.dtype)
        dec = np.empty(c, W.dtype)
        penal = False
        for q in range(c):
            lr[q] = lrs[k0 + q]
            dec[q] = decays[k0 + q]
            penal = penal or dec[q] != 0.0
        PS = np.empty((m if penal and fused else 0, c), W.dtype)
        for e in range(epochs):
            ep = first + e + 1
            for q in range(c):
                nb[q] = 0
            for s in range(n):
                for q in range(c):
                    rows[q] = perms[(k0 + q) % P, e, s]
                _forward(X, rows, topo, W, k0, c, Z, O, acc)
                _outputs(loss, topo, Z, O, T, rows, D, G, c, want_E, acc)
                for q in range(c):
                    active[q] = stopped[k0 + q] < 0 and not (skip_zero and acc[q] == 0.0)
                if penal and fused:
                    _decay_share(W, k0, c, src, bias, dec, active, PS)
                _backward(topo, W, k0, c, Z, O, D, G, lr, active, fused, GR, on, gq, st)
                if penal and fused:
                    _take_share(W, k0, c, PS)
                if not fused:
                    for q in range(c):
                        if active[q]:
                            nb[q] += 1
                            if nb[q] == batch:
                                _apply(W, k0, q, GR, lr[q] / nb[q], dec[q], src, bias)
                                nb[q] = 0
            if not fused:
                for q in range(c):
                    if nb[q] > 0:
                        _apply(W, k0, q, GR, lr[q] / nb[q], dec[q], src, bias)
            _evaluate(X, T, loss, topo, W, k0, c, Z, O, D, G, acc, rows, tot, right)
            _store(tot, right, n, stopped, k0, c, ep, loss_tr, acc_tr)
            _sum_sq(W, k0, c, src, bias, stopped, ep, sq)
            if Xt.shape[0] > 0:
                _evaluate(Xt, Tt, loss, topo, W, k0, c, Z, O, D, G, acc, rows, tot, right)
                _store(tot, right, Xt.shape[0], stopped, k0, c, ep, loss_te, acc_te)
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


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate_many(X, T, loss, topo, W, chunk, b_lo, b_hi, loss_out, acc_out):
    """Mean error and accuracy of the networks of chunks ``b_lo..b_hi-1`` over (X, T)."""
    m, K = W.shape
    n_neurons = topo[1].shape[0]
    for b in range(b_lo, b_hi):
        k0 = b * chunk
        c = min(chunk, K - k0)
        Z, O, D, G, acc, rows, tot, right = _scratch(n_neurons, c, W.dtype)
        _evaluate(X, T, loss, topo, W, k0, c, Z, O, D, G, acc, rows, tot, right)
        for q in range(c):
            loss_out[k0 + q] = tot[q] / X.shape[0]
            acc_out[k0 + q] = right[q] / X.shape[0]
