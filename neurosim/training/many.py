"""``train_many``: many networks of one topology trained side by side, each with its own
initial weights, learning rate and shuffle seed, returning a :class:`ManyHistory`.
"""
from __future__ import annotations

import time

import numpy as np

from .. import backends
from ..checks import check_bool, check_int, check_l2, check_lr, check_seed
from ..graph import Network
from ..inputs import as_inputs, as_targets, as_test_set
from .history import ManyHistory
from .loop import penalty_rows, progress_bar, run_epochs


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
        key = _topology_key(base) if len(many) > 1 else None
        bad = [i for i, n in enumerate(many[1:], 1) if _topology_key(n) != key]
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


def _per_network(v, name, check):
    """``v`` (a number or a 1-d sequence, one per network) as a float64 array, each entry
    passed through ``check``; ValueError otherwise."""
    if type(v) is float or (type(v) is int and not isinstance(v, bool)):   # the usual case
        check(v)
        return np.array([v], dtype=np.float64)
    items = v if isinstance(v, (list, tuple, np.ndarray)) else [v]
    if any(isinstance(x, (str, bytes)) for x in np.ravel(np.asarray(items, dtype=object))):
        raise ValueError(f"{name} must be a number or a 1-d sequence of numbers, got {v!r}")
    try:
        a = np.atleast_1d(np.asarray(v, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a 1-d sequence of numbers, "
                         f"got {v!r}") from None
    if a.ndim != 1 or a.shape[0] == 0:
        raise ValueError(f"{name} must be a number or a 1-d sequence of numbers")
    for x in a:
        check(x)
    return a


def _topology_key(net):
    return (net.n_inputs, net.dtype.str, net.loss, net.src.tobytes(), net.dst.tobytes(),
            net.act.tobytes(), net.output_idx.tobytes())


def train_many(nets, X, y, *, lr=0.05, epochs=10, weights=None, batch_size=1, shuffle=True,
               seed=0, skip_zero_error=False, X_test=None, y_test=None, keep_weights=False,
               progress=False, device="cpu", l2=0.0):
    """Train many networks of one topology side by side.

    On the CPU (the default) the whole run -- epochs, reshuffles, evaluation, divergence --
    is one compiled loop per stretch of epochs, the networks innermost in memory (a SIMD
    loop over networks for every edge) and chunks of networks spread over the cores. On
    CUDA each network is one block, a whole epoch per launch.

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
    device : {"cpu", "cuda"}
    l2 : float or array_like (n_nets,)
        The L2 penalty's lambda (as in :func:`neurosim.train`), one for all or one per
        network.

    Returns
    -------
    ManyHistory

    Raises
    ------
    ValueError
        Networks of different topologies, an lr, l2 or seed array of the wrong length,
        lr <= 0, l2 < 0 or NaN: before anything is trained.
    """
    B = backends.get(device)
    base, many, W0 = _stack_networks(nets, weights)
    Xa = as_inputs(base, X)
    T = as_targets(base, y, Xa.shape[0])
    epochs = check_int(epochs, "epochs", 0)
    batch_size = check_int(batch_size, "batch_size", 1)
    lrs = _per_network(lr, "lr", check_lr)
    l2s = _per_network(l2, "l2", lambda v: check_l2(v, base.dtype))
    k = max(W0.shape[0], lrs.shape[0], l2s.shape[0])
    if W0.shape[0] not in (1, k) or lrs.shape[0] not in (1, k) or l2s.shape[0] not in (1, k):
        raise ValueError(f"{W0.shape[0]} weight rows, {lrs.shape[0]} learning rates and "
                         f"{l2s.shape[0]} l2 values do not broadcast to one number of "
                         "networks")
    if many is not None and k != len(many):
        raise ValueError(f"{len(many)} networks but {max(lrs.shape[0], l2s.shape[0])} "
                         "learning rates or l2 values")
    W0 = np.ascontiguousarray(np.broadcast_to(W0, (k, base.n_edges)))
    lrs = np.broadcast_to(lrs, (k,)).astype(base.dtype)
    l2s = np.ascontiguousarray(np.broadcast_to(l2s, (k,)))
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
    compiled_orders = shuffle and (seeds is not None or isinstance(seed, (int, np.integer)))
    rngs = None
    if shuffle and not compiled_orders:                # None or a Generator: NumPy draws
        rngs = [np.random.default_rng(seed)]

    def perms(count):
        if rngs is None:
            return np.arange(n)[None, None].repeat(count, 1)
        return np.stack([np.stack([r.permutation(n) for _ in range(count)]) for r in rngs])

    if not shuffle:
        order = (0, None, None)
    elif seeds is not None:
        order = (2, None, seeds)
    elif compiled_orders:
        order = (3, None, np.array([int(seed)], np.int64))
    else:
        order = None                                     # drawn per stretch by perms()
    bar = progress_bar(progress, epochs, f"{k} networks")
    if device == "cpu" and k > 1:
        out = _cpu_many(B, base, Xa, T, W0, lrs, l2s, batch_size, sets, keep_weights, epochs,
                        order, perms, skip_zero_error, bar)
    else:
        state = (B.ManyTrainer(base, Xa, T, W0, lrs, batch_size, sets, l2=l2s)
                 if device == "cuda"
                 else _OneOfMany(base, Xa, T, W0, lrs, l2s, batch_size, sets, epochs,
                                 own=many is not None))
        pens = []
        penal = bool(np.any(l2s))

        def evaluate():
            pens.append(penalty_rows(base, state.weights(), l2s) if penal else np.zeros(k))
            return state.evaluate()

        each = ([np.random.default_rng(int(s)) for s in seeds] if seeds is not None
                else [np.random.default_rng(seed)])

        def one_epoch(ep):
            if len(each) == 1:
                return (each[0].permutation(n) if shuffle else np.arange(n))[None]
            return np.stack([r.permutation(n) if shuffle else np.arange(n) for r in each])

        c = run_epochs(epochs, one_epoch,
                       lambda p: state.epoch(p, skip_zero_error), evaluate,
                       state.weights, keep_weights=keep_weights,
                       stop_on_divergence=device == "cpu", bar=bar)
        out = dict(weights=state.weights(), train_loss=c.array("loss", "train"),
                   train_acc=c.array("acc", "train"), test_loss=c.array("loss", "test"),
                   test_acc=c.array("acc", "test"), penalty=np.stack(pens, axis=1),
                   epoch_time=np.array(c.times), diverged_epoch=c.diverged_epoch(),
                   weights_history=np.array(c.weights) if keep_weights else None,
                   compile_time=state.compile_time)
        if c.stopped is not None and c.stopped < epochs:        # one network, stopped early
            out = _pad(out, epochs + 1)
    pen, data_tr, data_te = out["penalty"], out["train_loss"], out["test_loss"]
    out.update(train_loss=data_tr + pen, train_data_loss=data_tr,
               test_loss=None if data_te is None else data_te + pen, test_data_loss=data_te)
    hist = ManyHistory(lr=lrs.astype(np.float64), batch_size=batch_size,
                       edge_names=base.edge_names, samples=n * epochs, device=B.device_name(),
                       l2=l2s.copy(), **out)
    if many is not None:
        for net, w in zip(many, hist.weights):
            net.weights[:] = w
    return hist


def _cpu_many(B, base, Xa, T, W0, lrs, l2s, batch_size, sets, keep_weights, epochs, order,
              perms, skip_zero, bar):
    """The CPU's compiled many-networks calls: one for the whole run, or (with a progress
    bar, or orders drawn by NumPy in Python) stretches of epochs, so that the bar moves and
    the orders of a stretch stay small."""
    k, n = W0.shape[0], Xa.shape[0]
    st = B.ManyTrainer(base, Xa, T, W0, lrs, batch_size, sets, keep_weights, epochs, l2=l2s)
    if order is not None and bar is None:
        per_call = max(1, epochs)
    elif order is not None:
        per_call = max(1, min(epochs, -(-epochs // 20), (1 << 24) // max(1, k * n)))
    else:
        per_call = max(1, min(epochs, (1 << 22) // max(1, n)))     # <= 32 MiB of orders
    times = []
    done = 0
    while done < epochs:
        count = min(per_call, epochs - done)
        o = order if order is not None else (1, perms(count), None)
        t0 = time.perf_counter()
        st.run(o, count, skip_zero)
        times += [(time.perf_counter() - t0) / count] * count
        done += count
        if bar is not None:
            bar.update(count)
    if bar is not None:
        bar.close()
    pen = np.where(l2s[:, None] != 0, 0.5 * l2s[:, None] * st.sq, 0.0)   # as penalty_rows
    return dict(weights=st.weights(), train_loss=st.loss_tr, train_acc=st.acc_tr, penalty=pen,
                test_loss=st.loss_te if st.has_test else None,
                test_acc=st.acc_te if st.has_test else None, epoch_time=np.array(times),
                diverged_epoch=st.stopped.copy(),
                weights_history=st.snaps if keep_weights else None,
                compile_time=st.compile_time)


class _OneOfMany:
    """One network through the single-network CPU trainer, with the ManyTrainer
    interface (so ``train_many`` of one network is as fast as ``train``)."""

    def __init__(self, net, X, T, W0, lrs, l2s, batch_size, sets, epochs, own=False):
        from ..backends import cpu
        # ``own``: the caller's network itself, whose weights train_many replaces anyway
        self.cpu, self.net = cpu, net if own else net.copy()
        self.net.weights[:] = W0[0]
        self.sets, self.lr = sets, float(lrs[0])
        self.tr = cpu.Trainer(self.net, X, T, batch_size, epochs=epochs, l2=l2s[0])
        self.compile_time = self.tr.compile_time

    def evaluate(self):
        return [tuple(np.array([v]) for v in self.cpu.evaluate(self.net, sX, sT))
                for sX, sT in self.sets]

    def epoch(self, perms, skip_zero):
        self.tr.epoch(perms[0], self.lr, skip_zero)

    def weights(self):
        return self.net.weights[None, :].copy()


def _pad(out, rows):
    """A history that stopped early, its last row repeated up to ``rows``."""
    for key in ("train_loss", "train_acc", "test_loss", "test_acc", "penalty"):
        a = out[key]
        if a is not None and a.shape[1] < rows:
            out[key] = np.concatenate([a, np.repeat(a[:, -1:], rows - a.shape[1], 1)], 1)
    w = out["weights_history"]
    if w is not None and w.shape[0] < rows:
        out["weights_history"] = np.concatenate([w, np.repeat(w[-1:], rows - w.shape[0], 0)])
    ep = out["epoch_time"]
    out["epoch_time"] = np.concatenate([ep, np.zeros(rows - 1 - len(ep))])
    return out
