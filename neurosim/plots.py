"""Plots of the chapter's figures (Figs 14-5, 14-22, 14-28 to 14-38).

Every function draws into the Axes ``ax`` it is given and returns it; with ``ax=None`` it
makes a new figure with :func:`matplotlib.pyplot.subplots` (so it shows up in a notebook).
No function reads or changes the "current" axes, rcParams or any other global state, and
everything works headless under the Agg backend. matplotlib is imported inside the
functions, so ``import neurosim`` never pulls it in.

=======================  ===========================================================
:func:`plot_data`        the training (and test) points, coloured by label (14-28)
:func:`plot_boundary`    decision boundary over a grid, with the points (14-30, 33, 36)
:func:`plot_accuracy`    train and test accuracy per epoch (14-31, 14-34, 14-37)
:func:`plot_loss`        train and test loss per epoch (14-31, 14-34, 14-37)
:func:`plot_weights`     every weight per epoch, the most-moved highlighted (14-32, 35, 38)
:func:`plot_network`     the network with each neuron's output and delta and each
                         edge's weight written on it (14-5, 14-6, 14-22, 14-29)
:func:`plot_error_curve` an error curve with its tangent (14-9, 14-10)
:func:`plot_sweep`       a seed sweep's accuracy distribution per epoch
=======================  ===========================================================
"""
from __future__ import annotations

import numpy as np

from . import ops
from .checks import check_int
from .curves import ErrorCurve
from .inputs import as_inputs, as_targets, check_net

#: Colours of class 0 and class 1 (points), and their light versions (regions).
CLASS_COLORS = ("#1f77b4", "#ff7f0e")
REGION_COLORS = ("#c6dbef", "#fdd0a2")

__all__ = ["plot_data", "plot_boundary", "plot_accuracy", "plot_loss", "plot_weights",
           "plot_network", "plot_error_curve", "plot_sweep"]


# -- helpers -----------------------------------------------------------------------------
def _new_axes(ax, figsize):
    """``ax`` itself, or a fresh Axes on a new figure of ``figsize``."""
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    from matplotlib.axes import Axes
    if not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _points(X, y, what="X"):
    try:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{what} and its labels must be numeric") from None
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{what} must have shape (n_samples, 2), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"{what} has {len(X)} points but {len(y)} labels")
    if len(X) == 0 or not np.all(np.isfinite(X)):
        raise ValueError(f"{what} must be non-empty and finite")
    return X, y


def _scatter(ax, X, y, hollow=False, size=14, tag=""):
    for c in (0, 1):
        m = y == c
        if not np.any(m):
            continue
        col = CLASS_COLORS[c]
        kw = (dict(facecolors="none", edgecolors=col, linewidths=0.8) if hollow
              else dict(color=col, edgecolors="white", linewidths=0.3))
        ax.scatter(X[m, 0], X[m, 1], s=size, label=f"{tag}class {c}", zorder=3, **kw)


def _check_history(history, need_test=False):
    for attr in ("train_acc", "train_loss", "weights", "edge_names"):
        if not hasattr(history, attr):
            raise ValueError(f"expected a neurosim History, got {type(history).__name__}")
    if need_test and history.test_acc is None:
        raise ValueError("this history has no test set")
    return history


# -- data and decision boundary ----------------------------------------------------------
def plot_data(X, y, ax=None, *, X_test=None, y_test=None, title="Training data"):
    """The data points coloured by label (Fig 14-28).

    Parameters
    ----------
    X : array_like (n_samples, 2)
    y : array_like (n_samples,)
        Labels 0 or 1.
    ax : matplotlib Axes, optional
    X_test, y_test : array_like, optional
        Drawn as hollow markers.
    title : str

    Returns
    -------
    matplotlib Axes
    """
    X, y = _points(X, y)
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    ax = _new_axes(ax, (5, 4.5))
    _scatter(ax, X, y, tag="train " if X_test is not None else "")
    if X_test is not None:
        Xt, yt = _points(X_test, y_test, "X_test")
        _scatter(ax, Xt, yt, hollow=True, tag="test ")
    ax.set_xlabel("x (feature 1)")
    ax.set_ylabel("y (feature 2)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    ax.set_title(title)
    return ax


def plot_boundary(net, X, y, ax=None, *, step=0.01, margin=0.5, threshold=0.5,
                  title="Decision boundary"):
    """The network's class regions over a grid around the points, and the points.

    As the book's Figs 14-30, 14-33 and 14-36 were made: a grid of ``step`` over the
    bounding box of ``X`` (usually the test set) widened by ``margin``; each grid point is
    class 1 where the output is >= ``threshold`` (several outputs: the argmax).

    Parameters
    ----------
    net : Network
        Two inputs.
    X : array_like (n_samples, 2)
    y : array_like (n_samples,)
        Labels 0 or 1, for the colours of the points.
    ax : matplotlib Axes, optional
    step : float
        Grid spacing, > 0 (at most 4,000,000 grid points).
    margin : float
        Added around the points' bounding box, >= 0.
    threshold : float
        In (0, 1).
    title : str

    Returns
    -------
    matplotlib Axes
        With one filled contour set (the regions; ``ax.collections``) and, where the output
        crosses the threshold, a contour line at it.
    """
    check_net(net)
    X, y = _points(X, y)
    if net.n_inputs != 2:
        raise ValueError(f"plot_boundary needs a network with 2 inputs, not {net.n_inputs}")
    for val, nm in ((step, "step"), (margin, "margin"), (threshold, "threshold")):
        if not isinstance(val, (int, float, np.floating, np.integer)) or not np.isfinite(val):
            raise ValueError(f"{nm} must be a finite number, got {val!r}")
    if step <= 0 or margin < 0 or not 0 < threshold < 1:
        raise ValueError(f"need step > 0, margin >= 0 and 0 < threshold < 1; got "
                         f"step={step}, margin={margin}, threshold={threshold}")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.arange(lo[0], hi[0] + step / 2, step), np.arange(lo[1], hi[1] + step / 2, step)
    if gx.size * gy.size > 4_000_000:
        raise ValueError(f"grid of {gx.size} x {gy.size} points is too fine; raise step")
    xx, yy = np.meshgrid(gx, gy)
    P = ops.predict_proba(net, np.column_stack([xx.ravel(), yy.ravel()]))
    if P.shape[1] == 1:
        p = P[:, 0].reshape(xx.shape)
        cls = np.where(np.isfinite(p), (p >= threshold).astype(float), np.nan)
    else:
        p = None
        cls = np.argmax(P, axis=1).astype(float).reshape(xx.shape)
    ax = _new_axes(ax, (5, 4.5))
    ax.contourf(xx, yy, cls, levels=[-0.5, 0.5, 1.5], colors=REGION_COLORS, zorder=0)
    if p is not None and np.nanmin(p) < threshold < np.nanmax(p):
        ax.contour(xx, yy, p, levels=[threshold], colors="k", linewidths=1.0, zorder=1)
    _scatter(ax, X, y, size=10)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel("x (feature 1)")
    ax.set_ylabel("y (feature 2)")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    ax.set_title(title)
    return ax


# -- training curves ---------------------------------------------------------------------
def _curves(history, ax, kind, title):
    _check_history(history)
    ax = _new_axes(ax, (5.5, 3.5))
    train = getattr(history, f"train_{kind}")
    test = getattr(history, f"test_{kind}")
    ep = np.arange(len(train))
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.plot(ep, train, label="train", color="C0", lw=1.5)
    if test is not None:
        ax.plot(ep, test, label="test", color="C3", lw=1.5, ls="--")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy" if kind == "acc" else "loss (mean error per sample)")
    ax.set_xlim(0, max(1, len(ep) - 1))
    ax.grid(alpha=0.3)
    ax.set_title(title)
    return ax, test


def plot_accuracy(history, ax=None, *, title="Accuracy"):
    """Train and test accuracy per epoch (Figs 14-31, 14-34, 14-37).

    Epoch 0 is before training. If test accuracy reaches 100%, a dotted vertical line
    marks the first epoch where it does.

    Parameters
    ----------
    history : History
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes
        Lines labelled ``train`` and ``test`` (and the marker line, if any).
    """
    ax, test = _curves(history, ax, "acc", title)
    if test is not None:
        first = history.first_epoch_at(1.0)
        if first is not None:
            ax.axvline(first, color="0.4", ls=":", lw=1,
                       label=f"test 100% at epoch {first}")
    lo = np.nanmin(np.r_[history.train_acc, test if test is not None else []])
    ax.set_ylim(min(0.4, lo - 0.02) if np.isfinite(lo) else 0, 1.02)
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_loss(history, ax=None, *, title="Loss", log=False):
    """Train and test loss (mean error per sample) per epoch (Figs 14-31, 14-34, 14-37).

    Parameters
    ----------
    history : History
    ax : matplotlib Axes, optional
    title : str
    log : bool
        Logarithmic loss axis.

    Returns
    -------
    matplotlib Axes
    """
    ax, _ = _curves(history, ax, "loss", title)
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_weights(history, ax=None, *, highlight=6, title="Weights", legend=True):
    """Every weight per epoch, labelled by edge name (Figs 14-32, 14-35, 14-38).

    All curves are drawn (one Line2D per edge, its label the edge name); the
    ``highlight`` weights that moved most (largest max - min over the run) are drawn in
    colour and listed first in the legend, the others thin and grey.

    Parameters
    ----------
    history : History
    ax : matplotlib Axes, optional
    highlight : int
        How many of the most-moved weights to highlight, >= 0.
    title : str
    legend : bool
        Draw a legend beside the axes (edges sorted by how far they moved; with more than
        48 edges only the highlighted ones are listed).

    Returns
    -------
    matplotlib Axes
        With exactly ``n_edges`` lines, highlighted ones first.
    """
    _check_history(history)
    highlight = check_int(highlight, "highlight", 0)
    W = np.asarray(history.weights, dtype=float)
    names = list(history.edge_names)
    with np.errstate(invalid="ignore"):
        finite = np.where(np.isfinite(W), W, np.nan)
        moved = np.nanmax(finite, axis=0) - np.nanmin(finite, axis=0)
    moved = np.where(np.isfinite(moved), moved, np.inf)      # NaN/inf weights moved most
    order = np.argsort(-moved, kind="stable")
    top = order[:highlight]
    ax = _new_axes(ax, (7.5, 4.5))
    ep = np.arange(W.shape[0])
    import matplotlib as mpl
    cmap = mpl.colormaps["tab10"]
    handles = []
    for rank, k in enumerate(order):
        hot = rank < len(top)
        ln, = ax.plot(ep, W[:, k], lw=2.0 if hot else 0.8,
                      color=cmap(rank % 10) if hot else "0.65", alpha=1.0 if hot else 0.8,
                      zorder=3 if hot else 2,
                      label=f"{names[k]} (moved {moved[k]:.2g})" if hot else names[k])
        handles.append(ln)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("weight value")
    ax.set_xlim(0, max(1, W.shape[0] - 1))
    ax.axhline(0, color="k", lw=0.5, zorder=1)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    if legend:
        shown = handles if len(handles) <= 48 else handles[:len(top)]
        ncol = 1 if len(shown) <= 16 else 2
        ax.legend(handles=shown, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                  ncol=ncol, frameon=False, handlelength=1.5, columnspacing=0.8,
                  labelspacing=0.25, title="edge (most moved first)", title_fontsize=7)
    return ax


# -- the network drawing ----------------------------------------------------------------
def _layout(net):
    """(column, row) of every drawn neuron; the bias neuron is not drawn."""
    level = np.asarray(net.level)
    out_level = level.max(initial=0)
    col = level.copy()
    col[net.output_idx] = out_level                 # outputs in the last column
    pos = {}
    for c in np.unique(col):
        members = [j for j in np.flatnonzero(col == c) if j != net.bias]
        for r, j in enumerate(members):
            pos[int(j)] = (float(c), (len(members) - 1) / 2.0 - r)
    return pos


def plot_network(net, ax=None, *, x=None, y=None, outputs=True, deltas=True, weights=True,
                 digits=2, title=None):
    """The network, columns by topological level, with numbers written on it.

    Each neuron is a circle with its name; beside it its output (``out``), its delta
    (``δ``, i.e. dE/d output) and, if it has one, its bias weight (``bias``); each edge
    carries its weight (Figs 14-5, 14-6, 14-22, 14-29). Edges are blue for positive and
    red for negative weights, thicker for larger ones. The bias neuron is not drawn: its
    edges' weights are the ``bias`` lines.

    Parameters
    ----------
    net : Network
    ax : matplotlib Axes, optional
    x : array_like (n_inputs,), optional
        If given, run this sample forward first (sets the outputs shown).
    y : array_like, optional
        If given (with ``x``), run backward too (sets the deltas shown). Weights never
        change, and bad arguments raise ValueError before the passes change ``net``.
    outputs, deltas, weights : bool
        Which numbers to write. With ``x`` but no ``y`` no deltas are written: the
        stored ones belong to an earlier pass, not to the outputs drawn.
    digits : int
        Decimals shown, 0..6.
    title : str, optional

    Returns
    -------
    matplotlib Axes
        One circle patch per drawn neuron, one line per edge not from the bias neuron.
    """
    check_net(net)
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) \
            or not 0 <= digits <= 6:
        raise ValueError(f"digits must be an integer in 0..6, got {digits!r}")
    if y is not None and x is None:
        raise ValueError("give x with y: the deltas need a forward pass of that sample")
    if x is not None:                     # check the sample before the passes change net
        if as_inputs(net, x, "x").shape[0] != 1:
            raise ValueError("x must be one sample")
        if y is not None:
            as_targets(net, y, 1, "y")
    from matplotlib.patches import Circle
    pos = _layout(net)
    n_cols = int(max(c for c, _ in pos.values())) + 1
    n_rows = max(sum(1 for c, _ in pos.values() if c == k) for k in range(n_cols))
    ax = _new_axes(ax, (2.6 * n_cols + 0.5, 1.45 * n_rows + 1.0))
    if x is not None:
        ops.forward(net, x)
        if y is not None:
            ops.backward(net, y)
        else:
            deltas = False
    sx, sy = 3.0, 1.6                                 # data units per column / row
    P = {j: (c * sx, r * sy) for j, (c, r) in pos.items()}
    names = net.neuron_names

    def fmt(v):
        return f"{round(float(v), digits) + 0.0:+.{digits}f}"      # no "-0.00"
    rad = 0.36
    bias_w = {}
    for k, (s, d) in enumerate(zip(net.src, net.dst)):
        if s == net.bias:
            bias_w[int(d)] = float(net.weights[k])
    w_all = np.asarray(net.weights, dtype=float)
    wmax = np.nanmax(np.abs(w_all[np.isfinite(w_all)]), initial=0.0) or 1.0
    # edges; each weight is written 3/4 of the way along its edge (where the edges into
    # one neuron are still apart), or at the next free spot along it if that is taken
    placed = []                                       # (x, y, half-width) of labels

    def free(cx, cy, hw):
        if any(abs(cx - px) < hw + ph and abs(cy - py) < 0.3 for px, py, ph in placed):
            return False
        return all(abs(cx - nx) > rad + hw or abs(cy - ny) > rad + 0.5
                   for nx, ny in P.values())

    for j in sorted(P):
        for k in net.incoming(names[j]):
            s = int(net.src[k])
            if s == net.bias:
                continue
            (x0, y0), (x1, y1) = P[s], P[j]
            w = float(net.weights[k])
            lw = 0.6 + 2.4 * (abs(w) / wmax if np.isfinite(w) else 1.0)
            ax.plot([x0, x1], [y0, y1], color="#2166ac" if w >= 0 else "#b2182b", lw=lw,
                    alpha=0.55, zorder=1, solid_capstyle="butt")
            if weights:
                text = f"{net.edge_names[k]} {fmt(w)}"
                hw = 0.036 * len(text) + 0.06
                spots = [(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
                         for t in (0.75, 0.62, 0.86, 0.5, 0.38, 0.27)]
                cx, cy = next((c for c in spots if free(*c, hw)), spots[0])
                placed.append((cx, cy, hw))
                ax.text(cx, cy, text, fontsize=6.5, ha="center", va="center", zorder=4,
                        bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="0.8",
                                  lw=0.4, alpha=0.9))
    # neurons
    role_color = {"input": "#e5f5e0", "hidden": "#f0f0f0", "output": "#fee0d2"}
    for j, (px, py) in P.items():
        ax.add_patch(Circle((px, py), rad, fc=role_color.get(net.role(names[j]), "w"),
                            ec="k", lw=1.0, zorder=5))
        ax.text(px, py, names[j], ha="center", va="center", fontsize=10,
                fontweight="bold", zorder=6)
        lines = []
        if outputs:
            lines.append(f"out {fmt(net.outs[j])}")
        if deltas and net.role(names[j]) != "input":
            lines.append(f"δ {fmt(net.deltas[j])}")
        if weights and j in bias_w:
            lines.append(f"bias {fmt(bias_w[j])}")
        if lines:
            ax.text(px, py - rad - 0.06, "\n".join(lines), ha="center", va="top",
                    fontsize=7, zorder=6, linespacing=1.1,
                    bbox=dict(boxstyle="round,pad=0.15", fc="#fffbe6", ec="0.7", lw=0.4))
    ys = [p[1] for p in P.values()]
    ax.set_xlim(-0.9, (n_cols - 1) * sx + 0.9)
    ax.set_ylim(min(ys) - rad - 0.75, max(ys) + rad + 0.25)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title is None:
        title = (f"{net.n_inputs}-" + "-".join(
            str(sum(1 for c, _ in pos.values() if c == k)) for k in range(1, n_cols))
            + f" network, {net.n_edges} edges")
    ax.set_title(title)
    return ax


def plot_error_curve(curve, ax=None, step=None, *, tangent=True, legend=True):
    """Draw an :class:`ErrorCurve`: the curve, the current point, the tangent whose slope
    is δ (or the weight's gradient), and for ``step`` the predicted vs actual error.

    Parameters
    ----------
    curve : ErrorCurve
    ax : matplotlib Axes, optional
        Drawn into a new figure when omitted.
    step : float or sequence of float, optional
        Move the value by this much: the tangent's prediction (hollow marker) and the
        real error (filled marker) are marked and labelled.
    tangent : bool
        Draw the tangent line.
    legend : bool

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(curve, ErrorCurve):
        raise ValueError(f"curve must be an ErrorCurve, got {type(curve).__name__}")
    if step is None:
        steps = []
    else:
        steps = [step] if np.ndim(step) == 0 else list(step)
        try:
            steps = [float(s) for s in steps]
        except (TypeError, ValueError):
            raise ValueError(f"step must be a number or numbers, got {step!r}") from None
        if not all(np.isfinite(steps)):
            raise ValueError("steps must be finite")
    ax = _new_axes(ax, (6.4, 4.4))
    v, E = curve.values, curve.errors
    ends = [curve.at + s for s in steps]
    if ends and (min(ends) < v.min() or max(ends) > v.max()):   # widen to show the steps
        v = np.linspace(min(v.min(), *ends), max(v.max(), *ends), max(len(v), 201))
        E = curve.errors_at(v)
    ok = np.isfinite(E)
    ax.plot(v[ok], E[ok], color="black", lw=2, label="error", zorder=2)
    lo, hi = (float(E[ok].min()), float(E[ok].max())) if ok.any() else (0.0, 1.0)
    pad = 0.08 * (hi - lo if hi > lo else 1.0)
    sym = "δ" if curve.kind == "output" else "∂E/∂w"
    if tangent:
        xs = np.array([v.min(), v.max()])
        ax.plot(xs, curve.tangent(xs), color="tab:green", lw=1.5,
                label=f"tangent, slope {sym} = {curve.slope + 0.0:.4g}", zorder=3)
    ax.plot([curve.at], [curve.error], "o", color="tab:orange", ms=9, zorder=5,
            label=f"now: {curve.label} = {curve.at:.4g}, E = {curve.error:.4g}")
    for k, s in enumerate(steps):
        p, a = curve.predicted(s), curve.actual(s)
        x1 = curve.at + s
        ax.plot([x1, x1], [p, a], ls=":", color="tab:red", lw=1.2, zorder=4)
        ax.plot([x1], [p], "o", mfc="white", mec="tab:green", mew=2, ms=8, zorder=6,
                label=f"step {s:+.3g}: predicted E = {p:.3g} (change {p - curve.error:+.3g})")
        ax.plot([x1], [a], "s", color="tab:red", ms=7, zorder=6,
                label=f"step {s:+.3g}: actual E = {a:.3g} (change {a - curve.error:+.3g})")
        ax.annotate(f"{s:+.3g}", xy=(x1, a), xytext=(6, 6), textcoords="offset points",
                    fontsize=8, color="tab:red")
        lo, hi = min(lo, p, a), max(hi, p, a)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(v.min() - 0.02 * np.ptp(v), v.max() + 0.02 * np.ptp(v))
    ax.set_xlabel(curve.label + (" (output)" if curve.kind == "output" else " (weight)"))
    ax.set_ylabel("error E of this sample")
    ax.set_title(f"Error as {curve.label} changes, everything else frozen")
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=8, loc="best")
    return ax


def plot_sweep(df, ax=None, acc=1.0, which="test", band=(10, 90)):
    """Plot a sweep: median accuracy with a percentile band, and the fraction of runs at
    ``acc``, per epoch, one colour per (topology, lr).

    Parameters
    ----------
    df : DataFrame
        The result of :func:`neurosim.sweep`.
    ax : matplotlib Axes or pair of Axes, optional
        Two Axes: the accuracy band goes on the first, the fraction on the second. One
        Axes: the accuracy band only. None: a new figure with two Axes.
    acc, which, band
        As for :func:`neurosim.sweeps.summarize`.

    Returns
    -------
    Axes or ndarray of two Axes
        What was drawn on.
    """
    from .sweeps import summarize
    s = summarize(df, acc=acc, which=which, band=band)
    import matplotlib
    if ax is None:
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object))
        if axes.ndim != 1 or len(axes) not in (1, 2) or not all(
                hasattr(a, "fill_between") for a in axes):
            raise ValueError("ax must be a matplotlib Axes or a pair of them")
    multi = s["topology"].nunique() > 1
    n_runs = int(s["n_runs"].max())
    keys = list(dict.fromkeys(zip(s["topology"], s["lr"])))
    cmap = matplotlib.colormaps["tab10" if len(keys) <= 10 else "viridis"]
    for k, (topo, lr) in enumerate(keys):
        g = s[(s["topology"] == topo) & (s["lr"] == lr)]
        color = cmap(k if len(keys) <= 10 else k / (len(keys) - 1))
        label = f"{topo} η={lr:g}" if multi else f"η={lr:g}"
        a0 = axes[0]
        a0.plot(g["epoch"], g["median_acc"], color=color, lw=2, label=label)
        a0.fill_between(g["epoch"], g["lo_acc"], g["hi_acc"], color=color, alpha=0.2, lw=0)
        if len(axes) > 1:
            axes[1].plot(g["epoch"], g["frac_reached"], color=color, lw=2, label=label,
                         drawstyle="steps-post")
    from matplotlib.ticker import MaxNLocator
    for a in axes:
        a.xaxis.set_major_locator(MaxNLocator(integer=True))      # epochs are whole
    lo, hi = band
    axes[0].set(xlabel="epoch", ylabel=f"{which} accuracy",
                title=f"median {which} accuracy, {lo:g}th-{hi:g}th percentile band "
                      f"({n_runs} seeds)")
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(loc="lower right")
    if len(axes) > 1:
        axes[1].set(xlabel="epoch", ylabel="fraction of runs",
                    title=f"fraction of runs at {which} accuracy ≥ {acc:.0%}")
        axes[1].set_ylim(-0.02, 1.02)
        axes[1].legend(loc="upper left")
    single = ax is not None and not isinstance(ax, (list, tuple, np.ndarray))
    return axes[0] if single else axes
