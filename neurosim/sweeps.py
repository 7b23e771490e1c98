"""Sweeps: many training runs over learning rates x seeds x topologies, in parallel.

One training run per (topology, learning rate, seed). The seed sets *both* the network's
initial weights (the topology is built with it) and the per-epoch shuffling
(``train(..., seed=seed)``), so one (topology, seed) pair starts from the same weights at
every learning rate, as the book's experiments did. Runs go through :mod:`joblib`, so

>>> with joblib.parallel_backend("dask"):          # doctest: +SKIP
...     df = neurosim.sweep(...)

runs them on a Dask cluster (a ``distributed.Client`` must exist). The result is a tidy
:class:`pandas.DataFrame`; :func:`summarize`, :func:`per_run` and :func:`plot_sweep` turn it
into distributions -- the book's single run is one draw from them.
"""
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np

from . import backends, presets
from .checks import check_bool, check_int, check_l2, check_lr
from .graph import Network
from .inputs import as_inputs, as_targets
from .training import train_many

COLUMNS = ["topology", "lr", "seed", "epoch", "train_loss", "train_acc", "test_loss",
           "test_acc", "train_time", "diverged"]


# -- topologies ----------------------------------------------------------------------------
def _is_sizes(b):
    return (isinstance(b, (list, tuple)) and len(b) > 0
            and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in b))


def _as_builder(b, what):
    """(name, seed -> Network) for a callable, a preset name or a list of layer sizes."""
    if isinstance(b, str):
        return b, presets.Preset(b)
    if _is_sizes(b):
        return "-".join(str(int(s)) for s in b), presets.Layered(b)
    if callable(b) and not isinstance(b, Network):
        return getattr(b, "__name__", "net"), b
    raise ValueError(f"{what} must be a callable seed -> Network, a preset name "
                     f"{sorted(presets.PRESETS)} or a list of layer sizes, got {b!r}")


def _topologies(build, topology_name):
    if isinstance(build, dict):
        if topology_name is not None:
            raise ValueError("topology_name is for a single build; a dict's keys name "
                             "its topologies")
        if not build:
            raise ValueError("build: the dict of topologies is empty")
        out = []
        for name, b in build.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"topology names must be non-empty strings, got {name!r}")
            out.append((name, _as_builder(b, f"build[{name!r}]")[1]))
        return out
    name, fn = _as_builder(build, "build")
    if topology_name is not None:
        if not isinstance(topology_name, str) or not topology_name:
            raise ValueError(f"topology_name must be a non-empty string, got {topology_name!r}")
        name = topology_name
    if name == "<lambda>":
        name = "net"
    return [(name, fn)]


def _build(fn, seed, name):
    try:
        net = fn(seed)
    except ValueError as e:
        raise ValueError(f"topology {name!r} with seed {seed}: {e}") from None
    if not isinstance(net, Network):
        raise ValueError(f"topology {name!r}: build(seed) must return a neurosim.Network, "
                         f"got {type(net).__name__}")
    return net


# -- argument checks -----------------------------------------------------------------------
def _check_values(v, what, check):
    if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
        v = [v]
    v = [check(x) for x in v]
    if not v:
        raise ValueError(f"{what} must not be empty")
    if len(set(v)) != len(v):
        raise ValueError(f"{what} contains duplicates: {v}")
    return v


def check_sweep_seed(s):
    """A sweep's seed: an integer >= 0 (it builds the network and shuffles the data)."""
    return check_int(s, "seeds", 0)


def _check_n_jobs(n_jobs):
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")
    return int(n_jobs)


# -- the runs --------------------------------------------------------------------------------
def _table(name, lr, seed, train_loss, train_acc, test_loss, test_acc, times, diverged):
    """One run's rows (epoch 0..epochs) as columns; ``diverged``: the first diverged
    epoch or None; test columns None without a test set."""
    rows = len(train_loss)
    nan = np.full(rows, np.nan)
    div = np.zeros(rows, dtype=bool)
    if diverged is not None:
        div[diverged:] = True
    return {"topology": [name] * rows, "lr": np.full(rows, lr), "seed": np.full(rows, seed),
            "epoch": np.arange(rows), "train_loss": train_loss, "train_acc": train_acc,
            "test_loss": nan if test_loss is None else test_loss,
            "test_acc": nan if test_acc is None else test_acc, "train_time": times,
            "diverged": div}


def _share(name, nets, keys, X, y, X_test, y_test, epochs, batch_size, device, l2=0.0):
    """One train_many call over ``nets`` (one per (lr, seed) in ``keys``): table parts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # divergence is recorded
        h = train_many(nets, X, y, lr=[lr for lr, _ in keys], seed=[s for _, s in keys],
                       epochs=epochs, batch_size=batch_size, X_test=X_test, y_test=y_test,
                       device=device, l2=l2)
    k = len(keys)
    times = np.concatenate([[0.0], np.asarray(h.epoch_time) / k])
    parts = []
    for i, (lr, seed) in enumerate(keys):
        div = int(h.diverged_epoch[i]) if h.diverged_epoch[i] >= 0 else None
        t = times
        if div is not None and device == "cpu":      # it stopped there: no time after
            t = times.copy()
            t[div + 1:] = np.nan
        parts.append(_table(name, lr, seed, h.train_loss[i], h.train_acc[i],
                            None if h.test_loss is None else h.test_loss[i],
                            None if h.test_acc is None else h.test_acc[i], t, div))
    return parts


def _bar_label(lrs):
    """The progress bar's label: which learning rates it is sweeping."""
    if len(lrs) <= 4:
        return "sweep " + ", ".join(f"η={lr:g}" for lr in lrs)
    return f"sweep {len(lrs)} η from {min(lrs):g} to {max(lrs):g}"


def sweep(build, X, y, *, lrs, seeds, epochs, X_test=None, y_test=None, batch_size=1,
          n_jobs=1, backend=None, progress=False, device="cpu", topology_name=None, l2=0.0):
    """Train one network per (topology, learning rate, seed); return every epoch's results.

    Parameters
    ----------
    build : callable, str, list of int, or dict
        The topology: a callable ``seed -> Network`` (e.g.
        ``lambda s: neurosim.presets.moons_net(seed=s)``), a preset name (``"moons"``,
        ``"22432"``, ``"four-neuron"`` -- the last has fixed weights, so its seed only
        shuffles), or a list of layer sizes (``[2, 4, 4, 1]``: ReLU hidden layers and, for
        one output, a sigmoid output with ``bce``; for several, ``softmax_ce``). A dict
        ``{name: build}`` sweeps several topologies.
    X, y : array_like
        Training data, as for :func:`neurosim.train`.
    lrs : float or sequence of float
        Learning rates (> 0, no duplicates).
    seeds : int or sequence of int
        Seeds (>= 0, no duplicates). Seed ``s`` builds the network with ``build(s)`` (its
        initial weights) and trains it with ``train(..., seed=s)`` (its shuffling).
    epochs : int
        Epochs per run (>= 1).
    X_test, y_test : array_like, optional
        Evaluated after every epoch.
    batch_size : int
        As for :func:`neurosim.train` (1 = per-sample SGD, as in the chapter).
    n_jobs : int or None
        Parallel jobs for :class:`joblib.Parallel` (-1 = all cores; 1 = no parallelism).
    backend : str, optional
        A joblib backend (``"loky"``, ``"threading"``, ``"dask"``, ...); by default the
        active ``joblib.parallel_backend`` context's, else loky.
    progress : bool
        A tqdm bar over finished runs.
    device : {"cpu", "cuda"}
        ``"cuda"``: all runs of one topology train side by side in one launch per epoch
        (:func:`neurosim.train_many`, one CUDA block per network; same results as
        the CPU to rounding). ``n_jobs`` and ``backend`` are then unused, ``train_time``
        is the launch time divided by the number of networks, and a diverged network
        keeps training (its later rows are NaN rather than repeated). Raises ValueError
        if CUDA is not usable here.
    topology_name : str, optional
        Name of a single topology in the table (default: the preset name, the layer
        sizes joined by ``-``, or the callable's ``__name__``).
    l2 : float
        The L2 penalty's lambda of every run (as in :func:`neurosim.train`; >= 0). The
        losses in the table include the penalty; ``df.attrs["l2"]`` records it. Sweep
        several values by calling ``sweep`` once per value.

    Returns
    -------
    pandas.DataFrame
        One row per (topology, lr, seed, epoch), epoch 0 being before training, with
        columns ``topology, lr, seed, epoch, train_loss, train_acc, test_loss,
        test_acc`` (NaN without a test set), ``train_time`` (seconds in the training
        kernel that epoch; 0 at epoch 0) and ``diverged`` (weights or loss had become
        NaN/inf by this epoch). A diverged run stops training; its later rows repeat its
        last evaluation, with ``train_time`` NaN.

    Raises
    ------
    ValueError
        For bad arguments (checked before any run starts).

    Notes
    -----
    Runs are grouped into a few chunks per worker to keep joblib's per-task overhead low.
    The kernels are compiled with ``cache=True``; before dispatching, one tiny training
    run in this process makes sure the on-disk cache holds them, so workers load rather
    than compile.
    """
    import pandas as pd

    if device not in backends.DEVICES:
        raise ValueError(f"device must be one of {backends.DEVICES}, got {device!r}")
    topos = _topologies(build, topology_name)
    lrs = _check_values(lrs, "lrs", check_lr)
    seeds = _check_values(seeds, "seeds", check_sweep_seed)
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    l2 = check_l2(l2)
    n_jobs = _check_n_jobs(n_jobs)
    if backend is not None and not isinstance(backend, str):
        raise ValueError(f"backend must be a joblib backend name or None, got {backend!r}")
    check_bool(progress, "progress")
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    # validate the data against every topology (before any run starts)
    first = []
    for name, fn in topos:
        net = _build(fn, seeds[0], name)
        Xa = as_inputs(net, X)
        as_targets(net, y, Xa.shape[0])
        if X_test is not None:
            Xt = as_inputs(net, X_test, "X_test")
            as_targets(net, y_test, Xt.shape[0], "y_test")
        first.append(net)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X_test is not None:
        X_test = np.asarray(X_test, dtype=float)
        y_test = np.asarray(y_test, dtype=float)

    if device == "cuda":
        try:
            backends.get("cuda")
        except ImportError as e:
            raise ValueError(f"device='cuda' is not available: {e}") from None
    parts = _runs(topos, X, y, X_test, y_test, lrs, seeds, epochs, batch_size, n_jobs,
                  backend, progress, first, device, l2)
    df = pd.DataFrame({c: np.concatenate([p[c] for p in parts]) for c in COLUMNS})
    order = {name: k for k, (name, _) in enumerate(topos)}
    df["_t"] = df["topology"].map(order)
    df = df.sort_values(["_t", "lr", "seed", "epoch"], kind="stable").drop(columns="_t")
    df = df.reset_index(drop=True)
    df = df.astype({"lr": float, "seed": int, "epoch": int, "diverged": bool})
    df.attrs["l2"] = l2
    return df


def _runs(topos, X, y, X_test, y_test, lrs, seeds, epochs, batch_size, n_jobs, backend,
          progress, first, device, l2=0.0):
    """Every run: the runs of one topology as many-networks calls (``train_many``), on
    CUDA one call, on the CPU one per joblib worker (a share of the runs each)."""
    import joblib

    keys = [(lr, seed) for lr in lrs for seed in seeds]
    # a backend name goes through parallel_config rather than Parallel(backend=...): the
    # latter hands joblib's dask backend a stray ``nesting_level`` (joblib 1.6)
    config = (joblib.parallel_config(backend=backend) if backend is not None
              else contextlib.nullcontext())
    with config:
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        workers = 1 if device == "cuda" else max(1, parallel._effective_n_jobs()
                                                 if hasattr(parallel, "_effective_n_jobs")
                                                 else joblib.effective_n_jobs(n_jobs))
        if workers > 1:
            for net in first:        # fill numba's on-disk cache for these dtypes once
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    train_many([net.copy(), net.copy()], X[:2], y[:2], lr=lrs[0], epochs=1)
        size = max(1, math.ceil(len(keys) / workers))
        jobs = []
        for name, fn in topos:
            nets = [_build(fn, seed, name) for _, seed in keys]
            for a in range(0, len(keys), size):
                jobs.append((name, nets[a:a + size], keys[a:a + size]))
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=len(topos) * len(keys), desc=_bar_label(lrs), unit="run")
        parts = []
        try:
            if workers == 1:
                results = (_share(name, nets, ks, X, y, X_test, y_test, epochs, batch_size,
                                  device, l2) for name, nets, ks in jobs)
            else:
                results = parallel(joblib.delayed(_share)(name, nets, ks, X, y, X_test,
                                                          y_test, epochs, batch_size, device,
                                                          l2)
                                   for name, nets, ks in jobs)
            for res in results:
                parts.extend(res)
                if bar is not None:
                    bar.update(len(res))
        finally:
            if bar is not None:
                bar.close()
    return parts


# -- summaries -------------------------------------------------------------------------------
def _check_frame(df, need):
    import pandas as pd
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"expected the DataFrame returned by sweep(), got {type(df).__name__}")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"the table lacks columns {missing}; pass the result of sweep()")
    if len(df) == 0:
        raise ValueError("the table is empty")


def _check_acc(acc, which, df):
    try:
        acc = float(acc)
    except (TypeError, ValueError):
        raise ValueError(f"acc must be a number in [0, 1], got {acc!r}") from None
    if not 0.0 <= acc <= 1.0:
        raise ValueError(f"acc must be in [0, 1], got {acc}")
    if which not in ("test", "train"):
        raise ValueError(f"which must be 'test' or 'train', got {which!r}")
    col = f"{which}_acc"
    if df[col].isna().all():
        raise ValueError(f"the sweep has no {which} set; use which='train'")
    return acc, col


def summarize(df, acc=1.0, which="test", band=(10, 90)):
    """Distributions over seeds, per (topology, lr, epoch).

    Parameters
    ----------
    df : DataFrame
        The result of :func:`sweep`.
    acc : float
        Accuracy threshold in [0, 1] (1.0 = "100%").
    which : {"test", "train"}
    band : (float, float)
        Percentiles of the band, default the 10th and 90th.

    Returns
    -------
    DataFrame
        Columns ``topology, lr, epoch, n_runs, frac_reached`` (fraction of runs whose
        accuracy is >= ``acc`` at that epoch), ``median_acc, lo_acc, hi_acc`` (the band),
        ``median_loss, frac_diverged``.
    """
    _check_frame(df, COLUMNS)
    acc, col = _check_acc(acc, which, df)
    lo, hi = _check_band(band)
    loss = f"{which}_loss"
    g = df.groupby(["topology", "lr", "epoch"], sort=False)
    out = g.agg(n_runs=("seed", "size"),
                frac_reached=(col, lambda a: float(np.mean(a >= acc - 1e-12))),
                median_acc=(col, "median"),
                lo_acc=(col, lambda a: float(np.percentile(a, lo))),
                hi_acc=(col, lambda a: float(np.percentile(a, hi))),
                median_loss=(loss, "median"),
                frac_diverged=("diverged", "mean"))
    return out.reset_index()


def _check_band(band):
    try:
        lo, hi = (float(b) for b in band)
    except (TypeError, ValueError):
        raise ValueError(f"band must be two percentiles (lo, hi), got {band!r}") from None
    if not 0 <= lo <= hi <= 100:
        raise ValueError(f"band percentiles must satisfy 0 <= lo <= hi <= 100, got {band!r}")
    return lo, hi


def per_run(df, acc=1.0, which="test"):
    """One row per run: the first epoch with accuracy >= ``acc`` (NaN if never), the final
    accuracy and loss, and whether it diverged.

    Returns
    -------
    DataFrame
        Columns ``topology, lr, seed, first_epoch, final_acc, final_loss, diverged``.
    """
    _check_frame(df, COLUMNS)
    acc, col = _check_acc(acc, which, df)
    rows = []
    for (topo, lr, seed), g in df.groupby(["topology", "lr", "seed"], sort=False):
        g = g.sort_values("epoch")
        hit = g["epoch"].to_numpy()[g[col].to_numpy() >= acc - 1e-12]
        rows.append({"topology": topo, "lr": lr, "seed": seed,
                     "first_epoch": float(hit[0]) if len(hit) else np.nan,
                     "final_acc": float(g[col].iloc[-1]),
                     "final_loss": float(g[f"{which}_loss"].iloc[-1]),
                     "diverged": bool(g["diverged"].any())})
    import pandas as pd
    return pd.DataFrame(rows)
