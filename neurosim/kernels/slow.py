"""The chapter's slow learner as one ``@njit(cache=True)`` epoch kernel.

Section "一种缓慢的学习方式" (a slow way to learn): pick one random weight, freeze the
rest, add a small random m centred on 0, re-evaluate the same sample; keep the change if
that sample's error fell, undo it otherwise; several tries per sample, then the next
sample. Bundles as in :mod:`neurosim.kernels.cpu`. The random choices are drawn by
the caller (a seeded NumPy generator) and passed in:

=============  ==========================  ===============================================
edges          (n_steps * tries,) int64    weight tried at each try
steps          (n_steps * tries,) float    the change m tried
=============  ==========================  ===============================================
"""
from numba import njit

from .cpu import forward, output_deltas


@njit(cache=True, nogil=True)
def slow_epoch(X, T, perm, edges, steps, loss, topo, w, S):
    """One epoch of the slow learner over the samples ``X[perm]``.

    For each sample: one forward pass for its current error, then ``tries`` times: change
    one weight by m, one forward pass, keep the change only if the error fell.

    Returns
    -------
    (kept, passes) : changes kept, forward passes made
    """
    z, out, delta, dedz = S
    n = perm.shape[0]
    tries = edges.shape[0] // n if n > 0 else 0
    kept = 0
    passes = 0
    for s in range(n):
        i = perm[s]
        forward(X[i], topo, w, z, out)
        E = output_deltas(loss, topo[1], topo[3], z, out, T[i], delta, dedz, True)
        passes += 1
        for q in range(s * tries, (s + 1) * tries):
            e = edges[q]
            old = w[e]
            w[e] = old + steps[q]
            forward(X[i], topo, w, z, out)
            E2 = output_deltas(loss, topo[1], topo[3], z, out, T[i], delta, dedz, True)
            passes += 1
            if E2 < E:
                E = E2
                kept += 1
            else:
                w[e] = old
    return kept, passes
