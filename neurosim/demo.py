"""The chapter's two-moons experiment (Figs 14-28 to 14-38), and the distribution behind it.

:func:`run_demo` is what ``neurosim demo`` runs:

1. the book's three runs from the same initial weights (``presets.moons_net()``): per-sample
   SGD at η = 0.5 for 21 epochs, η = 0.05 for 21 and η = 0.01 for 201, with binary
   cross-entropy as the book's figures used (or the text's quadratic cost);
2. beyond the book, a seed sweep: the same runs from many initialisations
   (:func:`neurosim.sweep`), giving per η and epoch the fraction of runs at 100% test
   accuracy and the median accuracy with a band;
3. every figure as a PNG, and a summary table (per η: final train and test accuracy, the
   epoch where test accuracy first reached 100%, training time, CUPS) as ``summary.md``
   and ``summary.json``, all in one output folder.

Every number in the summary is read from the :class:`~neurosim.History` objects (and the
sweep's table), never retyped.
"""
from __future__ import annotations

import json
import pathlib
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import datasets, presets
from .checks import check_bool, check_int, check_lr
from .sweeps import _check_n_jobs, _check_values, check_sweep_seed
from .training import History, train

#: The book's runs: (η, epochs).
BOOK_RUNS = ((0.5, 21), (0.05, 21), (0.01, 201))

#: The learning rate whose sweep is searched for the book's late jump to 100% test accuracy
#: (the book's η = 0.01 run gets there at about epoch 165, after a long plateau).
LATE_JUMP_LR = 0.01

#: The learning rate whose run the demo animates (``lr0.05_training.gif``), and at most how
#: many epochs the animation draws (each frame costs about a quarter of a second).
ANIMATED_LR = 0.05
ANIMATION_FRAMES = 30

#: The chapter's added error term: the L2 penalties (λ) the demo sets beside the book's
#: unpenalised runs, the η whose run it draws with each, and the η whose seed sweeps it
#: repeats with each (η = 0.5, where every run collapses, and η = 0.05).
PENALTY_L2S = (1e-3, 1e-2)
PENALTY_LR = 0.05
PENALTY_SWEEP_LRS = (0.5, 0.05)

#: The sample drawn in the four-neuron and 2-2-4-3-2 network figures: (1, 1) -> P1 = 1, P2 = 0.
_SMALL_NET_SAMPLE = presets.FOUR_NEURON_SAMPLE


@dataclass
class Run:
    """One of the book's runs: its learning rate, History and trained network."""
    lr: float
    epochs: int
    history: History
    net: object


@dataclass
class DemoResult:
    """What :func:`run_demo` did.

    Attributes
    ----------
    out : pathlib.Path
        The output folder.
    runs : list of Run
        The book's runs, in the order given.
    sweep : pandas.DataFrame or None
        Every epoch of every sweep run (see :func:`neurosim.sweep`), all η together.
    summary : dict
        What ``summary.json`` holds.
    files : list of pathlib.Path
        Every file written.
    wall_time : float
        Seconds for the whole demo, JIT compilation and figures included.
    """
    out: pathlib.Path
    runs: list
    sweep: object
    summary: dict
    files: list = field(default_factory=list)
    wall_time: float = 0.0
    penalty: object = None


@dataclass
class PenaltyStudy:
    """What the L2 penalty did in the demo (:func:`penalty_study`).

    Attributes
    ----------
    l2s : list of float
        The penalties compared, 0 first.
    lr : float or None
        The η of the drawn runs (:data:`PENALTY_LR`), None if the demo has no such run.
    histories : dict
        λ -> History of the book's run at ``lr`` (shared initial weights and seed) with
        that penalty; λ = 0 is the book's run itself.
    rows : list of dict
        Per (η, λ) of the seed sweeps: ``lr, epochs, l2, seeds, at_100_final,
        collapsed_final`` (final test accuracy < 0.6), ``median_final_test_acc``,
        ``median_largest_w`` (each run's largest non-bias |w| at the end, median over the
        runs), ``median_final_penalty``, ``diverged``.
    """
    l2s: list
    lr: object
    histories: dict
    rows: list


# -- argument checks ---------------------------------------------------------------------
def _check_runs(runs):
    try:
        runs = [tuple(r) for r in runs]
    except TypeError:
        raise ValueError(f"runs must be a list of (lr, epochs) pairs, got {runs!r}") from None
    if not runs:
        raise ValueError("runs must not be empty")
    out = []
    for r in runs:
        if len(r) != 2:
            raise ValueError(f"each run is a pair (lr, epochs), got {r!r}")
        out.append((check_lr(r[0]), check_int(r[1], "epochs", 1)))
    lrs = [lr for lr, _ in out]
    if len(set(lrs)) != len(lrs):
        raise ValueError(f"learning rates must differ between runs, got {lrs}")
    return out


def _check_seeds(seeds):
    """A count n (seeds 0..n-1) or the sweep's own check of a list of seeds."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1 (or a list of seeds), got {seeds}")
        return list(range(int(seeds)))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"seeds must be a count or a list of integers, got {seeds!r}")
    return _check_values(seeds, "seeds", check_sweep_seed)


# -- the summary ---------------------------------------------------------------------------
def run_summary(history):
    """One row of the summary table, read from a History.

    Parameters
    ----------
    history : History
        With a test set.

    Returns
    -------
    dict
        ``lr, epochs, final_train_acc, final_test_acc, final_train_loss, final_test_loss,
        first_epoch_100_test`` (an int, or ``"never"``), ``train_time_s, compile_time_s,
        cups, diverged_epoch`` (None if it did not diverge).
    """
    if not isinstance(history, History):
        raise ValueError(f"expected a History, got {type(history).__name__}")
    if history.test_acc is None:
        raise ValueError("the summary needs a history with a test set")
    first = history.first_epoch_at(1.0, "test")
    return {"lr": float(history.lr), "epochs": int(history.epochs),
            "final_train_acc": float(history.train_acc[-1]),
            "final_test_acc": float(history.test_acc[-1]),
            "final_train_loss": float(history.train_loss[-1]),
            "final_test_loss": float(history.test_loss[-1]),
            "first_epoch_100_test": "never" if first is None else int(first),
            "train_time_s": float(history.train_time),
            "compile_time_s": float(getattr(history, "compile_time", 0.0)),
            "cups": float(history.cups),
            "diverged_epoch": history.diverged_epoch}


def sweep_summary(df):
    """Per η, what the seeds did: one dict per learning rate.

    Parameters
    ----------
    df : pandas.DataFrame
        The result of :func:`neurosim.sweep` (one topology).

    Returns
    -------
    list of dict
        ``lr, epochs, seeds, reached_100`` (runs whose test accuracy was 100% at some
        epoch), ``frac_reached_100``, ``at_100_final`` (runs at 100% after the last epoch),
        ``frac_at_100_final``, ``median_first_epoch`` (over the runs that reached it, or
        None), ``first_epoch_range`` ([min, max] or None), ``median_final_test_acc``,
        ``p10_final_test_acc``, ``p90_final_test_acc``, ``collapsed_final`` (runs whose
        final test accuracy is below 0.6, i.e. near the 0.5 of a one-class answer),
        ``diverged``.
    """
    from .sweeps import per_run
    pr = per_run(df, acc=1.0, which="test")
    out = []
    for lr, g in pr.groupby("lr", sort=False):
        epochs = int(df.loc[df["lr"] == lr, "epoch"].max())
        first = g["first_epoch"].to_numpy()
        hit = first[np.isfinite(first)]
        final = g["final_acc"].to_numpy()
        n = len(g)
        at_end = int(np.sum(final >= 1.0 - 1e-12))
        out.append({"lr": float(lr), "epochs": epochs, "seeds": n,
                    "reached_100": int(len(hit)), "frac_reached_100": len(hit) / n,
                    "at_100_final": at_end, "frac_at_100_final": at_end / n,
                    "median_first_epoch": float(np.median(hit)) if len(hit) else None,
                    "first_epoch_range": [int(hit.min()), int(hit.max())] if len(hit)
                    else None,
                    "median_final_test_acc": float(np.median(final)),
                    "p10_final_test_acc": float(np.percentile(final, 10)),
                    "p90_final_test_acc": float(np.percentile(final, 90)),
                    "collapsed_final": int(np.sum(final < 0.6)),
                    "diverged": int(g["diverged"].sum())})
    return out


def late_jump(df, lr=LATE_JUMP_LR):
    """The sweep run at ``lr`` that shows the book's late jump, or None.

    The rule: among the runs at 100% test accuracy after the last epoch (and not
    diverged), the one that first reached it latest (ties: the smallest seed). Before the
    jump such a run sits on a plateau; its median test accuracy over the epochs before the
    jump is reported with it.

    Parameters
    ----------
    df : pandas.DataFrame
        The result of :func:`neurosim.sweep` (or :func:`seed_sweep`).
    lr : float

    Returns
    -------
    dict or None
        ``lr, seed, first_epoch_100_test, epochs, plateau_median_test_acc`` (epochs 1 to
        the one before the jump), ``candidates`` (runs at 100% at the end), ``seeds``
        (runs at this η) and ``rule`` (the rule in words); None when no run ended at 100%.
    """
    from .sweeps import per_run
    g = df[df["lr"] == lr]
    if not len(g):
        return None
    pr = per_run(g, acc=1.0, which="test")
    ok = pr[(pr["final_acc"] >= 1.0 - 1e-12) & ~pr["diverged"]]
    if not len(ok):
        return None
    best = ok.sort_values(["first_epoch", "seed"], ascending=[False, True],
                          kind="stable").iloc[0]
    seed, first = int(best["seed"]), int(best["first_epoch"])
    acc = g[g["seed"] == seed].sort_values("epoch")["test_acc"].to_numpy()
    before = acc[1:first] if first > 1 else acc[:1]
    return {"lr": float(lr), "seed": seed, "first_epoch_100_test": first,
            "epochs": int(g["epoch"].max()),
            "plateau_median_test_acc": float(np.median(before)),
            "candidates": int(len(ok)), "seeds": int(pr["seed"].nunique()),
            "rule": "among the runs at 100% test accuracy after the last epoch, the one "
                    "that first reached it latest"}


def _late_jump_markdown(late, settings):
    if late is None:
        return [f"No η = {LATE_JUMP_LR:g} sweep run ended at 100% test accuracy, so none "
                "replays the book's late jump.", ""] if settings.get("sweep_seeds") else []
    same = "; replayed on its own with its seed it gives the same numbers" if late.get(
        "replay_matches_sweep") else ""
    return ["## The book's late jump", "",
            f"The book's η = {late['lr']:g} run jumps to 100% test accuracy late (about "
            f"epoch 165) after a long plateau: one draw from the distribution above. The "
            f"demo picks sweep run {late['seed']} to show it, chosen by a fixed rule: "
            f"{late['rule']} ({late['candidates']} of {late['seeds']} runs ended at 100%). "
            f"It reached 100% at epoch {late['first_epoch_100_test']} of "
            f"{late['epochs']}; before that its median test accuracy was "
            f"{late['plateau_median_test_acc']:.3f}{same}. `neurosim demo --seed "
            f"{late['seed']}` replays it (initial weights and shuffling); "
            f"`lr{late['lr']:g}_late_jump.png` draws it beside the shared-initialisation "
            f"run (seed {settings['init_seed']}).", ""]


def runs_table(rows):
    """The runs' summary rows (from :func:`run_summary`) as a Markdown table."""
    head = ("| η | epochs | final train acc | final test acc | first epoch at 100% test "
            "| training time (s) | CUPS |\n|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in rows:
        div = f" (diverged at {r['diverged_epoch']})" if r["diverged_epoch"] else ""
        lines.append(f"| {r['lr']:g} | {r['epochs']}{div} | {r['final_train_acc']:.4f} | "
                     f"{r['final_test_acc']:.4f} | {r['first_epoch_100_test']} | "
                     f"{r['train_time_s']:.3f} | {r['cups']:.3g} |")
    return "\n".join(lines)


def sweep_table(rows):
    """The sweep's per-η rows (from :func:`sweep_summary`) as a Markdown table."""
    head = ("| η | epochs | seeds | reached 100% test (any epoch) | at 100% after the last "
            "epoch | first epoch at 100%: median [range] | final test acc: median "
            "(10th-90th pct) | final test acc < 0.6 |\n"
            "|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in rows:
        if r["median_first_epoch"] is None:
            fe = "—"
        else:
            lo, hi = r["first_epoch_range"]
            fe = f"{r['median_first_epoch']:g} [{lo}–{hi}]"
        lines.append(f"| {r['lr']:g} | {r['epochs']} | {r['seeds']} | "
                     f"{r['reached_100']}/{r['seeds']} ({r['frac_reached_100']:.0%}) | "
                     f"{r['at_100_final']}/{r['seeds']} ({r['frac_at_100_final']:.0%}) | "
                     f"{fe} | {r['median_final_test_acc']:.3f} "
                     f"({r['p10_final_test_acc']:.3f}–{r['p90_final_test_acc']:.3f}) | "
                     f"{r['collapsed_final']}/{r['seeds']} |")
    return "\n".join(lines)


# -- figures -------------------------------------------------------------------------------
def _figure(figsize, ncols=1):
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def _save(fig, path, dpi, files):
    fig.savefig(path, dpi=dpi)
    files.append(path)


def _lr_tag(lr):
    return f"lr{lr:g}"


def _error_curve_figure(out, dpi, files):
    """Figs 14-9/14-10: the chapter's error curve E = (P1 - 1)^2 at P1 = -1, slope -4,
    with the tangent's predictions for steps of 0.5 and 1 against the real errors."""
    from .curves import chapter_example, error_curve
    from .plots import plot_error_curve
    net, x, t = chapter_example()
    curve = error_curve(net, x, t, "P", span=2.0)
    fig, ax = _figure((6.5, 4.6))
    plot_error_curve(curve, ax=ax, step=[0.5, 1.0])
    ax.set_title("Error curve and tangent (Figs 14-9, 14-10)")
    _save(fig, out / "error_curve.png", dpi, files)


def _write_figures(out, d, runs, net0, df, dpi, files, seed=presets.MOONS_SEED, late=None):
    from . import plots
    # Fig 14-28: the data
    fig, ax = _figure((5.5, 4.8))
    plots.plot_data(d.X_train, d.y_train, ax, X_test=d.X_test, y_test=d.y_test,
                    title=f"Two moons: {len(d.X_train)} train (filled), "
                          f"{len(d.X_test)} test (hollow)")
    _save(fig, out / "data.png", dpi, files)
    # Figs 14-5/14-6, 14-22, 14-29: the networks with outputs, deltas and weights
    x, t = _SMALL_NET_SAMPLE
    fig, ax = _figure((6.5, 3.6))
    plots.plot_network(presets.four_neuron(), ax, x=x, y=t,
                       title="Four-neuron net (Fig 14-5), sample (1, 1) → (1, 0)")
    _save(fig, out / "network_four_neuron.png", dpi, files)
    fig, ax = _figure((11, 6.2))
    plots.plot_network(presets.net_22432(), ax, x=x, y=t,
                       title="2-2-4-3-2 net (Fig 14-22), seed 0, sample (1, 1) → (1, 0)")
    _save(fig, out / "network_22432.png", dpi, files)
    fig, ax = _figure((10, 7))
    m = net0.copy()
    plots.plot_network(m, ax, x=d.X_train[0], y=d.y_train[:1], digits=3,
                       title=f"Moons net (Fig 14-29) at its initial weights, first training "
                             f"sample ({d.X_train[0][0]:.2f}, {d.X_train[0][1]:.2f}) → "
                             f"{int(d.y_train[0])}")
    _save(fig, out / "network_moons.png", dpi, files)
    # Figs 14-9/14-10: error curve and tangent (from the tracing module)
    _error_curve_figure(out, dpi, files)
    # Figs 14-30 to 14-38: one set per learning rate
    for r in runs:
        h, tag = r.history, _lr_tag(r.lr)
        s = run_summary(h)
        fig, ax = _figure((5.2, 4.8))
        plots.plot_boundary(r.net, d.X_test, d.y_test, ax,
                            title=f"η = {r.lr:g}, after {h.epochs} epochs: test accuracy "
                                  f"{s['final_test_acc']:.3f}")
        _save(fig, out / f"{tag}_boundary.png", dpi, files)
        fig, (a1, a2) = _figure((10, 3.6), ncols=2)
        plots.plot_accuracy(h, a1, title=f"η = {r.lr:g}: accuracy")
        plots.plot_loss(h, a2, title=f"η = {r.lr:g}: loss")
        _save(fig, out / f"{tag}_curves.png", dpi, files)
        fig, ax = _figure((9.5, 5))
        plots.plot_weights(h, ax, title=f"η = {r.lr:g}: all {h.weights.shape[1]} weights "
                                        "per epoch")
        _save(fig, out / f"{tag}_weights.png", dpi, files)
    if late is not None:
        # the book's late jump: the sweep run picked by late_jump() beside the shared run
        shared = next(r for r in runs if r.lr == late["lr"])
        fig, (a1, a2) = _figure((10, 3.8), ncols=2)
        plots.plot_accuracy(shared.history, a1,
                            title=f"η = {late['lr']:g}, shared initialisation (seed {seed})")
        plots.plot_accuracy(late["run"].history, a2,
                            title=f"η = {late['lr']:g}, sweep run {late['seed']}: the "
                                  f"latest jump to 100%")
        a2.axhline(late["plateau_median_test_acc"], color="0.5", lw=0.8, ls="--",
                   label=f"median test acc before it "
                         f"{late['plateau_median_test_acc']:.3f}")
        for a in (a1, a2):
            a.legend(loc="lower right", fontsize=8)
        _save(fig, out / f"{_lr_tag(late['lr'])}_late_jump.png", dpi, files)
    for r in runs:                       # training, epoch by epoch, for η = 0.05
        if r.lr == ANIMATED_LR:
            path = out / f"{_lr_tag(r.lr)}_training.gif"
            plots.animate_training(r.net, r.history, d.X_test, d.y_test, path, fps=3,
                                   dpi=min(dpi, 72), step=0.08, max_frames=ANIMATION_FRAMES,
                                   title=f"η = {r.lr:g}, seed {seed}")
            files.append(path)
    if df is not None:
        from .plots import plot_sweep
        lrs = list(dict.fromkeys(df["lr"]))
        n = int(df["seed"].nunique())
        from matplotlib.figure import Figure
        fig = Figure(figsize=(4.2 * len(lrs) + 0.6, 6.4), layout="constrained")
        grid = fig.subplots(2, len(lrs), squeeze=False)
        for c, lr in enumerate(lrs):
            top, bottom = grid[0, c], grid[1, c]
            plot_sweep(df[df["lr"] == lr], ax=[top, bottom])
            top.set_title(f"η = {lr:g}: median test accuracy\nand 10th–90th percentile band",
                          fontsize=10)
            bottom.set_title(f"η = {lr:g}: fraction of runs at\n100% test accuracy",
                             fontsize=10)
            for a in (top, bottom):
                a.get_legend().remove()
                a.set_xlim(0, int(df.loc[df["lr"] == lr, "epoch"].max()))
                a.grid(alpha=0.3)
        sep = ", " if len(lrs) > 2 else ",\n"        # one or two columns: two lines
        fig.suptitle(f"Seed sweep: {n} initialisations per η{sep}per-sample SGD, "
                     "test set after every epoch")
        _save(fig, out / "sweep.png", dpi, files)


# -- the chapter's added error term: the L2 penalty -------------------------------------
def largest_weight(weights, net):
    """The largest |w| of ``net``'s non-bias weights (the ones the L2 penalty acts on) in
    each row of ``weights`` (epochs x edges, or networks x edges)."""
    W = np.abs(np.asarray(weights, dtype=float))
    return W[..., net.src != net.bias].max(axis=-1)


def penalty_study(data, runs, net0, seed, seeds, *, book=None, l2s=PENALTY_L2S, loss="bce",
                  progress=False):
    """The chapter's added error term, measured: the book's run at :data:`PENALTY_LR`
    trained again from the same weights and seed with each penalty λ in ``l2s``, and, for
    each η of :data:`PENALTY_SWEEP_LRS` in ``runs``, the seed sweep repeated with λ = 0
    and each λ (:func:`neurosim.train_many`, the sweep's own engine and seeds).

    ``book`` maps η to the History of the book's unpenalised run (reused as λ = 0).
    Returns a :class:`PenaltyStudy`."""
    from .training import train_many
    l2s = [0.0] + [float(v) for v in l2s]
    epochs = dict(runs)
    book = book or {}
    lr = PENALTY_LR if PENALTY_LR in epochs else None
    hist = {}
    if lr is not None:
        for l2 in l2s:
            if l2 == 0.0 and lr in book:
                hist[l2] = book[lr]
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                hist[l2] = train(net0.copy(), data.X_train, data.y_train, lr=lr,
                                 epochs=epochs[lr], seed=seed, X_test=data.X_test,
                                 y_test=data.y_test, l2=l2)
    rows = []
    for r in [v for v in PENALTY_SWEEP_LRS if v in epochs] if seeds else []:
        for l2 in l2s:
            nets = [presets.moons_net(seed=s, loss=loss) for s in seeds]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                m = train_many(nets, data.X_train, data.y_train, lr=r, epochs=epochs[r],
                               seed=list(seeds), X_test=data.X_test, y_test=data.y_test,
                               l2=l2, progress=progress)
            final = m.test_acc[:, -1]
            rows.append({"lr": float(r), "epochs": int(epochs[r]), "l2": l2,
                         "seeds": len(seeds),
                         "at_100_final": int(np.sum(final >= 1.0 - 1e-12)),
                         "collapsed_final": int(np.sum(final < 0.6)),
                         "median_final_test_acc": float(np.median(final)),
                         "median_largest_w": float(np.median(largest_weight(m.weights,
                                                                            nets[0]))),
                         "median_final_penalty": float(np.median(m.penalty[:, -1])),
                         "diverged": int(np.sum(m.diverged_epoch >= 0))})
    return PenaltyStudy(l2s, lr, hist, rows)


def penalty_table(rows):
    """The penalty study's seed-sweep rows (:class:`PenaltyStudy`) as a Markdown table."""
    head = ("| η | epochs | λ | seeds | at 100% test after the last epoch | final test acc "
            "< 0.6 | final test acc: median | largest non-bias abs(w) at the end: median "
            "| penalty λ/2·Σw² at the end: median |\n"
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in rows:
        lines.append(f"| {r['lr']:g} | {r['epochs']} | {r['l2']:g} | {r['seeds']} | "
                     f"{r['at_100_final']}/{r['seeds']} | {r['collapsed_final']}/{r['seeds']}"
                     f" | {r['median_final_test_acc']:.3f} | {r['median_largest_w']:.3g} | "
                     f"{r['median_final_penalty']:.3g} |")
    return "\n".join(lines)


def penalty_figure(study, net0):
    """The figure of a :class:`PenaltyStudy` (the demo's ``penalty.png``): the drawn run's
    weights without and with the largest λ, every λ's largest non-bias |w| per epoch, and
    what each λ did across the seeds. ``net0`` is the trained topology. Returns a
    matplotlib Figure."""
    from matplotlib.figure import Figure
    from . import plots
    fig = Figure(figsize=(13, 8.2), layout="constrained")
    grid = fig.subplots(2, 2)
    lr, l2s = study.lr, study.l2s
    if lr is not None:
        lo = min(float(np.nanmin(h.weights)) for h in study.histories.values())
        hi = max(float(np.nanmax(h.weights)) for h in study.histories.values())
        for ax, l2 in ((grid[0, 0], 0.0), (grid[0, 1], l2s[-1])):
            plots.plot_weights(study.histories[l2], ax, highlight=4,
                               title=f"η = {lr:g}, λ = {l2:g}: every weight per epoch")
            ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        plots.plot_largest_weight(study.histories, net0, grid[1, 0],
                                  title=f"η = {lr:g}: largest non-bias |w| per epoch")
    else:
        for ax in (grid[0, 0], grid[0, 1], grid[1, 0]):
            ax.set_axis_off()
    ax = grid[1, 1]
    if study.rows:
        groups = list(dict.fromkeys(r["lr"] for r in study.rows))
        width = 0.8 / len(l2s)
        for k, l2 in enumerate(l2s):
            rs = [next(r for r in study.rows if r["lr"] == g and r["l2"] == l2)
                  for g in groups]
            x = np.arange(len(groups)) + (k - (len(l2s) - 1) / 2) * width
            at = [r["at_100_final"] / r["seeds"] for r in rs]
            col = [r["collapsed_final"] / r["seeds"] for r in rs]
            ax.bar(x, at, width * 0.9, color=f"C{k}", label=f"λ = {l2:g}: at 100% test")
            ax.bar(x, col, width * 0.9, bottom=at, color=f"C{k}", alpha=0.35, hatch="//",
                   label=f"λ = {l2:g}: collapsed (test acc < 0.6)")
        ax.set_xticks(np.arange(len(groups)),
                      [f"η = {g:g}, {dict((r['lr'], r['epochs']) for r in study.rows)[g]} "
                       "epochs" for g in groups])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(f"fraction of the {study.rows[0]['seeds']} seeds, after the last epoch")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.set_title("Across the seeds: runs at 100% test accuracy, and runs collapsed")
        ax.grid(alpha=0.3, axis="y")
    else:
        ax.set_axis_off()
    fig.suptitle("The L2 penalty λ/2·Σw² (non-bias weights), the chapter's added error term")
    return fig


# -- the demo --------------------------------------------------------------------------
def seed_sweep(data, runs, seeds, *, loss="bce", n_jobs=1, progress=False):
    """The book's runs from many initialisations: for each (η, epochs) of ``runs``, one
    :func:`neurosim.sweep` of ``presets.moons_net(seed=s, loss=loss)`` over ``seeds``
    on ``data`` (a :func:`neurosim.datasets.moons` result), all in one table."""
    import pandas as pd
    from .sweeps import sweep

    def build(s):
        return presets.moons_net(seed=s, loss=loss)

    return pd.concat([sweep(build, data.X_train, data.y_train, lrs=[lr], seeds=seeds,
                            epochs=epochs, X_test=data.X_test, y_test=data.y_test,
                            n_jobs=n_jobs, progress=progress, topology_name="moons")
                      for lr, epochs in runs], ignore_index=True)


def run_demo(out="neurosim-demo", *, runs=BOOK_RUNS, loss="bce", seed=presets.MOONS_SEED,
             seeds=50, sweep=True, n_jobs=1, progress=False, figures=True, dpi=110,
             penalty=True):
    """Run the chapter's two-moons experiment and write figures and a summary.

    Parameters
    ----------
    out : str or path-like
        Output folder (created if needed; files in it are overwritten).
    runs : sequence of (float, int)
        (η, epochs) of each run; default the book's ``BOOK_RUNS``.
    loss : {"bce", "quadratic"}
        ``bce`` as the book's figures were made, ``quadratic`` the text's cost.
    seed : int
        Seed of the initial weights shared by the runs (``presets.moons_net(seed=...)``).
    seeds : int or sequence of int
        The sweep's initialisations: a count n (seeds 0..n-1) or explicit seeds.
    sweep : bool
        Run the seed sweep.
    n_jobs : int
        Parallel jobs for the sweep (see :func:`neurosim.sweep`).
    progress : bool
        Progress bars (tqdm) while training.
    figures : bool
        Write the PNGs (the summary is always written).
    dpi : int
        Resolution of the PNGs.
    penalty : bool
        The chapter's added error term: the book's η = 0.05 run again with each L2
        penalty of :data:`PENALTY_L2S` and, with ``sweep``, the η = 0.5 and 0.05 seed
        sweeps again with each (:func:`penalty_study`; ``penalty.png``).

    Returns
    -------
    DemoResult

    Raises
    ------
    ValueError
        For bad arguments, before anything runs or is written.
    """
    t_start = time.perf_counter()
    runs = _check_runs(runs)
    if loss not in ("bce", "quadratic"):
        raise ValueError(f"loss must be 'bce' or 'quadratic', got {loss!r}")
    seed = check_int(seed, "seed", 0)
    seeds = _check_seeds(seeds)
    n_jobs = _check_n_jobs(n_jobs)
    for name, val in (("sweep", sweep), ("progress", progress), ("figures", figures),
                      ("penalty", penalty)):
        check_bool(val, name)
    dpi = check_int(dpi, "dpi", 20)
    try:
        out = pathlib.Path(out)
    except TypeError:
        raise ValueError(f"out must be a path, got {out!r}") from None
    if out.exists() and not out.is_dir():
        raise ValueError(f"out {str(out)!r} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)

    d = datasets.moons()
    net0 = presets.moons_net(seed=seed, loss=loss)
    from .progress import Spinner, warm_up
    from .training import prepare
    for many in (False, True) if sweep else (False,):
        warm_up(prepare, net0, d.X_train, d.y_train, X_test=d.X_test, y_test=d.y_test,
                epochs=max(ep for _, ep in runs), many=many, networks=len(seeds),
                enabled=progress)
    done = []
    for lr, epochs in runs:
        net = net0.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # divergence is in the summary
            h = train(net, d.X_train, d.y_train, lr=lr, epochs=epochs, seed=seed,
                      X_test=d.X_test, y_test=d.y_test, progress=progress)
        done.append(Run(lr, epochs, h, net))

    df = seed_sweep(d, runs, seeds, loss=loss, n_jobs=n_jobs, progress=progress) \
        if sweep else None
    late = None
    if df is not None and LATE_JUMP_LR in [lr for lr, _ in runs]:
        late = late_jump(df, LATE_JUMP_LR)
        if late is not None:         # replay that sweep run on its own: its one seed
            ep = dict(runs)[LATE_JUMP_LR]
            net = presets.moons_net(seed=late["seed"], loss=loss)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                h = train(net, d.X_train, d.y_train, lr=LATE_JUMP_LR, epochs=ep,
                          seed=late["seed"], X_test=d.X_test, y_test=d.y_test)
            g = df[(df["lr"] == LATE_JUMP_LR) & (df["seed"] == late["seed"])]
            late["replay_matches_sweep"] = bool(
                np.array_equal(g["test_acc"].to_numpy(), h.test_acc))
            late["run"] = Run(LATE_JUMP_LR, ep, h, net)
    study = penalty_study(d, runs, net0, seed, seeds if sweep else [], loss=loss,
                          book={r.lr: r.history for r in done}, progress=progress) \
        if penalty else None
    t_train = time.perf_counter() - t_start

    files = []
    if figures:
        t_fig = time.perf_counter()
        with Spinner("drawing the figures…", enabled=progress, delay=0.2):
            _write_figures(out, d, done, net0, df, dpi, files, seed=seed, late=late)
            if study is not None and (study.lr is not None or study.rows):
                _save(penalty_figure(study, net0), out / "penalty.png", dpi, files)
        t_fig = time.perf_counter() - t_fig
    rows = [run_summary(r.history) for r in done]
    summary = {
        "settings": {
            "data": f"two moons (datasets.moons()): {len(d.X_train)} train / "
                    f"{len(d.X_test)} test points",
            "network": repr(net0), "init_seed": seed, "shuffle_seed": seed, "loss": loss,
            "method": "per-sample SGD (batch size 1), reshuffled every epoch",
            "runs": [[lr, ep] for lr, ep in runs],
            "sweep_seeds": seeds if sweep else None},
        "runs": rows,
        "per_epoch": [{"lr": r.lr, "train_acc": r.history.train_acc.tolist(),
                       "test_acc": r.history.test_acc.tolist(),
                       "train_loss": r.history.train_loss.tolist(),
                       "test_loss": r.history.test_loss.tolist()} for r in done],
        "sweep": sweep_summary(df) if df is not None else None,
        "late_jump": None if late is None else {k: v for k, v in late.items()
                                                  if k != "run"},
        "penalty": None if study is None else {
            "l2s": study.l2s, "lr": study.lr,
            "runs": [{"l2": l2, "final_test_acc": float(h.test_acc[-1]),
                      "final_train_data_loss": float(h.train_data_loss[-1]),
                      "final_penalty": float(h.penalty[-1]),
                      "largest_w": largest_weight(h.weights, net0).tolist()}
                     for l2, h in study.histories.items()],
            "sweep": study.rows},
        "figures": [p.name for p in files],
        "train_and_sweep_time_s": t_train,
    }
    if df is not None:
        df.to_csv(out / "sweep.csv", index=False)
        files.append(out / "sweep.csv")
    wall = time.perf_counter() - t_start
    summary["wall_time_s"] = wall
    if figures:
        summary["figures_time_s"] = t_fig
    (out / "summary.md").write_text(summary_markdown(summary), encoding="utf-8")
    with open(out / "summary.json", "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, allow_nan=True)
    files += [out / "summary.md", out / "summary.json"]
    return DemoResult(out, done, df, summary, files, wall, study)


def _penalty_markdown(pen):
    if not pen or not (pen["runs"] or pen["sweep"]):
        return []
    lines = ["## The L2 penalty (the chapter's added error term)", "",
             "E = data term + λ/2·Σw² over the non-bias weights, so every step also takes "
             "η·λ·w off each of them.", ""]
    if pen["runs"]:
        lines += [f"The book's η = {pen['lr']:g} run, same initial weights and seed:", "",
                  "| λ | final test acc | final data term | final penalty | largest "
                  "non-bias abs(w) at the end (max over the epochs) |",
                  "|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['l2']:g} | {r['final_test_acc']:.4f} | "
                  f"{r['final_train_data_loss']:.4g} | {r['final_penalty']:.4g} | "
                  f"{r['largest_w'][-1]:.3g} ({max(r['largest_w']):.3g}) |"
                  for r in pen["runs"]]
        lines.append("")
    if pen["sweep"]:
        lines += ["The seed sweeps again with each λ (same seeds):", "",
                  penalty_table(pen["sweep"]), ""]
    return lines


def summary_markdown(summary):
    """``summary.md``'s text from the summary dict of :func:`run_demo`."""
    s = summary["settings"]
    lines = ["# neurosim demo: the chapter's two-moons classifier", "",
             f"- Data: {s['data']}", f"- Network: {s['network']}",
             f"- Initial weights: `presets.moons_net(seed={s['init_seed']})`, the same for "
             f"every η; shuffling seeded with {s.get('shuffle_seed', s['init_seed'])} too, "
             f"so these runs are sweep run {s['init_seed']} (replay one with "
             f"`neurosim demo --seed S`)", f"- Loss: {s['loss']}; {s['method']}", "",
             "## The book's runs", "", runs_table(summary["runs"]), ""]
    if summary["sweep"] is not None:
        n = len(s["sweep_seeds"])
        lines += ["## Seed sweep", "",
                  f"The same runs from {n} initialisations (seeds "
                  f"{min(s['sweep_seeds'])}–{max(s['sweep_seeds'])}; each seed sets the "
                  "initial weights and the shuffling).", "",
                  sweep_table(summary["sweep"]), ""]
        lines += _late_jump_markdown(summary.get("late_jump"), s)
    lines += _penalty_markdown(summary.get("penalty"))
    lines += [f"Wall time {summary.get('wall_time_s', float('nan')):.1f} s "
              f"(training and sweep {summary['train_and_sweep_time_s']:.1f} s), "
              "JIT compilation included.", ""]
    if summary["figures"]:
        lines += ["## Figures", ""]
        lines += [f"![{f}]({f})" for f in summary["figures"]]
        lines.append("")
    return "\n".join(lines)
