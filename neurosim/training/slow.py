"""The chapter's slow learner (section "一种缓慢的学习方式", a slow way to learn).

For each sample: pick one weight at random, freeze everything else, add a small random m
centred on 0, re-evaluate the same sample, keep the change if that sample's error fell
and undo it otherwise; a number of tries per sample, then the next sample, epoch after
epoch. It returns the same :class:`neurosim.History` as :func:`neurosim.train`, with
``method="slow"`` and ``forward_passes`` counted, so both learners can be compared on the
same network and data by error vs forward passes (:func:`passes`) and vs wall time.
"""
from __future__ import annotations

import time

import numpy as np

from ..backends.cpu import evaluate, scratch
from ..checks import check_bool, check_int, check_positive, check_seed
from ..inputs import as_inputs, as_targets, as_test_set
from ..kernels import slow as K
from .history import History
from .loop import run_epochs


def slow_learn(net, X, y, *, epochs=10, tries=10, scale=0.05, shuffle=True, seed=0,
               X_test=None, y_test=None):
    """Train ``net`` in place with the chapter's slow learner; return a :class:`History`.

    Parameters
    ----------
    net : Network
    X : array_like (n_samples, n_inputs)
    y : array_like
        Targets fitting ``net``'s loss.
    epochs : int
        Passes over the samples (>= 0).
    tries : int
        Random weight changes tried per sample (>= 1).
    scale : float
        Standard deviation of the change m ~ N(0, scale²) (> 0).
    shuffle : bool
        Reshuffle the samples every epoch.
    seed : int or numpy Generator
        Seeds the shuffles, the weights picked and the changes tried.
    X_test, y_test : array_like, optional
        Evaluated after every epoch.

    Returns
    -------
    History
        ``method="slow"``; ``lr`` holds ``scale``; ``forward_passes`` counts every
        forward pass made while learning: (1 + tries) per sample step (evaluation
        passes are not counted, as for :func:`neurosim.train`).

    Raises
    ------
    ValueError
        For bad input, before any weight changes.
    """
    Xa = as_inputs(net, X)
    T = as_targets(net, y, Xa.shape[0])
    epochs = check_int(epochs, "epochs", 0)
    tries = check_int(tries, "tries", 1)
    scale = check_positive(scale, "scale")
    check_bool(shuffle, "shuffle")
    check_seed(seed)
    Xt, Tt = as_test_set(net, X_test, y_test)
    if net.n_edges == 0:
        raise ValueError("the network has no weights to learn")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = Xa.shape[0]
    S = scratch(net)
    sets = [(Xa, T)] + ([(Xt, Tt)] if Xt is not None else [])
    passes_made = []

    def draws(ep):
        perm = rng.permutation(n) if shuffle else np.arange(n)
        edges = rng.integers(0, net.n_edges, size=n * tries).astype(np.int64)
        steps = rng.normal(0.0, scale, size=n * tries).astype(net.dtype)
        return perm.astype(np.int64), edges, steps

    def run(args):
        passes_made.append(int(K.slow_epoch(Xa, T, *args, net.loss, net.topo, net.weights,
                                            S)[1]))

    t0 = time.perf_counter()                # compile (or load from cache) off the clock
    K.slow_epoch(Xa, T, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, net.dtype),
                 net.loss, net.topo, net.weights, S)
    compile_time = time.perf_counter() - t0
    c = run_epochs(epochs, draws, run, lambda: [evaluate(net, sX, sT) for sX, sT in sets],
                   lambda: net.weights, stop_on_divergence=False)
    return History(lr=scale, batch_size=1, edge_names=net.edge_names,
                   train_loss=c.array("loss", "train")[0], train_acc=c.array("acc", "train")[0],
                   weights=np.concatenate(c.weights), epoch_time=np.array(c.times),
                   test_loss=None if Xt is None else c.array("loss", "test")[0],
                   test_acc=None if Xt is None else c.array("acc", "test")[0],
                   samples=n * len(c.times), forward_passes=sum(passes_made), method="slow",
                   compile_time=compile_time)


def passes(hist):
    """Cumulative forward passes at each row of a History (0 before training), for
    plotting error vs forward passes: both learners make the same number of passes in
    every epoch (n per epoch for gradient descent, n·(1 + tries) for the slow learner).

    Returns
    -------
    ndarray (epochs_run + 1,)
    """
    if not isinstance(hist, History):
        raise ValueError(f"hist must be a History, got {type(hist).__name__}")
    per = hist.forward_passes / hist.epochs if hist.epochs else 0.0
    return np.arange(hist.epochs + 1) * per


def progress(hist):
    """Error against effort, for comparing learners: ``(passes, seconds, loss)``.

    Returns
    -------
    passes : ndarray (epochs_run + 1,)
        Cumulative forward passes (see :func:`passes`).
    seconds : ndarray (epochs_run + 1,)
        Cumulative seconds in the learning kernel (evaluation and compilation excluded).
    loss : ndarray (epochs_run + 1,)
        ``hist.train_loss``.
    """
    p = passes(hist)
    return p, np.concatenate([[0.0], np.cumsum(hist.epoch_time)]), hist.train_loss.copy()


def passes_to_reach(hist, error):
    """Forward passes after which the training error was first <= ``error`` (None if
    never)."""
    p = passes(hist)
    try:
        error = float(error)
    except (TypeError, ValueError):
        raise ValueError(f"error must be a number, got {error!r}") from None
    hit = np.flatnonzero(hist.train_loss <= error)
    return int(p[hit[0]]) if len(hit) else None
