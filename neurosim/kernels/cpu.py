"""CPU kernels: ``@njit(cache=True)`` loops over a Network's edge-list arrays.

Arguments are two bundles built once per network -- ``topo`` (:attr:`Network.topo`, the
index arrays) and ``S = (z, out, delta, dedz)`` (per-neuron scratch) -- plus the weights and
the data. The performance choices and what each was measured to buy: ``docs/kernels.md``.
"""
import math

import numpy as np
from numba import njit

from .neuron import BCE, RELU, SOFTMAX_CE, activate, derivative, output_terms

# Layout of the ``topo`` bundle (see neurosim.graph.Network.topo):
#   n_in, act, is_out, outputs, run_ptr, run_edge, run_src, run_len, out_ptr, out_edge, src, dst


# ---------------------------------------------------------------------------------------
# forward (Figs 14-20: outputs flow right, scaled by the weights and summed)
@njit(cache=True, error_model="numpy", nogil=True)
def _activate(code, s):
    """:func:`neuron.activate` compiled once, called (not inlined) for non-relu neurons."""
    return activate(code, s)


@njit(cache=True, inline="always")
def _set_out(out, j, code, s):
    """``out[j] = f(s)``; relu as a branch-free select (its sign is a coin flip per sample)."""
    if code == RELU:
        out[j] = s if s > 0.0 else 0.0 * s
    else:
        out[j] = _activate(code, s)


@njit(cache=True, inline="always", error_model="numpy")
def set_inputs(x, n_in, z, out):
    """Inputs take the sample's values; the bias neuron outputs 1 (the bias trick)."""
    for i in range(n_in):
        z[i] = x[i]
        out[i] = x[i]
    z[n_in] = 1.0
    out[n_in] = 1.0


@njit(cache=True, inline="always", error_model="numpy")
def net_input(j, run_ptr, run_edge, run_src, run_len, w, out):
    """z_j = sum_i w_ij o_i over neuron j's incoming runs (the one net-input sum)."""
    s = 0.0
    for r in range(run_ptr[j], run_ptr[j + 1]):
        e0 = np.uint64(run_edge[r])      # unsigned: no wrap-around check, so LLVM vectorises
        s0 = np.uint64(run_src[r])
        for k in range(np.uint64(run_len[r])):
            s += w[e0 + k] * out[s0 + k]
    return s


@njit(cache=True, inline="always", error_model="numpy")
def forward(x, topo, w, z, out):
    """One sample forward: ``z_j = sum_i w_ij o_i``, ``o_j = f_j(z_j)`` for every neuron."""
    n_in, act, _, _, run_ptr, run_edge, run_src, run_len = topo[:8]
    set_inputs(x, n_in, z, out)
    for j in range(n_in + 1, act.shape[0]):
        s = net_input(j, run_ptr, run_edge, run_src, run_len, w, out)
        z[j] = s
        _set_out(out, j, act[j], s)


# ---------------------------------------------------------------------------------------
# loss at the outputs (Figs 14-8 to 14-12; the sign is output minus label)
@njit(cache=True, inline="always", error_model="numpy")
def output_deltas(loss, act, outputs, z, out, t, delta, dedz, want_E=True):
    """Error E of one sample and, for each output, delta = dE/do and dedz = dE/dz.

    With ``want_E=False`` the bce error (an exp and a log) is skipped and 0 returned.

    quadratic and bce: each output's terms from :func:`neuron.output_terms`.
    softmax_ce (identity outputs = logits): p = softmax(o), E = -sum t log p,
    delta = dedz = p - t.
    """
    m = outputs.shape[0]
    E = 0.0
    if loss == SOFTMAX_CE:
        mx = -np.inf
        for k in range(m):
            v = out[outputs[k]]
            if v > mx:
                mx = v
        se = 0.0
        for k in range(m):
            se += math.exp(out[outputs[k]] - mx)
        lse = mx + math.log(se)
        for k in range(m):
            j = outputs[k]
            E -= t[k] * (out[j] - lse)
            d = math.exp(out[j] - lse) - t[k]
            delta[j] = d
            dedz[j] = d
    else:
        for k in range(m):
            j = outputs[k]
            e, dl, g = output_terms(loss, act[j], z[j], out[j], t[k], want_E)
            E += e
            delta[j] = dl
            dedz[j] = g
    return E


@njit(cache=True, nogil=True)
def correct(loss, outputs, out, t):
    """1 if the sample is classified right: threshold 0.5 for one output (or every output
    under bce), argmax otherwise."""
    m = outputs.shape[0]
    if m == 1 or loss == BCE:
        for k in range(m):
            if (out[outputs[k]] >= 0.5) != (t[k] >= 0.5):
                return 0
        return 1
    bo = 0
    bt = 0
    for k in range(1, m):
        if out[outputs[k]] > out[outputs[bo]]:
            bo = k
        if t[k] > t[bt]:
            bt = k
    return 1 if bo == bt else 0


# ---------------------------------------------------------------------------------------
# backward (Figs 14-16 to 14-21: deltas flow left, scaled by the same weights and summed)
@njit(cache=True, nogil=True)
def backward(loss, topo, w, z, out, t, delta, dedz):
    """One sample backward, as a gather over outgoing edges; returns the error E.

    delta_i = sum_{i->j} w_ij dedz_j (the chapter's A-delta = AC x C-delta + AD x D-delta
    when f' = 1), dedz_i = f'(z_i) delta_i. Fills delta and dedz for every neuron (inputs
    and bias included). Call after :func:`forward`.
    """
    n_in, act, is_out = topo[0], topo[1], topo[2]
    out_ptr, out_edge, dst = topo[8], topo[9], topo[11]
    E = output_deltas(loss, topo[1], topo[3], z, out, t, delta, dedz)
    for i in range(act.shape[0] - 1, -1, -1):
        if is_out[i]:
            continue
        s = 0.0
        for k in range(out_ptr[i], out_ptr[i + 1]):
            e = out_edge[k]
            s += w[e] * dedz[dst[e]]
        delta[i] = s
        dedz[i] = derivative(act[i], z[i], out[i]) * s if i > n_in else s
    return E


@njit(cache=True, nogil=True)
def gradient(topo, out, dedz, grad):
    """dE/dw for every edge i->j: o_i dedz_j = o_i f'(z_j) delta_j."""
    src, dst = topo[10], topo[11]
    for e in range(src.shape[0]):
        grad[e] = out[src[e]] * dedz[dst[e]]


@njit(cache=True, nogil=True)
def update(topo, out, dedz, w, lr):
    """Gradient-descent step (Fig 14-27): AC <- AC - lr * Ao * f'(zC) * C-delta."""
    src, dst = topo[10], topo[11]
    for e in range(src.shape[0]):
        w[e] -= lr * out[src[e]] * dedz[dst[e]]


# ---------------------------------------------------------------------------------------
# whole epochs: per-sample SGD never returns to Python between samples
@njit(cache=True, inline="always", error_model="numpy")
def _backward_update(lr, topo, w, z, out, delta, dedz, grad, fused):
    """Backward pass as a scatter over incoming runs, in reverse topological order.

    Each consumer j adds w_ij dedz_j to delta_i before w_ij changes, so when neuron i is
    reached its delta is complete and computed with the pre-update weights. With
    ``fused`` the weight changes at once (per-sample SGD, identical to backward then
    update); otherwise o_i dedz_j is added to ``grad`` (minibatch).
    """
    n_in, act, is_out, _, run_ptr, run_edge, run_src, run_len = topo[:8]
    n = act.shape[0]
    for i in range(n):
        if not is_out[i]:
            delta[i] = 0.0
    for j in range(n - 1, n_in, -1):
        if not is_out[j]:
            dedz[j] = derivative(act[j], z[j], out[j]) * delta[j]
        gj = dedz[j]        # as stored: in float32 the same rounding as _backward_grouped
        if gj == 0.0:
            continue
        step = lr * gj
        for r in range(run_ptr[j], run_ptr[j + 1]):
            e0 = np.uint64(run_edge[r])
            s0 = np.uint64(run_src[r])
            L = np.uint64(run_len[r])
            if fused:
                for k in range(L):
                    delta[s0 + k] += w[e0 + k] * gj
                    w[e0 + k] -= step * out[s0 + k]
            else:
                for k in range(L):
                    delta[s0 + k] += w[e0 + k] * gj
                    grad[e0 + k] += out[s0 + k] * gj


@njit(cache=True, inline="always", error_model="numpy")
def _groups(n_in, run_ptr, run_src, run_len):
    """Start of each neuron's *group*: a maximal stretch of consecutive neurons that each
    have exactly one run, all with the same sources (a dense layer, or a block of one).
    Group members never feed each other, so their rows can be processed together."""
    n = run_ptr.shape[0] - 1
    start = np.empty(n, np.int64)
    for j in range(n_in + 1):
        start[j] = j
    j = n_in + 1
    while j < n:
        k = j + 1
        if run_ptr[j + 1] - run_ptr[j] == 1:
            r = run_ptr[j]
            while k < n and run_ptr[k + 1] - run_ptr[k] == 1:
                q = run_ptr[k]
                if run_src[q] != run_src[r] or run_len[q] != run_len[r]:
                    break
                k += 1
        for q in range(j, k):
            start[q] = j
        j = k
    return start


@njit(cache=True, inline="always", error_model="numpy")
def _forward_grouped(x, topo, w, z, out, start):
    """:func:`forward`, four rows of a group at a time (each row's sum in the same order,
    so the results are identical; four independent sums keep the FPU busy)."""
    n_in, act, _, _, run_ptr, run_edge, run_src, run_len = topo[:8]
    n = act.shape[0]
    set_inputs(x, n_in, z, out)
    j = n_in + 1
    while j < n:
        if j + 3 < n and start[j + 3] == start[j]:
            r = run_ptr[j]
            s0 = np.uint64(run_src[r])
            L = np.uint64(run_len[r])
            ea = np.uint64(run_edge[r])
            eb = np.uint64(run_edge[run_ptr[j + 1]])
            ec = np.uint64(run_edge[run_ptr[j + 2]])
            ed = np.uint64(run_edge[run_ptr[j + 3]])
            a = 0.0
            b = 0.0
            c = 0.0
            d = 0.0
            for k in range(L):
                o = out[s0 + k]
                a += w[ea + k] * o
                b += w[eb + k] * o
                c += w[ec + k] * o
                d += w[ed + k] * o
            z[j] = a
            _set_out(out, j, act[j], a)
            z[j + 1] = b
            _set_out(out, j + 1, act[j + 1], b)
            z[j + 2] = c
            _set_out(out, j + 2, act[j + 2], c)
            z[j + 3] = d
            _set_out(out, j + 3, act[j + 3], d)
            j += 4
            continue
        s = net_input(j, run_ptr, run_edge, run_src, run_len, w, out)
        z[j] = s
        _set_out(out, j, act[j], s)
        j += 1


@njit(cache=True, inline="always", error_model="numpy")
def _backward_grouped(lr, topo, w, z, out, delta, dedz, start, rows):
    """:func:`_backward_update` with ``fused``, the rows of a group with dedz != 0 four at
    a time: each delta_i gets the same terms in the same order (consumers from the last
    to the first), so the results are identical."""
    n_in, act, is_out, _, run_ptr, run_edge, run_src, run_len = topo[:8]
    n = act.shape[0]
    for i in range(n):
        if not is_out[i]:
            delta[i] = 0.0
    j = n - 1
    while j > n_in:
        j0 = start[j]
        cnt = 0
        for q in range(j, j0 - 1, -1):
            if is_out[q]:
                gq = dedz[q]
            else:
                gq = derivative(act[q], z[q], out[q]) * delta[q]
                dedz[q] = gq
            if gq != 0.0:
                rows[cnt] = q
                cnt += 1
        c = 0
        if cnt >= 4:
            r = run_ptr[j0]
            s0 = np.uint64(run_src[r])
            L = np.uint64(run_len[r])
            while c + 4 <= cnt:
                qa = rows[c]
                qb = rows[c + 1]
                qc = rows[c + 2]
                qd = rows[c + 3]
                ea = np.uint64(run_edge[run_ptr[qa]])
                eb = np.uint64(run_edge[run_ptr[qb]])
                ec = np.uint64(run_edge[run_ptr[qc]])
                ed = np.uint64(run_edge[run_ptr[qd]])
                ga = dedz[qa]
                gb = dedz[qb]
                gc = dedz[qc]
                gd = dedz[qd]
                sa = lr * ga
                sb = lr * gb
                sc = lr * gc
                sd = lr * gd
                for k in range(L):
                    o = out[s0 + k]
                    dl = delta[s0 + k]
                    dl += w[ea + k] * ga
                    w[ea + k] -= sa * o
                    dl += w[eb + k] * gb
                    w[eb + k] -= sb * o
                    dl += w[ec + k] * gc
                    w[ec + k] -= sc * o
                    dl += w[ed + k] * gd
                    w[ed + k] -= sd * o
                    delta[s0 + k] = dl
                c += 4
        if j > j0 and c < cnt:
            r = run_ptr[j0]
            s0 = np.uint64(run_src[r])
            L = np.uint64(run_len[r])
            if c + 2 <= cnt:
                qa = rows[c]
                qb = rows[c + 1]
                ea = np.uint64(run_edge[run_ptr[qa]])
                eb = np.uint64(run_edge[run_ptr[qb]])
                ga = dedz[qa]
                gb = dedz[qb]
                sa = lr * ga
                sb = lr * gb
                for k in range(L):
                    o = out[s0 + k]
                    dl = delta[s0 + k]
                    dl += w[ea + k] * ga
                    w[ea + k] -= sa * o
                    dl += w[eb + k] * gb
                    w[eb + k] -= sb * o
                    delta[s0 + k] = dl
                c += 2
            if c < cnt:
                qa = rows[c]
                ea = np.uint64(run_edge[run_ptr[qa]])
                ga = dedz[qa]
                sa = lr * ga
                for k in range(L):
                    delta[s0 + k] += w[ea + k] * ga
                    w[ea + k] -= sa * out[s0 + k]
                c += 1
        while c < cnt:
            q = rows[c]
            gq = dedz[q]
            step = lr * gq
            for r in range(run_ptr[q], run_ptr[q + 1]):
                e0 = np.uint64(run_edge[r])
                s0 = np.uint64(run_src[r])
                L = np.uint64(run_len[r])
                if L == np.uint64(1):
                    delta[s0] += w[e0] * gq
                    w[e0] -= step * out[s0]
                    continue
                for k in range(L):
                    delta[s0 + k] += w[e0 + k] * gq
                    w[e0 + k] -= step * out[s0 + k]
            c += 1
        j = j0 - 1


@njit(cache=True, inline="always", error_model="numpy")
def apply_grad(w, grad, scale, decay, src, bias):
    """End of a minibatch: ``w -= scale * grad`` and ``grad`` back to 0; with an L2
    penalty (``decay = lr * l2`` != 0) every weight but the biases' then loses
    ``decay * w`` (w as it was before this step)."""
    if decay == 0.0:
        for e in range(w.shape[0]):
            w[e] -= scale * grad[e]
            grad[e] = 0.0
        return
    for e in range(w.shape[0]):
        wo = w[e]
        w1 = wo - scale * grad[e]
        w[e] = w1 - decay * wo if src[e] != bias else w1
        grad[e] = 0.0


@njit(cache=True, inline="always", error_model="numpy")
def decay_share(w, src, bias, decay, p):
    """``p_e = decay * w_e`` (``decay = lr * l2``) for every weight but the biases' (0
    there): the L2 penalty's part of a per-sample step, from the weights before it."""
    for e in range(w.shape[0]):
        p[e] = decay * w[e] if src[e] != bias else 0.0


@njit(cache=True, inline="always", error_model="numpy")
def take_share(w, p):
    """``w -= p`` after the step's data part: AC <- (AC - lr Ao Cd) - lr l2 AC."""
    for e in range(w.shape[0]):
        w[e] -= p[e]


@njit(cache=True, nogil=True, error_model="numpy")
def sum_sq(w, src, bias):
    """Sum of the squares of the weights but the biases', in edge order, in float64
    (the L2 penalty is ``l2 / 2`` times it)."""
    s = 0.0
    for e in range(w.shape[0]):
        if src[e] != bias:
            s += np.float64(w[e]) * np.float64(w[e])
    return s


@njit(cache=True, inline="always", error_model="numpy")
def _record(s, watch, out, delta, rec_out, rec_delta, is_out, backward_ran):
    for q in range(watch.shape[0]):
        rec_out[s, q] = out[watch[q]]
        rec_delta[s, q] = delta[watch[q]] if backward_ran or is_out[watch[q]] else 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _sgd_body(X, T, perm, lr, decay, skip_zero, loss, topo, w, S, rec, record,
              running=False):
    """Per-sample SGD over ``X[perm]`` (forward, deltas, update, next sample), four rows of
    a dense group at a time; ``decay = lr * l2`` != 0 adds the L2 penalty's part to every
    non-bias weight's step; with ``record`` (a compile-time flag) the watched neurons'
    outputs and deltas and each step's error go into ``rec``; with ``running`` (also a
    compile-time flag) the error is always summed and the samples classified right before
    their step counted. Returns (sum of E, updates, right)."""
    z, out, delta, dedz = S
    watch, rec_out, rec_delta, rec_err = rec
    is_out = topo[2]
    want_E = skip_zero or record or running or loss != BCE
    right = 0
    start = _groups(topo[0], topo[4], topo[6], topo[7])
    rows = np.empty(topo[1].shape[0], np.int64)
    penal = decay != 0.0
    p = np.empty(w.shape[0] if penal else 0, w.dtype)
    src, bias = topo[10], topo[0]
    total = 0.0
    updates = 0
    for s in range(perm.shape[0]):
        i = perm[s]
        _forward_grouped(X[i], topo, w, z, out, start)
        E = output_deltas(loss, topo[1], topo[3], z, out, T[i], delta, dedz, want_E)
        if running:
            right += correct(loss, topo[3], out, T[i])
        total += E
        if record:
            rec_err[s] = E
        if skip_zero and E == 0.0:
            if record:
                _record(s, watch, out, delta, rec_out, rec_delta, is_out, False)
            continue
        if penal:
            decay_share(w, src, bias, decay, p)
        _backward_grouped(lr, topo, w, z, out, delta, dedz, start, rows)
        if penal:
            take_share(w, p)
        updates += 1
        if record:
            _record(s, watch, out, delta, rec_out, rec_delta, is_out, True)
    return total, updates, right


@njit(cache=True, inline="always", error_model="numpy")
def _minibatch_body(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad, rec,
                    record, running=False):
    """Minibatch SGD over ``X[perm]``: gradients summed over ``batch`` samples, then
    ``w -= lr * grad / batch`` (and ``decay * w`` off the non-bias weights);
    ``record`` and ``running`` as in :func:`_sgd_body`."""
    z, out, delta, dedz = S
    watch, rec_out, rec_delta, rec_err = rec
    is_out = topo[2]
    want_E = skip_zero or record or running or loss != BCE
    right = 0
    src, bias = topo[10], topo[0]
    for e in range(w.shape[0]):
        grad[e] = 0.0
    total = 0.0
    updates = 0
    nb = 0
    for s in range(perm.shape[0]):
        i = perm[s]
        forward(X[i], topo, w, z, out)
        E = output_deltas(loss, topo[1], topo[3], z, out, T[i], delta, dedz, want_E)
        if running:
            right += correct(loss, topo[3], out, T[i])
        total += E
        if record:
            rec_err[s] = E
        if skip_zero and E == 0.0:
            if record:
                _record(s, watch, out, delta, rec_out, rec_delta, is_out, False)
            continue
        _backward_update(lr, topo, w, z, out, delta, dedz, grad, False)
        if record:
            _record(s, watch, out, delta, rec_out, rec_delta, is_out, True)
        nb += 1
        if nb == batch:
            apply_grad(w, grad, lr / nb, decay, src, bias)
            nb = 0
            updates += 1
    if nb > 0:
        apply_grad(w, grad, lr / nb, decay, src, bias)
        updates += 1
    return total, updates, right


@njit(cache=True, error_model="numpy", nogil=True)
def train_epoch(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad, rec):
    """One epoch of SGD over the samples ``X[perm]``; returns (sum of E, updates made).

    The sum of E is the running error during the epoch (error before each sample's
    update); under ``bce`` it is only computed when ``skip_zero`` needs it, else it is 0.

    ``batch == 1``: per-sample SGD as in the chapter (forward, deltas, update, next
    sample). ``batch > 1``: gradients summed over ``batch`` samples, then
    ``w -= lr * grad / batch``. ``skip_zero``: no update for a sample whose error is 0.
    ``decay = lr * l2``: the L2 penalty ``l2/2 * sum w^2`` over the non-bias weights adds
    ``l2 * w`` to each one's gradient, so every step takes ``decay * w`` (w before the
    step) off it as well -- after the data part, ``w <- (w - lr o d) - decay w``; 0: no
    penalty (not one operation more). The sum of E is the data term alone.
    ``rec`` is unused here (see :func:`record_epoch`).
    """
    if batch == 1:
        r = _sgd_body(X, T, perm, lr, decay, skip_zero, loss, topo, w, S, rec, False)
    else:
        r = _minibatch_body(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad,
                            rec, False)
    return r[0], r[1]


@njit(cache=True, error_model="numpy", nogil=True)
def sgd_epoch(X, T, perm, lr, decay, skip_zero, loss, topo, w, S, rec):
    """:func:`train_epoch` with ``batch == 1`` alone (what ``train`` runs per sample):
    compiled without the minibatch body, so a per-sample run pays for one body's
    compilation (about 9 s of the 15 s with an empty cache)."""
    r = _sgd_body(X, T, perm, lr, decay, skip_zero, loss, topo, w, S, rec, False)
    return r[0], r[1]


@njit(cache=True, error_model="numpy", nogil=True)
def minibatch_epoch(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad, rec):
    """:func:`train_epoch` with ``batch > 1`` alone."""
    r = _minibatch_body(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad, rec,
                        False)
    return r[0], r[1]


@njit(cache=True, error_model="numpy", nogil=True)
def sgd_running(X, T, perm, lr, decay, skip_zero, loss, topo, w, S, rec):
    """:func:`running_epoch` with ``batch == 1`` alone."""
    return _sgd_body(X, T, perm, lr, decay, skip_zero, loss, topo, w, S, rec, False, True)


@njit(cache=True, error_model="numpy", nogil=True)
def minibatch_running(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad, rec):
    """:func:`running_epoch` with ``batch > 1`` alone."""
    return _minibatch_body(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad,
                           rec, False, True)


@njit(cache=True, error_model="numpy", nogil=True)
def running_epoch(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad, rec):
    """:func:`train_epoch` that always sums the error (bce included) and also counts the
    samples classified right before their step: (sum of E, updates, right), the epoch's
    running loss and accuracy (``train(..., train_loss="running")``)."""
    if batch == 1:
        return _sgd_body(X, T, perm, lr, decay, skip_zero, loss, topo, w, S, rec, False, True)
    return _minibatch_body(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad,
                           rec, False, True)


@njit(cache=True, error_model="numpy", nogil=True)
def record_epoch(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad, rec):
    """:func:`train_epoch` compiled from the same bodies with recording on: at every sample
    step ``s`` the output and delta of the neurons ``rec[0]`` (before that step's weight
    change) go into ``rec[1][s]``, ``rec[2][s]``, and the sample's error into ``rec[3][s]``
    (deltas of a skipped zero-error step are 0, the backward pass not being run)."""
    if batch == 1:
        r = _sgd_body(X, T, perm, lr, decay, skip_zero, loss, topo, w, S, rec, True)
    else:
        r = _minibatch_body(X, T, perm, lr, decay, batch, skip_zero, loss, topo, w, S, grad,
                            rec, True)
    return r[0], r[1]


@njit(cache=True, error_model="numpy", nogil=True)
def evaluate(X, T, loss, topo, w, S, total=0.0, right=0):
    """Sum of the error and number of correct samples over a data set (weights fixed),
    added to ``total`` and ``right`` (so a data set evaluated in pieces sums in order)."""
    z, out, delta, dedz = S
    outputs = topo[3]
    for i in range(X.shape[0]):
        forward(X[i], topo, w, z, out)
        total += output_deltas(loss, topo[1], topo[3], z, out, T[i], delta, dedz)
        right += correct(loss, outputs, out, T[i])
    return total, right


@njit(cache=True, error_model="numpy", nogil=True)
def evaluate_rows(X, T, loss, topo, W, S, loss_out, right_out):
    """:func:`evaluate` with each row of ``W`` (the weights of every epoch) in turn:
    ``loss_out[r], right_out[r]`` = its sum of E and correct samples over (X, T)."""
    for r in range(W.shape[0]):
        loss_out[r], right_out[r] = evaluate(X, T, loss, topo, W[r], S, 0.0, 0)


@njit(cache=True, error_model="numpy", nogil=True)
def predict(X, topo, w, S, Y):
    """Outputs of every output neuron for every sample into ``Y`` (n_samples, n_out)."""
    z, out = S[0], S[1]
    outputs = topo[3]
    for i in range(X.shape[0]):
        forward(X[i], topo, w, z, out)
        for k in range(outputs.shape[0]):
            Y[i, k] = out[outputs[k]]
