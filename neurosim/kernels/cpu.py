"""CPU kernels: ``@njit(cache=True)`` loops over the edge-list arrays of a Network.

Array arguments (all built once by :class:`neurosim.graph.Network`):

=============  ==========================  ===============================================
name           shape, dtype                meaning
=============  ==========================  ===============================================
act            (n_neurons,) int8           activation code per neuron
is_out         (n_neurons,) bool           output neurons
outputs        (n_out,) int64              indexes of the output neurons
run_ptr        (n_neurons+1,) int64        runs of neuron j: run_ptr[j]:run_ptr[j+1]
run_edge/src   (n_runs,) int64             first edge / first source neuron of a run
run_len        (n_runs,) int64             edges in the run (consecutive sources)
src, dst       (n_edges,) int64            the edge list
out_ptr        (n_neurons+1,) int64        outgoing edges of i: out_edge[out_ptr[i]:...]
out_edge       (n_edges,) int64
w              (n_edges,) float            weights (updated in place)
z, out, delta  (n_neurons,) float          net input, output, dE/d(output)
g              (n_neurons,) float          dE/dz = f'(z) * delta ("signal")
=============  ==========================  ===============================================

Inputs occupy neurons ``0..n_in-1``, the bias neuron is ``n_in`` and neurons
``n_in+1..n-1`` are in topological order, so the forward pass is ``for j in range(n_in+1, n)``.

Performance notes (measured in ``python -m neurosim.bench``; none of them changes a result
by a single bit):

* Indexes loaded from the run arrays are cast to ``uint64`` before indexing: Numba adds a
  negative-index wrap-around to every signed index, which blocks LLVM's vectoriser in the
  inner loops (about 2x on wide layers).
* ``forward``, ``output_deltas`` and ``_backward_update`` are ``inline="always"``, and
  :func:`train_epoch` dispatches once per epoch to a copy of the sample loop compiled for
  each loss, so the per-sample code has no calls and no loss branch (about 1.6x on the
  chapter's 2-4-4-1 net).
* Dense blocks, found from the edge list alone: consecutive neurons with one run each
  and the same sources (a fully connected layer) form a *group* (:func:`_groups`, once per
  epoch). Per-sample SGD then runs four rows of a group at once -- four independent dot
  products sharing the loads of the source outputs in the forward pass, four rows
  scattered into each source's delta with one load and store in the backward pass. Each
  row's sum keeps its order, so this is exact, and about 2x on wide layers. (Minibatch
  epochs keep the plain per-neuron loops and one compiled copy.)
* Relu outputs are a branch-free select (:func:`_set_out`): a relu's sign is a coin flip
  from sample to sample and a branch on it mispredicted half the time (~25% on a deep
  narrow net).
* The price is compile time: with an empty Numba cache :func:`train_epoch` takes about
  12 s to compile (three specialised copies of the sample loop), against ~1.5 s for
  a plain loop; non-relu activations are a call to one compiled :func:`_activate` rather
  than inlined at every site, which saved a third of that at no measurable cost.
  ``cache=True`` makes it a one-off per machine (see the cold-start table of the bench).
* ``error_model="numpy"`` drops Python's division-by-zero checks (no division here can
  be by zero: sigmoid's ``1 + e^-z >= 1``; bce's delta divides by nothing).
* No ``fastmath``: sums keep their order, so the kernels stay bit-for-bit equal to the
  recording kernel in :mod:`neurosim.kernels.tracing` and close to CUDA's.
"""
import math

import numpy as np
from numba import njit

from .._scalar import (BCE, QUADRATIC, RELU, SOFTMAX_CE, activate, bce_delta, bce_loss,
                       derivative)


# ---------------------------------------------------------------------------------------
# relu without a branch: whether a relu neuron is on is a coin flip from sample to sample,
# and a branch on it mispredicts half the time. Written as a two-way select here (the same
# arithmetic as _scalar.activate, so the same bits), LLVM emits no branch. (The same for
# the derivative in the backward pass measured slower: that branch also skips work.)
@njit(cache=True, error_model="numpy")
def _activate(code, s):
    """:func:`_scalar.activate` compiled once, called (not inlined) for non-relu neurons."""
    return activate(code, s)


@njit(cache=True, inline="always")
def _set_out(out, j, code, s):
    """``out[j] = f(s)`` for activation ``code``."""
    if code == RELU:
        out[j] = s if s > 0.0 else 0.0 * s
    else:
        out[j] = _activate(code, s)


# ---------------------------------------------------------------------------------------
# forward (Figs 14-20: outputs flow right, scaled by the weights and summed)
@njit(cache=True, inline="always", error_model="numpy")
def _set_inputs(x, n_in, z, out):
    """Inputs take the sample's values; the bias neuron outputs 1 (the bias trick)."""
    for i in range(n_in):
        z[i] = x[i]
        out[i] = x[i]
    z[n_in] = 1.0
    out[n_in] = 1.0


@njit(cache=True, inline="always", error_model="numpy")
def forward(x, n_in, act, run_ptr, run_edge, run_src, run_len, w, z, out):
    """One sample forward: ``z_j = sum_i w_ij o_i``, ``o_j = f_j(z_j)`` for every neuron."""
    n = act.shape[0]
    _set_inputs(x, n_in, z, out)
    for j in range(n_in + 1, n):
        s = 0.0
        for r in range(run_ptr[j], run_ptr[j + 1]):
            e0 = np.uint64(run_edge[r])
            s0 = np.uint64(run_src[r])
            for k in range(np.uint64(run_len[r])):
                s += w[e0 + k] * out[s0 + k]
        z[j] = s
        _set_out(out, j, act[j], s)


# ---------------------------------------------------------------------------------------
# loss at the outputs (Figs 14-8 to 14-12; the sign is output minus label)
@njit(cache=True, inline="always", error_model="numpy")
def output_deltas(loss, act, outputs, z, out, t, delta, g, want_E=True):
    """Error E of one sample and, for each output, delta = dE/do and g = dE/dz.

    With ``want_E=False`` the bce error (an exp and a log) is skipped and 0 returned.

    quadratic: E = 1/2 sum (o - t)^2, delta = o - t.
    bce (sigmoid outputs): E = -[t log o + (1-t) log(1-o)] computed from z as
    t softplus(-z) + (1-t) softplus(z); g = o - t exactly; delta = g / (o (1 - o)) computed
    from z as -t (1 + e^-z) + (1-t) (1 + e^z) (:func:`~neurosim._scalar.bce_delta`: no
    division by a rounded o (1 - o); huge, or inf, at saturation, which is the truth).
    softmax_ce (identity outputs = logits): p = softmax(o), E = -sum t log p,
    delta = g = p - t.
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
            g[j] = d
    elif loss == BCE:
        for k in range(m):
            j = outputs[k]
            if want_E:
                E += bce_loss(z[j], t[k])
            g[j] = out[j] - t[k]
            delta[j] = bce_delta(z[j], t[k])
    else:
        for k in range(m):
            j = outputs[k]
            d = out[j] - t[k]
            E += 0.5 * d * d
            delta[j] = d
            g[j] = derivative(act[j], z[j], out[j]) * d
    return E


@njit(cache=True)
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
@njit(cache=True)
def backward(loss, n_in, act, is_out, outputs, out_ptr, out_edge, dst, w, z, out, t,
             delta, g):
    """One sample backward, as a gather over outgoing edges.

    delta_i = sum_{i->j} w_ij g_j (the chapter's A-delta = AC x C-delta + AD x D-delta when
    f' = 1), g_i = f'(z_i) delta_i. Fills delta and g for every neuron (inputs and bias
    included) and returns the sample's error E. Call after :func:`forward`.
    """
    n = act.shape[0]
    E = output_deltas(loss, act, outputs, z, out, t, delta, g)
    for i in range(n - 1, -1, -1):
        if is_out[i]:
            continue
        s = 0.0
        for k in range(out_ptr[i], out_ptr[i + 1]):
            e = out_edge[k]
            s += w[e] * g[dst[e]]
        delta[i] = s
        g[i] = derivative(act[i], z[i], out[i]) * s if i > n_in else s
    return E


@njit(cache=True)
def gradient(src, dst, out, g, grad):
    """dE/dw for every edge i->j: o_i g_j = o_i f'(z_j) delta_j."""
    for e in range(src.shape[0]):
        grad[e] = out[src[e]] * g[dst[e]]


@njit(cache=True)
def update(src, dst, out, g, w, lr):
    """Gradient-descent step (Fig 14-27): AC <- AC - lr * Ao * f'(zC) * C-delta."""
    for e in range(src.shape[0]):
        w[e] -= lr * out[src[e]] * g[dst[e]]


# ---------------------------------------------------------------------------------------
# whole epochs: per-sample SGD never returns to Python between samples
@njit(cache=True, inline="always", error_model="numpy")
def _backward_update(lr, n_in, act, is_out, run_ptr, run_edge, run_src, run_len, w, z,
                     out, delta, g, grad, fused):
    """Backward pass as a scatter over incoming runs, in reverse topological order.

    Each consumer j adds w_ij g_j to delta_i before w_ij changes, so when neuron i is
    reached its delta is complete and computed with the pre-update weights. With
    ``fused`` the weight changes at once (per-sample SGD, identical to backward then
    update); otherwise o_i g_j is added to ``grad`` (minibatch).
    """
    n = act.shape[0]
    for i in range(n):
        if not is_out[i]:
            delta[i] = 0.0
    for j in range(n - 1, n_in, -1):
        if not is_out[j]:
            g[j] = derivative(act[j], z[j], out[j]) * delta[j]
        gj = g[j]           # as stored: in float32 the same rounding as _backward_grouped
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
def _forward_grouped(x, n_in, act, run_ptr, run_edge, run_src, run_len, w, z, out, start):
    """:func:`forward`, four rows of a group at a time (each row's sum in the same order,
    so the results are identical; four independent sums keep the FPU busy)."""
    n = act.shape[0]
    _set_inputs(x, n_in, z, out)
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
        s = 0.0
        for r in range(run_ptr[j], run_ptr[j + 1]):
            e0 = np.uint64(run_edge[r])
            s0 = np.uint64(run_src[r])
            L = np.uint64(run_len[r])
            if L == np.uint64(1):
                s += w[e0] * out[s0]
                continue
            for k in range(L):
                s += w[e0 + k] * out[s0 + k]
        z[j] = s
        _set_out(out, j, act[j], s)
        j += 1


@njit(cache=True, inline="always", error_model="numpy")
def _backward_grouped(lr, n_in, act, is_out, run_ptr, run_edge, run_src, run_len, w, z,
                      out, delta, g, start, rows):
    """:func:`_backward_update` with ``fused``, the rows of a group with g != 0 four at
    a time: each delta_i gets the same terms in the same order (consumers from the last
    to the first), so the results are identical."""
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
                gq = g[q]
            else:
                gq = derivative(act[q], z[q], out[q]) * delta[q]
                g[q] = gq
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
                ga = g[qa]
                gb = g[qb]
                gc = g[qc]
                gd = g[qd]
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
                ga = g[qa]
                gb = g[qb]
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
                ga = g[qa]
                sa = lr * ga
                for k in range(L):
                    delta[s0 + k] += w[ea + k] * ga
                    w[ea + k] -= sa * out[s0 + k]
                c += 1
        while c < cnt:
            q = rows[c]
            gq = g[q]
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
def _sgd_epoch(X, T, perm, lr, skip_zero, loss, n_in, act, is_out, outputs, run_ptr,
               run_edge, run_src, run_len, w, z, out, delta, g):
    """Per-sample SGD over ``X[perm]`` (the body of :func:`train_epoch` for batch 1);
    inlined there once per loss constant, so the sample loop has no loss branch."""
    total = 0.0
    updates = 0
    start = _groups(n_in, run_ptr, run_src, run_len)
    rows = np.empty(act.shape[0], np.int64)
    for s in range(perm.shape[0]):
        i = perm[s]
        _forward_grouped(X[i], n_in, act, run_ptr, run_edge, run_src, run_len, w, z, out,
                         start)
        E = output_deltas(loss, act, outputs, z, out, T[i], delta, g, skip_zero)
        total += E
        if skip_zero and E == 0.0:
            continue
        _backward_grouped(lr, n_in, act, is_out, run_ptr, run_edge, run_src, run_len, w, z,
                          out, delta, g, start, rows)
        updates += 1
    return total, updates


@njit(cache=True, inline="always", error_model="numpy")
def _apply_grad(w, grad, scale):
    """End of a minibatch: ``w -= scale * grad`` and ``grad`` back to 0."""
    for e in range(w.shape[0]):
        w[e] -= scale * grad[e]
        grad[e] = 0.0


@njit(cache=True, error_model="numpy")
def _minibatch_epoch(X, T, perm, lr, batch, skip_zero, loss, n_in, act, is_out, outputs,
                     run_ptr, run_edge, run_src, run_len, w, z, out, delta, g, grad):
    """Minibatch SGD over ``X[perm]`` (the body of :func:`train_epoch` for batch > 1)."""
    m = w.shape[0]
    total = 0.0
    updates = 0
    for e in range(m):
        grad[e] = 0.0
    nb = 0
    for s in range(perm.shape[0]):
        i = perm[s]
        forward(X[i], n_in, act, run_ptr, run_edge, run_src, run_len, w, z, out)
        E = output_deltas(loss, act, outputs, z, out, T[i], delta, g, skip_zero)
        total += E
        if skip_zero and E == 0.0:
            continue
        _backward_update(lr, n_in, act, is_out, run_ptr, run_edge, run_src, run_len, w, z,
                         out, delta, g, grad, False)
        nb += 1
        if nb == batch:
            _apply_grad(w, grad, lr / nb)
            nb = 0
            updates += 1
    if nb > 0:
        _apply_grad(w, grad, lr / nb)
        updates += 1
    return total, updates


@njit(cache=True, error_model="numpy")
def train_epoch(X, T, perm, lr, batch, skip_zero, loss, n_in, act, is_out, outputs,
                run_ptr, run_edge, run_src, run_len, w, z, out, delta, g, grad):
    """One epoch of SGD over the samples ``X[perm]``; returns (sum of E, updates made).

    The sum of E is the running error during the epoch (error before each sample's
    update); under ``bce`` it is only computed when ``skip_zero`` needs it, else it is 0.

    ``batch == 1``: per-sample SGD as in the chapter (forward, deltas, update, next
    sample). ``batch > 1``: gradients summed over ``batch`` samples, then
    ``w -= lr * grad / batch``. ``skip_zero``: no update for a sample whose error is 0.
    """
    if batch != 1:
        return _minibatch_epoch(X, T, perm, lr, batch, skip_zero, loss, n_in, act, is_out,
                                outputs, run_ptr, run_edge, run_src, run_len, w, z, out,
                                delta, g, grad)
    if loss == BCE:
        return _sgd_epoch(X, T, perm, lr, skip_zero, BCE, n_in, act, is_out, outputs,
                          run_ptr, run_edge, run_src, run_len, w, z, out, delta, g)
    if loss == SOFTMAX_CE:
        return _sgd_epoch(X, T, perm, lr, skip_zero, SOFTMAX_CE, n_in, act, is_out, outputs,
                          run_ptr, run_edge, run_src, run_len, w, z, out, delta, g)
    return _sgd_epoch(X, T, perm, lr, skip_zero, QUADRATIC, n_in, act, is_out, outputs,
                      run_ptr, run_edge, run_src, run_len, w, z, out, delta, g)


@njit(cache=True, error_model="numpy")
def evaluate(X, T, loss, n_in, act, outputs, run_ptr, run_edge, run_src, run_len, w, z,
             out, delta, g):
    """Sum of the error and number of correct samples over a data set (weights fixed)."""
    total = 0.0
    right = 0
    for i in range(X.shape[0]):
        forward(X[i], n_in, act, run_ptr, run_edge, run_src, run_len, w, z, out)
        total += output_deltas(loss, act, outputs, z, out, T[i], delta, g)
        right += correct(loss, outputs, out, T[i])
    return total, right


@njit(cache=True, error_model="numpy")
def predict(X, n_in, act, outputs, run_ptr, run_edge, run_src, run_len, w, z, out, Y):
    """Outputs of every output neuron for every sample into ``Y`` (n_samples, n_out)."""
    for i in range(X.shape[0]):
        forward(X[i], n_in, act, run_ptr, run_edge, run_src, run_len, w, z, out)
        for k in range(outputs.shape[0]):
            Y[i, k] = out[outputs[k]]
