"""``train``: gradient descent on one network, per-sample (the chapter's way) or in
minibatches, on the CPU or CUDA backend, returning a :class:`History`.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import backends
from ..checks import check_bool, check_choice, check_int, check_l2, check_lr, check_seed
from ..inputs import as_inputs, as_targets, as_test_set, check_trainable
from .history import DivergenceError, History, Records
from .loop import penalty_rows, progress_bar, run_epochs


def train(net, X, y, *, lr=0.05, epochs=10, batch_size=1, shuffle=True, seed=0,
          skip_zero_error=False, X_test=None, y_test=None, on_divergence="stop",
          record=None, progress=False, device="cpu", l2=0.0, train_loss="evaluated"):
    """Train ``net`` in place by gradient descent; return a :class:`History`.

    Parameters
    ----------
    net : Network
    X : array_like (n_samples, n_inputs)
    y : array_like (n_samples,) or (n_samples, n_outputs)
        Targets fitting ``net``'s loss (see :func:`neurosim.inputs.as_targets`).
    lr : float
        Learning rate (eta), > 0.
    epochs : int
    batch_size : int
        1 (default) is per-sample SGD as in the chapter: forward, deltas, update, next
        sample. Larger sizes average the gradient over the batch.
    shuffle : bool
        Reshuffle the samples every epoch with a generator seeded by ``seed``.
    skip_zero_error : bool
        The chapter's rule: make no update for a sample whose error is exactly 0.
    X_test, y_test : array_like, optional
        Evaluated after every epoch.
    on_divergence : {"stop", "raise"}
        If weights or loss become NaN/inf: ``stop`` warns, stops training and records the
        epoch in ``History.diverged_epoch``; ``raise`` raises :class:`DivergenceError`.
        The network keeps the non-finite weights either way.
    record : list of str or "all", optional
        Neurons whose output and delta are stored at every sample step
        (``History.records``, a :class:`neurosim.training.Records`: for each neuron
        ``{"output": ..., "delta": ...}`` arrays of shape (epochs_run, n_samples)).
    progress : bool
        Show a tqdm progress bar over epochs.
    device : {"cpu", "cuda"}
    l2 : float
        lambda of an L2 penalty ``l2/2 * sum w^2`` over the non-bias weights added to
        the error (the chapter's error term that keeps weights small): every step's
        gradient of a weight AC gains ``l2 * AC``, so AC <- AC - lr*(Ao*Cd + l2*AC). A
        minibatch step takes it once, on the batch's mean gradient. Biases are not
        penalised (as scikit-learn's MLP does): they shift a neuron's threshold and do
        not make the function it computes any steeper. 0 (the default) is no penalty, the
        same bits as before it existed. ``History.train_loss`` includes the penalty;
        ``train_data_loss`` and ``penalty`` hold the two terms apart. ``skip_zero_error``
        looks at the data term alone.
    train_loss : {"evaluated", "running"}
        What ``History.train_loss`` and ``train_acc`` hold after each epoch.
        ``"evaluated"`` (the default): a separate pass over the training set with the
        epoch's final weights. ``"running"``: as Keras reports it, the mean error and the
        accuracy of the samples during the epoch, each taken just before that sample's
        step (no second pass, so cheaper; it lags the evaluated loss while the net is
        learning); the penalty term is that of the epoch's final weights. Row 0 (before
        training) is evaluated either way. CPU only, and not with ``record``.

    Raises
    ------
    ValueError
        For bad input (shapes, NaN/inf, labels that don't fit the loss, lr <= 0,
        l2 < 0), before any weight changes.
    KeyboardInterrupt
        Ctrl-C stops training within about a second, even inside a long epoch (the CPU
        runs it as kernel calls of ~0.25 s), and leaves the network at its last whole
        epoch. The kernels release the GIL, so threads train networks side by side.
    """
    B = backends.get(device)
    check_trainable(net)
    Xa = as_inputs(net, X)
    T = as_targets(net, y, Xa.shape[0])
    lr = check_lr(lr, net.dtype)
    l2 = check_l2(l2, net.dtype)
    epochs = check_int(epochs, "epochs", 0)
    batch_size = check_int(batch_size, "batch_size", 1)
    check_choice(on_divergence, "on_divergence", ("stop", "raise"))
    check_choice(train_loss, "train_loss", ("evaluated", "running"))
    running = train_loss == "running"
    if running and device != "cpu":
        raise ValueError("train_loss='running' needs device='cpu'")
    if running and record is not None:
        raise ValueError("train_loss='running' does not combine with record= (recorded "
                         "epochs are evaluated)")
    for flag, v in (("shuffle", shuffle), ("skip_zero_error", skip_zero_error),
                    ("progress", progress)):
        check_bool(v, flag)
    check_seed(seed)
    Xt, Tt = as_test_set(net, X_test, y_test)
    names = None
    if record is not None:
        if device != "cpu":
            raise ValueError("record= needs device='cpu' (the recorder is a CPU kernel)")
        names = record_names(net, record, epochs, Xa.shape[0])
    rng = np.random.default_rng(seed)
    n = Xa.shape[0]
    sets = [(Xa, T)] + ([(Xt, Tt)] if Xt is not None else [])
    if device == "cpu" and names is None and not progress:
        state = B.Trainer(net, Xa, T, batch_size, epochs=epochs, l2=l2, running=running)
        c = _run_cpu(net, state, sets, epochs, _orders(rng, n, epochs, shuffle), lr,
                     skip_zero_error, running)
    else:
        bar = progress_bar(progress, epochs, f"lr={lr:g}")
        # compiles (or loads from Numba's cache) before the clock starts; CUDA uploads data
        if device == "cpu":
            state = B.Trainer(net, Xa, T, batch_size,
                              watch=None if names is None else [net.neuron(nm)
                                                                for nm in names],
                              epochs=epochs, l2=l2, running=running)
        else:
            state = B.Trainer(net, Xa, T, batch_size, l2=l2)
        c = run_epochs(
            epochs, lambda ep: rng.permutation(n) if shuffle else np.arange(n),
            lambda perm: state.epoch(perm, lr, skip_zero_error),
            lambda: [B.evaluate(net, sX, sT) for sX, sT in sets], lambda: net.weights,
            after=state.sync_weights, bar=bar,
            restore=lambda W: net.weights.__setitem__(slice(None), W[0]))
    W = np.concatenate(c.weights)
    pen = penalty_rows(net, W, l2)
    data_tr = c.array("loss", "train")[0]
    data_te = None if Xt is None else c.array("loss", "test")[0]
    hist = History(lr=lr, batch_size=batch_size, edge_names=net.edge_names,
                   train_loss=data_tr + pen, train_acc=c.array("acc", "train")[0],
                   weights=W, epoch_time=np.array(c.times),
                   test_loss=None if Xt is None else data_te + pen,
                   test_acc=None if Xt is None else c.array("acc", "test")[0],
                   samples=n * len(c.times), forward_passes=n * len(c.times),
                   diverged_epoch=c.stopped, compile_time=state.compile_time, l2=l2,
                   train_data_loss=data_tr, test_data_loss=data_te, penalty=pen)
    if names is not None:
        hist.records = Records(*state.records(names))
    if c.stopped is not None:
        msg = (f"training diverged at epoch {c.stopped} (lr={lr:g}): weights or loss became "
               "NaN/inf; try a smaller learning rate")
        if on_divergence == "raise":
            raise DivergenceError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return hist


def _orders(rng, n, epochs, shuffle):
    """Each epoch's sample order, as ``rng.permutation(n)`` draws them one epoch after the
    other (drawn by the compiled copy of NumPy's shuffle, a block of epochs at a time)."""
    from ..kernels.rng import draw
    if not shuffle:
        order = np.arange(n)
        for _ in range(epochs):
            yield order
        return
    block = max(1, min(epochs, (1 << 21) // max(1, n)))
    left = epochs
    while left > 0:
        k = min(block, left)
        for p in draw(rng, n, k):
            yield p
        left -= k


def _run_cpu(net, state, sets, epochs, orders, lr, skip_zero, running):
    """The CPU loop of :func:`train` without recording or a progress bar: the epochs
    back to back (each timed alone, its final weights kept), then every epoch's
    evaluation in one compiled call per data set -- the same numbers as
    :func:`loop.run_epochs` evaluating after each epoch, as the weights of each epoch are
    kept. Stops after the first epoch whose weights or training loss are not finite (the
    network then holds that epoch's weights)."""
    import time
    from .loop import Curves
    w = net.weights
    W = np.empty((epochs + 1, net.n_edges), net.dtype)
    W[0] = w
    run_loss = np.zeros(epochs + 1)
    run_right = np.zeros(epochs + 1)
    times = []
    clock = time.perf_counter
    isfinite = np.isfinite
    try:
        for ep, perm in zip(range(1, epochs + 1), orders):
            t0 = clock()
            r = state.epoch(perm, lr, skip_zero)
            times.append(clock() - t0)
            W[ep] = w
            if running:
                run_loss[ep], run_right[ep] = r[0], r[2]
                if not isfinite(r[0]):
                    break
            if not isfinite(w).all():
                break
    except KeyboardInterrupt:
        w[:] = W[len(times)]                      # the last whole epoch
        raise
    rows = len(times) + 1
    W = W[:rows]
    c = Curves()
    evals = []
    for k, (sX, sT) in enumerate(sets):
        m = sX.shape[0]
        if k == 0 and running:
            loss, right = state.evaluate_rows(W[:1], sX, sT)
            loss = np.concatenate([loss, run_loss[1:rows]])
            right = np.concatenate([right, run_right[1:rows]])
        else:
            loss, right = state.evaluate_rows(W, sX, sT)
        evals.append((loss / m, right / m))
    finite = isfinite(W).all(axis=1) & isfinite(evals[0][0])
    bad = np.flatnonzero(~finite[1:])
    if len(bad):
        rows = int(bad[0]) + 2
        c.stopped = rows - 1
        W = W[:rows]
        w[:] = W[-1]
    c.times = times[:rows - 1]
    c.weights = [W]
    for which, (loss, acc) in zip(("train", "test"), evals):
        c.loss[which] = [loss[r:r + 1] for r in range(rows)]
        c.acc[which] = [acc[r:r + 1] for r in range(rows)]
    return c


_RECORD_LIMIT = 2 ** 30          # bytes of recorded arrays, a guard against typos


def record_names(net, record, epochs, n_samples):
    """Validate ``record`` (a list of neuron names, one name, or ``"all"``) and return the
    names. Raises ValueError before anything is trained."""
    if isinstance(record, str):
        names = net.neuron_names if record == "all" else [record]
    else:
        try:
            names = list(record)
        except TypeError:
            raise ValueError(f"record must be a list of neuron names or 'all', "
                             f"got {record!r}") from None
    if not names:
        raise ValueError("record is empty: give neuron names or 'all'")
    bad = [nm for nm in names if not isinstance(nm, str) or nm not in net.index]
    if bad:
        raise ValueError(f"record: no neurons {bad}; neurons are {net.neuron_names}")
    if len(set(names)) != len(names):
        raise ValueError(f"record names a neuron twice: {names}")
    size = 2 * epochs * n_samples * len(names) * net.dtype.itemsize
    if size > _RECORD_LIMIT:
        raise ValueError(f"recording {len(names)} neurons x {n_samples} samples x {epochs} "
                         f"epochs needs {size / 2**30:.1f} GiB; record fewer neurons or "
                         "epochs")
    return list(names)


def prepare(net, X, y, *, epochs=10, batch_size=1, record=None, X_test=None, y_test=None,
            many=False, l2=0.0, networks=2):
    """Compile (or load from Numba's on-disk cache) the CPU kernels that
    ``train(net, X, y, epochs=epochs, batch_size=..., record=..., X_test=..., y_test=...,
    l2=...)``
    -- or, with ``many=True``, ``train_many`` / ``sweep`` on networks like ``net`` -- will
    run, without training anything (``net`` is not changed); returns the seconds it took.
    Use it to pay the first run's compilation before a progress bar starts.

    With ``many=True``, ``networks`` is how many networks the real call trains: with the
    real ``epochs`` and sample count it picks the kernel that call will run (the one
    generated for the topology, or the general one), so that only that one compiles."""
    import time
    from ..backends import cpu
    t0 = time.perf_counter()
    Xa = as_inputs(net, X)
    T = as_targets(net, y, Xa.shape[0])
    epochs = check_int(epochs, "epochs", 0)
    batch_size = check_int(batch_size, "batch_size", 1)
    l2 = check_l2(l2, net.dtype)
    if many:
        networks = check_int(networks, "networks", 1)
        planned = cpu.many_planned(net, networks, epochs, Xa.shape[0], batch_size)
        n = min(2, Xa.shape[0])
        sets = [(Xa[:n], T[:n])]
        if X_test is not None:
            Xt, Tt = as_test_set(net, X_test, y_test)
            sets.append((Xt[:n], Tt[:n]))
        W0 = np.repeat(net.weights[None], 2, axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            cpu.ManyTrainer(net, Xa[:n], T[:n], W0, np.full(2, 1e-3, net.dtype), batch_size,
                            sets, epochs=1, l2=np.full(2, l2), planned=planned)
        return time.perf_counter() - t0
    c = net.copy()
    names = None if record is None else record_names(c, record, 1, 2)
    tr = cpu.Trainer(c, Xa, T, batch_size, epochs=epochs, l2=l2,
                     watch=None if names is None else [c.neuron(nm) for nm in names])
    tr.epoch(np.arange(min(2, Xa.shape[0])), 1e-3)
    if names is None:
        tr.evaluate_rows(c.weights[None], Xa[:2], T[:2])    # train's batched evaluation
    cpu.evaluate(c, Xa[:2], T[:2])
    return time.perf_counter() - t0
