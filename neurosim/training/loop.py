"""The one epoch -> evaluate -> record loop behind ``train``, ``slow_learn`` and
``train_many``: evaluation before training and after every epoch, weight snapshots, epoch
times (kernel only), divergence, the progress bar.
"""
from __future__ import annotations

import time

import numpy as np


class Curves:
    """What the loop collected; per-epoch arrays have a leading network axis (k, rows)."""

    def __init__(self):
        self.loss = {"train": [], "test": []}
        self.acc = {"train": [], "test": []}
        self.weights = []
        self.finite = []
        self.times = []
        self.stopped = None

    def add(self, evals, W, keep):
        for which, (loss, acc) in zip(("train", "test"), evals):
            self.loss[which].append(np.atleast_1d(loss))
            self.acc[which].append(np.atleast_1d(acc))
        W = np.atleast_2d(W)
        self.finite.append(np.all(np.isfinite(W), axis=1) & np.isfinite(self.loss["train"][-1]))
        if keep:
            self.weights.append(W.copy())

    def array(self, what, which):
        d = self.loss if what == "loss" else self.acc
        return np.stack(d[which], axis=1) if d[which] else None

    def diverged_epoch(self):
        """First epoch (row) at which each network was no longer finite, -1 if never."""
        bad = ~np.stack(self.finite, axis=1)
        return np.where(bad.any(axis=1), bad.argmax(axis=1), -1).astype(np.int64)


def run_epochs(epochs, prepare, epoch, evaluate, weights, *, keep_weights=True,
               stop_on_divergence=True, after=None, bar=None, restore=None):
    """Run up to ``epochs`` epochs and return a :class:`Curves`.

    ``prepare(ep)`` returns the epoch's arguments (data order, random draws: off the
    clock); ``epoch(args)`` is the timed training work; ``after()`` (optional, untimed)
    brings the weights back (from a device); ``evaluate()`` returns ``[(loss, acc)]`` for
    the training set and, if there is one, the test set (scalars or (k,) arrays);
    ``weights()`` the current weights ((n_edges,) or (k, n_edges)). With
    ``stop_on_divergence`` the loop stops after the first epoch whose loss or weights are
    not finite; ``bar`` is a tqdm bar updated once per epoch. A KeyboardInterrupt inside
    an epoch calls ``restore(W)`` with the weights of the last whole epoch (when kept) and
    goes on up.
    """
    c = Curves()
    c.add(evaluate(), weights(), keep_weights)
    for ep in range(1, epochs + 1):
        args = prepare(ep)
        t0 = time.perf_counter()
        try:
            epoch(args)
        except KeyboardInterrupt:
            if restore is not None and c.weights:
                restore(c.weights[-1])
            if bar is not None:
                bar.close()
            raise
        c.times.append(time.perf_counter() - t0)
        if after is not None:
            after()
        ev = evaluate()
        c.add(ev, weights(), keep_weights)
        if bar is not None:
            bar.update(1)
            loss, acc = np.atleast_1d(ev[0][0]), np.atleast_1d(ev[0][1])
            if loss.size == 1:
                bar.set_postfix(loss=f"{loss[0]:.4f}", acc=f"{acc[0]:.3f}")
        if stop_on_divergence and not c.finite[-1].all():
            c.stopped = ep
            break
    if bar is not None:
        bar.close()
    return c


def penalty_rows(net, W, l2):
    """The L2 penalty ``l2/2 * sum of the non-bias weights' squares`` of each row of
    ``W`` ((rows, n_edges)), or of each entry of ``l2`` ((rows,) per network), summed
    as every kernel sums it (edge order, float64); zeros without a penalty."""
    from ..backends import cpu
    W = np.atleast_2d(W)
    l2 = np.broadcast_to(np.asarray(l2, dtype=np.float64), (W.shape[0],))
    return np.array([0.5 * float(a) * cpu.sum_sq(net, w) if a != 0 else 0.0
                     for a, w in zip(l2, W)])


def progress_bar(enabled, total, desc, unit="epoch"):
    """A tqdm bar, or None."""
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit=unit)
