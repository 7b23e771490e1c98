"""CUDA kernels: ``@cuda.jit`` mirrors of :mod:`neurosim.kernels.cpu`, same names, same order.

The chapter's closing point is that the neurons of one layer do not depend on each other's
outputs, so a GPU can compute a whole layer at once. Here a *level* plays the part of a
layer in any DAG: ``level[j] = 1 + max(level of j's sources)``, inputs and bias at level 0,
so the neurons of one level never feed each other. Per level, the forward and delta passes
give **one thread per neuron (per sample)** and *gather* -- over incoming edges going
forward, over outgoing edges going back -- so no atomics are needed; weight updates give
**one thread per edge**.

Array arguments are those of :mod:`neurosim.kernels.cpu` (``act``, ``is_out``, ``outputs``,
``run_*``, ``out_ptr``, ``out_edge``, ``src``, ``dst``, ``w``) plus:

=============  ===========================  ==============================================
name           shape, dtype                 meaning
=============  ===========================  ==============================================
lvl_ptr        (n_levels+1,) int64          neurons of level L: lvl_node[lvl_ptr[L]:...]
lvl_node       (n_neurons,) int64           neurons ordered by level (inputs, bias first)
X, T           (n_samples, n_in/n_out)      inputs and targets (network dtype)
rows           (n_samples,) int64           sample order (a permutation); a launch
                                            handles rows[start:start+nb]
Z, OUT         (n_neurons, nb) float        net input / output per neuron and sample
DELTA, G       (n_neurons, nb) float        dE/d(output), dE/dz per neuron and sample
E              (n_samples,) float64         error of each sample
W              (n_nets, n_edges) float      many-networks mode: one weight row per net
Zn, On, Dn,    (n_nets, n_neurons) float    many-networks scratch, one row per net
Gn
=============  ===========================  ==============================================

Per-sample layouts are neuron-major ``(n_neurons, nb)`` so that neighbouring threads (the
samples of one neuron) read neighbouring memory. Every kernel follows real-GPU rules: arrays
and scalars only, fixed dtypes, no recursion, no allocation (one ``float64`` shared cell in
the block kernels).

The per-neuron scalar math is the very code of the CPU path: ``activate``, ``derivative``
and ``softplus`` are the ``@njit`` functions of :mod:`neurosim.kernels.neuron`, which numba-cuda
compiles as device functions when a kernel calls them (numba-cuda's typing context turns any
CPU ``Dispatcher`` it meets into a ``CUDADispatcher`` of the same ``py_func``), and
``output_deltas`` / ``correct`` are device functions built from the CPU kernels' own
``py_func``. Summation orders also follow the CPU kernels (incoming runs in order; outgoing
edges in reverse for the training passes, which mirrors the CPU's reverse-order scatter), so
results agree to rounding (in float64 bit for bit on the simulator, where no FMA contraction
happens). As on the CPU, sums start from a float64 ``0.0``, so float32 networks accumulate in
float64 (exact agreement with the CPU kernels; FP64 throughput matters on consumer cards).
"""
from numba import cuda, float64

from .neuron import activate, derivative
from . import cpu


# ---------------------------------------------------------------------------------------
# per-neuron gathers shared by every mode (device functions)
#: Device function compiled from ``cpu.net_input.py_func``: the one net-input sum.
_net_input = cuda.jit(device=True, inline=True)(cpu.net_input.py_func)


@cuda.jit(device=True, inline=True)
def _delta(i, out_ptr, out_edge, dst, w, g, rev):
    """delta_i = sum over i's outgoing edges i->j of w_ij g_j.

    ``rev=False`` sums in edge order like ``cpu.backward``; ``rev=True`` sums the consumers
    from the last to the first and skips g_j == 0, exactly like the scatter of
    ``cpu._backward_update`` (the training passes).
    """
    s = 0.0
    a = out_ptr[i]
    b = out_ptr[i + 1]
    if rev:
        for k in range(b - 1, a - 1, -1):
            e = out_edge[k]
            gj = g[dst[e]]
            if gj != 0.0:
                s += w[e] * gj
    else:
        for k in range(a, b):
            e = out_edge[k]
            s += w[e] * g[dst[e]]
    return s


# ---------------------------------------------------------------------------------------
# forward (Figs 14-20: outputs flow right, scaled by the weights and summed)
@cuda.jit
def forward(X, rows, start, nb, n_in, act, run_ptr, run_edge, run_src, run_len, w, Z, OUT,
            lvl_node, lo, hi):
    """One level forward for ``nb`` samples: a thread per (neuron ``lvl_node[lo:hi]``, sample).

    Sample ``b`` is ``X[rows[start + b]]``; inputs copy x, the bias neuron outputs 1, every
    other neuron gets ``z_j = sum_i w_ij o_i`` and ``o_j = f_j(z_j)``. Launch with at least
    one thread; threads grid-stride over ``(hi - lo) * nb`` items.
    """
    t0 = cuda.grid(1)
    stride = cuda.gridsize(1)
    for t in range(t0, (hi - lo) * nb, stride):
        b = t % nb
        j = lvl_node[lo + t // nb]
        if j < n_in:
            v = X[rows[start + b], j]
            Z[j, b] = v
            OUT[j, b] = v
        elif j == n_in:
            Z[j, b] = 1.0
            OUT[j, b] = 1.0
        else:
            s = _net_input(j, run_ptr, run_edge, run_src, run_len, w, OUT[:, b])
            Z[j, b] = s
            OUT[j, b] = activate(act[j], s)


# ---------------------------------------------------------------------------------------
# loss at the outputs (Figs 14-8 to 14-12; the sign is output minus label)
#: Device function compiled from ``cpu.output_deltas.py_func`` (same source, same math).
output_deltas = cuda.jit(device=True, inline=True)(cpu.output_deltas.py_func)


@cuda.jit
def output_layer(loss, act, outputs, Z, OUT, T, rows, start, nb, DELTA, G, E, want_E):
    """Loss at the outputs for ``nb`` samples, a thread per sample: ``E[start + b]`` and the
    outputs' delta and g (see ``cpu.output_deltas``)."""
    t0 = cuda.grid(1)
    stride = cuda.gridsize(1)
    for b in range(t0, nb, stride):
        E[start + b] = output_deltas(loss, act, outputs, Z[:, b], OUT[:, b],
                                     T[rows[start + b]], DELTA[:, b], G[:, b], want_E)


#: Device function compiled from ``cpu.correct.py_func``.
correct = cuda.jit(device=True, inline=True)(cpu.correct.py_func)


# ---------------------------------------------------------------------------------------
# backward (Figs 14-16 to 14-21: deltas flow left, scaled by the same weights and summed)
@cuda.jit
def backward(n_in, act, is_out, out_ptr, out_edge, dst, w, Z, OUT, DELTA, G, lvl_node, lo,
             hi, nb, rev):
    """One level backward for ``nb`` samples, a thread per (non-output neuron, sample).

    delta_i = sum_{i->j} w_ij g_j (a gather over outgoing edges; levels above must be done),
    g_i = f'(z_i) delta_i for neurons after the bias, g_i = delta_i for inputs and bias
    (as ``cpu.backward``). ``rev`` picks the summation order (see ``_delta``).
    """
    t0 = cuda.grid(1)
    stride = cuda.gridsize(1)
    for t in range(t0, (hi - lo) * nb, stride):
        b = t % nb
        i = lvl_node[lo + t // nb]
        if is_out[i]:
            continue
        s = _delta(i, out_ptr, out_edge, dst, w, G[:, b], rev)
        DELTA[i, b] = s
        if i > n_in:
            G[i, b] = derivative(act[i], Z[i, b], OUT[i, b]) * s
        else:
            G[i, b] = s


@cuda.jit
def gradient(src, dst, out, g, grad):
    """dE/dw for every edge i->j, a thread per edge: o_i g_j = o_i f'(z_j) delta_j."""
    t0 = cuda.grid(1)
    stride = cuda.gridsize(1)
    for e in range(t0, src.shape[0], stride):
        grad[e] = out[src[e]] * g[dst[e]]


@cuda.jit
def update(src, dst, out, g, w, lr):
    """Gradient-descent step (Fig 14-27), a thread per edge: AC <- AC - lr * Ao * f'(zC) * Cd."""
    t0 = cuda.grid(1)
    stride = cuda.gridsize(1)
    for e in range(t0, src.shape[0], stride):
        w[e] -= lr * out[src[e]] * g[dst[e]]


# ---------------------------------------------------------------------------------------
# training steps launched per sample / per minibatch (wide nets)
@cuda.jit
def sgd_update(src, dst, OUT, G, w, lr, decay, bias, E, pos, skip_zero):
    """Per-sample SGD step of sample column 0, a thread per edge, in the order of
    ``cpu._backward_update``: ``w_ij -= (lr g_j) o_i`` where g_j != 0, then (``decay = lr *
    l2`` != 0, non-bias edges) ``w_ij -= decay * w_ij`` of the weight before the step. With
    ``skip_zero`` no edge changes when the sample's error ``E[pos]`` is 0 (read on the
    device)."""
    if skip_zero and E[pos] == 0.0:
        return
    t0 = cuda.grid(1)
    stride = cuda.gridsize(1)
    for e in range(t0, src.shape[0], stride):
        gj = G[dst[e], 0]
        wo = w[e]
        w1 = wo - (lr * gj) * OUT[src[e], 0] if gj != 0.0 else wo
        w[e] = w1 - decay * wo if decay != 0.0 and src[e] != bias else w1


@cuda.jit
def batch_update(src, dst, OUT, G, w, scale, decay, bias, nb):
    """Minibatch step, a thread per edge: the gradient summed over the ``nb`` samples in
    order (terms with g_j == 0 skipped, as on the CPU), then ``w -= scale * sum`` and the
    penalty's part as ``cpu.apply_grad`` takes it."""
    t0 = cuda.grid(1)
    stride = cuda.gridsize(1)
    for e in range(t0, src.shape[0], stride):
        i = src[e]
        j = dst[e]
        acc = 0.0
        for b in range(nb):
            gj = G[j, b]
            if gj != 0.0:
                acc += OUT[i, b] * gj
        wo = w[e]
        w1 = wo - scale * acc
        w[e] = w1 - decay * wo if decay != 0.0 and i != bias else w1


# ---------------------------------------------------------------------------------------
# whole epochs, one block per network (many-networks mode; small nets)
@cuda.jit(device=True, inline=True)
def _block_forward(x, n_in, act, run_ptr, run_edge, run_src, run_len, lvl_ptr, lvl_node, w,
                   z, out, tid, nt):
    """One sample forward inside a block: inputs, then level by level, barrier after each."""
    for p in range(tid, n_in, nt):
        z[p] = x[p]
        out[p] = x[p]
    cuda.syncthreads()
    for L in range(1, lvl_ptr.shape[0] - 1):
        for p in range(lvl_ptr[L] + tid, lvl_ptr[L + 1], nt):
            j = lvl_node[p]
            s = _net_input(j, run_ptr, run_edge, run_src, run_len, w, out)
            z[j] = s
            out[j] = activate(act[j], s)
        cuda.syncthreads()


@cuda.jit
def train_epoch(X, T, perms, lrs, decays, batch, skip_zero, loss, n_in, act, is_out, outputs,
                run_ptr, run_edge, run_src, run_len, out_ptr, out_edge, src, dst, lvl_ptr,
                lvl_node, W, Zn, On, Dn, Gn, GRAD, totals, updates):
    """One epoch of SGD for every network, one block per network, a single launch.

    Network ``k`` (weights ``W[k]``, learning rate ``lrs[k]``, ``decays[k] = lrs[k] * l2``
    the L2 penalty's part, 0 for none) sees the samples
    ``X[perms[k % len(perms)]]`` and does exactly what ``cpu.train_epoch`` does: per-sample
    SGD (``batch == 1``) or minibatches of ``batch`` samples, ``skip_zero`` skipping samples
    whose error is 0. Within a sample the block's threads take the neurons of one level
    (then the edges), with a block barrier between levels. ``totals[k]`` gets the running
    error (under ``bce`` 0 unless ``skip_zero``), ``updates[k]`` the updates made. Grid: any
    number of
    blocks (grid-stride over networks); block: any number of threads.
    """
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    sh = cuda.shared.array(1, float64)
    n_lv = lvl_ptr.shape[0] - 1
    m = src.shape[0]
    n_s = perms.shape[1]
    fused = batch == 1
    for net in range(cuda.blockIdx.x, W.shape[0], cuda.gridDim.x):
        w = W[net]
        z = Zn[net]
        out = On[net]
        delta = Dn[net]
        g = Gn[net]
        grad = GRAD[net]
        order = perms[net % perms.shape[0]]
        lr = lrs[net]
        dec = decays[net]
        total = 0.0
        upd = 0
        nb = 0
        if not fused:
            for e in range(tid, m, nt):
                grad[e] = 0.0
        if tid == 0:
            z[n_in] = 1.0
            out[n_in] = 1.0
        cuda.syncthreads()
        for s in range(n_s):
            i = order[s]
            _block_forward(X[i], n_in, act, run_ptr, run_edge, run_src, run_len, lvl_ptr,
                           lvl_node, w, z, out, tid, nt)
            if tid == 0:
                sh[0] = output_deltas(loss, act, outputs, z, out, T[i], delta, g, skip_zero)
            cuda.syncthreads()
            E = sh[0]
            total += E
            if skip_zero and E == 0.0:      # the same value in every thread
                continue
            for L in range(n_lv - 1, 0, -1):
                for p in range(lvl_ptr[L] + tid, lvl_ptr[L + 1], nt):
                    j = lvl_node[p]
                    if not is_out[j]:
                        d = _delta(j, out_ptr, out_edge, dst, w, g, True)
                        delta[j] = d
                        g[j] = derivative(act[j], z[j], out[j]) * d
                cuda.syncthreads()
            if fused:
                for e in range(tid, m, nt):
                    gj = g[dst[e]]
                    wo = w[e]
                    w1 = wo - (lr * gj) * out[src[e]] if gj != 0.0 else wo
                    w[e] = w1 - dec * wo if dec != 0.0 and src[e] != n_in else w1
                upd += 1
            else:
                for e in range(tid, m, nt):
                    gj = g[dst[e]]
                    if gj != 0.0:
                        grad[e] += out[src[e]] * gj
                nb += 1
                if nb == batch:
                    scale = lr / nb
                    for e in range(tid, m, nt):
                        wo = w[e]
                        w1 = wo - scale * grad[e]
                        w[e] = w1 - dec * wo if dec != 0.0 and src[e] != n_in else w1
                        grad[e] = 0.0
                    nb = 0
                    upd += 1
            cuda.syncthreads()
        if not fused and nb > 0:
            scale = lr / nb
            for e in range(tid, m, nt):
                wo = w[e]
                w1 = wo - scale * grad[e]
                w[e] = w1 - dec * wo if dec != 0.0 and src[e] != n_in else w1
                grad[e] = 0.0
            upd += 1
        if tid == 0:
            totals[net] = total
            updates[net] = upd
        cuda.syncthreads()


@cuda.jit
def evaluate(X, T, loss, n_in, act, outputs, run_ptr, run_edge, run_src, run_len, lvl_ptr,
             lvl_node, W, Zn, On, Dn, Gn, totals, rights):
    """Sum of the error and number of correct samples over a data set, one block per
    network (weights fixed), as ``cpu.evaluate``."""
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for net in range(cuda.blockIdx.x, W.shape[0], cuda.gridDim.x):
        w = W[net]
        z = Zn[net]
        out = On[net]
        delta = Dn[net]
        g = Gn[net]
        total = 0.0
        right = 0
        if tid == 0:
            z[n_in] = 1.0
            out[n_in] = 1.0
        cuda.syncthreads()
        for i in range(X.shape[0]):
            _block_forward(X[i], n_in, act, run_ptr, run_edge, run_src, run_len, lvl_ptr,
                           lvl_node, w, z, out, tid, nt)
            if tid == 0:
                total += output_deltas(loss, act, outputs, z, out, T[i], delta, g, True)
                right += correct(loss, outputs, out, T[i])
            cuda.syncthreads()
        if tid == 0:
            totals[net] = total
            rights[net] = right
        cuda.syncthreads()


@cuda.jit
def predict(OUT, outputs, Y, start, nb):
    """Copy the outputs of ``nb`` samples into ``Y[start:start+nb]`` (n_samples, n_out),
    a thread per (sample, output), after :func:`forward` has run every level."""
    t0 = cuda.grid(1)
    stride = cuda.gridsize(1)
    m = outputs.shape[0]
    for t in range(t0, nb * m, stride):
        b = t // m
        k = t % m
        Y[start + b, k] = OUT[outputs[k], b]
