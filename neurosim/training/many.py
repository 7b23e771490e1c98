"""``train_many``: many networks of one topology trained side by side, each with its own
initial weights, learning rate and shuffle seed, returning a :class:`ManyHistory`.
"""
from __future__ import annotations

import numpy as np

from .. import backends
from ..checks import check_bool, check_int, check_lr, check_seed
from ..graph import Network
from ..inputs import as_inputs, as_targets, as_test_set
from .history import ManyHistory
from .loop import progress_bar, run_epochs


def _stack_networks(nets, weights):
    """(template net, list of nets or None, initial weights (k, m))."""
    if isinstance(nets, Network):
        base, many = nets, None
        W = np.array(nets.weights[None, :], dtype=nets.dtype) if weights is None else weights
    else:
        many = list(nets)
        if not many or not all(isinstance(n, Network) for n in many):
            raise ValueError("nets must be a Network or a non-empty list of Networks")
        base = many[0]
        key = _topology_key(base)
        bad = [i for i, n in enumerate(many) if _topology_key(n) != key]
        if bad:
            raise ValueError(f"networks {bad[:10]} differ from network 0 in topology, "
                             "activations, loss or dtype; train_many needs one topology")
        if weights is not None:
            raise ValueError("give weights with a single Network, not with a list")
        W = np.stack([n.weights for n in many])
    W = np.asarray(W, dtype=np.float64)
    if W.ndim == 1:
        W = W[None, :]
    if W.ndim != 2 or W.shape[1] != base.n_edges or W.shape[0] == 0:
        raise ValueError(f"weights must have shape (n_nets, {base.n_edges}), got {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("initial weights must be finite")
    return base, many, np.ascontiguousarray(W, dtype=base.dtype)


def _topology_key(net):
    return (net.n_inputs, net.dtype.str, net.loss, net.src.tobytes(), net.dst.tobytes(),
            net.act.tobytes(), net.output_idx.tobytes())


def train_many(nets, X, y, *, lr=0.05, epochs=10, weights=None, batch_size=1, shuffle=True,
               seed=0, skip_zero_error=False, X_test=None, y_test=None, keep_weights=False,
               progress=False, device="cuda"):
    """Train many networks of one topology side by side, one CUDA block per network.

    Network k does exactly what ``neurosim.train(net_k, X, y, lr=lr[k], epochs=epochs,
    batch_size=batch_size, shuffle=shuffle, seed=seed[k], skip_zero_error=...)`` does on
    the CPU (same data order, same per-sample SGD), the whole epoch inside one launch.

    Parameters
    ----------
    nets : Network or list of Network
        A list: networks of one topology (same edges, activations, loss, dtype); their
        weights are the starting points and are replaced by the trained ones in place.
        A single Network: the template; its weights are the starting point of every
        network unless ``weights`` is given, and it is not modified.
    X : array_like (n_samples, n_inputs)
    y : array_like (n_samples,) or (n_samples, n_outputs)
    lr : float or array_like (n_nets,)
        One learning rate for all, or one per network (a single template net with one
        weight vector is then repeated for every learning rate).
    epochs : int
    weights : array_like (n_nets, n_edges), optional
        Initial weights, with a single template Network.
    batch_size : int
        1 = per-sample SGD; larger = minibatches (as the CPU path).
    shuffle : bool
    seed : int or sequence of int
        Seeds of the per-epoch reshuffle: one for all networks, or one per network.
    skip_zero_error : bool
    X_test, y_test : array_like, optional
    keep_weights : bool
        Also return every network's weights after every epoch.
    progress : bool
        A tqdm bar over epochs.
    device : {"cuda"}

    Returns
    -------
    ManyHistory
    """
    B = backends.get(device)
    base, many, W0 = _stack_networks(nets, weights)
    Xa = as_inputs(base, X)
    T = as_targets(base, y, Xa.shape[0])
    epochs = check_int(epochs, "epochs", 0)
    batch_size = check_int(batch_size, "batch_size", 1)
    lrs = np.atleast_1d(np.asarray(lr, dtype=np.float64))
    if lrs.ndim != 1 or lrs.shape[0] == 0:
        raise ValueError("lr must be a number or a 1-d sequence of numbers")
    for v in lrs:
        check_lr(v)
    k = max(W0.shape[0], lrs.shape[0])
    if W0.shape[0] not in (1, k) or lrs.shape[0] not in (1, k):
        raise ValueError(f"{W0.shape[0]} weight rows and {lrs.shape[0]} learning rates do "
                         "not broadcast to one number of networks")
    if many is not None and k != len(many):
        raise ValueError(f"{len(many)} networks but {lrs.shape[0]} learning rates")
    W0 = np.ascontiguousarray(np.broadcast_to(W0, (k, base.n_edges)))
    lrs = np.broadcast_to(lrs, (k,)).astype(base.dtype)
    one_seed = seed is None or np.isscalar(seed) or isinstance(seed, np.random.Generator)
    if one_seed:
        check_seed(seed)
        seeds = None
    else:
        seeds = np.array([check_int(s, "seed", 0) for s in seed], dtype=np.int64)
    if seeds is not None and seeds.shape != (k,):
        raise ValueError(f"seed must be one integer or {k} integers, got shape {seeds.shape}")
    for flag, v in (("shuffle", shuffle), ("skip_zero_error", skip_zero_error),
                    ("keep_weights", keep_weights), ("progress", progress)):
        check_bool(v, flag)
    Xt, Tt = as_test_set(base, X_test, y_test)
    n = Xa.shape[0]
    sets = [(Xa, T)] + ([(Xt, Tt)] if Xt is not None else [])
    state = B.ManyTrainer(base, Xa, T, W0, lrs, batch_size, sets)
    rngs = ([np.random.default_rng(int(s)) for s in seeds] if seeds is not None
            else [np.random.default_rng(seed)])
    c = run_epochs(
        epochs, lambda ep: np.stack([r.permutation(n) if shuffle else np.arange(n)
                                     for r in rngs]),
        lambda perms: state.epoch(perms, skip_zero_error), state.evaluate, state.weights,
        keep_weights=keep_weights, stop_on_divergence=False,
        bar=progress_bar(progress, epochs, f"{k} networks"))
    Wf = state.weights()
    out = ManyHistory(lr=lrs.astype(np.float64), batch_size=batch_size,
                      edge_names=base.edge_names, weights=Wf,
                      train_loss=c.array("loss", "train"), train_acc=c.array("acc", "train"),
                      epoch_time=np.array(c.times), samples=n * epochs,
                      diverged_epoch=c.diverged_epoch(),
                      weights_history=np.array(c.weights) if keep_weights else None,
                      test_loss=c.array("loss", "test"), test_acc=c.array("acc", "test"),
                      device=B.device_name())
    if many is not None:
        for net, w in zip(many, Wf):
            net.weights[:] = w
    return out
