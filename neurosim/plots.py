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

Files (written whole or not at all, with the umask's mode; the format follows the
extension):

=========================  =========================================================
:func:`draw_network`       :func:`plot_network` on a figure of its own, to PNG/SVG/PDF
:func:`save_figure`        any figure to PNG/SVG/PDF
:func:`animate_training`   a GIF (or MP4) of a training run, epoch by epoch: boundary,
                           curves and the network with its weights
=========================  =========================================================
"""
from __future__ import annotations

import weakref

import numpy as np

from . import ops
from .checks import check_bool, check_int
from .curves import ErrorCurve
from .inputs import as_inputs, as_targets, check_net

#: Colours of class 0 and class 1 (points), and their light versions (regions).
CLASS_COLORS = ("#1f77b4", "#ff7f0e")
REGION_COLORS = ("#c6dbef", "#fdd0a2")

__all__ = ["plot_data", "plot_boundary", "plot_accuracy", "plot_loss", "plot_weights",
           "plot_largest_weight",
           "plot_network", "plot_error_curve", "plot_sweep", "draw_network", "save_figure",
           "animate_training"]


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
    colour and listed in the legend with how far they moved, the others thin and grey
    under one legend entry.

    Parameters
    ----------
    history : History
    ax : matplotlib Axes, optional
    highlight : int
        How many of the most-moved weights to highlight, >= 0.
    title : str
    legend : bool
        Draw a legend beside the axes: the highlighted edges, most moved first, and
        one entry for the grey rest.

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
        from matplotlib.lines import Line2D
        shown = handles[:len(top)]
        rest = len(handles) - len(top)
        if rest:
            shown = shown + [Line2D([], [], lw=0.8, color="0.65",
                                    label=f"the other {rest} edges" if len(top)
                                    else f"all {rest} edges")]
        ax.legend(handles=shown, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                  frameon=False, handlelength=1.5, labelspacing=0.25,
                  title="edge (moved = its weight's\nmax − min over the run)",
                  title_fontsize=7, alignment="left")
    return ax


def plot_largest_weight(histories, net, ax=None, *, title="Largest weight"):
    """The largest |w| of the non-bias weights (those an L2 penalty acts on) per epoch,
    one line per History -- to see a penalty keep the weights small.

    Parameters
    ----------
    histories : dict or History
        label -> History (a float label is taken as λ and drawn as ``λ = 0.01``), or one
        History; each with per-epoch weights of ``net``'s edges.
    net : Network
        The trained topology: says which edges are biases.
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes
        With one line per History, in the order given.
    """
    from .graph import Network
    if not isinstance(net, Network):
        raise ValueError(f"net must be a Network, got {type(net).__name__}")
    if not isinstance(histories, dict):
        histories = {"": histories}
    if not histories:
        raise ValueError("histories must not be empty")
    keep = net.src != net.bias
    if not keep.any():
        raise ValueError("net has no non-bias weights")
    ax = _new_axes(ax, (6.5, 4))
    for label, h in histories.items():
        _check_history(h)
        W = np.asarray(h.weights, dtype=float)
        if W.ndim != 2 or W.shape[1] != net.n_edges:
            raise ValueError(f"history {label!r} has weights of shape {W.shape}, not "
                             f"(epochs, {net.n_edges}) for this net")
        if isinstance(label, (float, int, np.floating)) and not isinstance(label, bool):
            label = f"λ = {label:g}"
        ax.plot(np.arange(W.shape[0]), np.abs(W[:, keep]).max(axis=1), lw=1.8,
                label=label or None)
    import matplotlib as mpl
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("largest |w| (non-bias weights)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    if any(lb for lb in ax.get_legend_handles_labels()[1]):
        ax.legend(fontsize=8)
    return ax


# -- the network drawing ----------------------------------------------------------------
#: Edge colours: positive and negative weights.
WEIGHT_COLORS = ("#2166ac", "#b2182b")
#: Fill colours of the neurons by role.
ROLE_COLORS = {"input": "#e5f5e0", "hidden": "#f0f0f0", "output": "#fee0d2"}

#: What :func:`plot_network` drew on an Axes, for :func:`_reweigh_network`.
_NETWORK_ARTISTS = weakref.WeakKeyDictionary()


def _layout(net):
    """(column, row) of every drawn neuron (the bias neuron is not drawn), and whether the
    net is layered.

    A neuron's column is its longest path from the inputs (``net.level``); the outputs
    share the last column. The net is *layered* when every edge not from the bias joins
    neighbouring columns; otherwise (a DAG with skip edges) neurons of a column are
    ordered by the mean row of their sources, so edges cross less.
    """
    level = np.asarray(net.level)
    col = level.copy()
    col[net.output_idx] = level.max(initial=0)        # outputs in the last column
    edges = [(int(s), int(d)) for s, d in zip(net.src, net.dst) if s != net.bias]
    layered = all(col[d] == col[s] + 1 for s, d in edges)
    pos = {}
    for c in np.unique(col):
        members = [int(j) for j in np.flatnonzero(col == c) if j != net.bias]
        if not layered and c > 0:
            def bary(j):
                rows = [pos[s][1] for s, d in edges if d == j and s in pos]
                return -np.mean(rows) if rows else 0.0
            members.sort(key=bary)                       # stable: ties keep their order
        for r, j in enumerate(members):
            pos[j] = (float(c), (len(members) - 1) / 2.0 - r)
    return pos, layered


#: Data units per column and per row of a network drawing, and a neuron's radius.
_SX, _SY, _RAD = 3.0, 1.6, 0.36


def _network_figsize(net):
    """A figure size (inches) that fits :func:`plot_network`'s drawing of ``net``,
    curved skip edges included."""
    pos, _ = _layout(net)
    cols = [c for c, _ in pos.values()]
    n_cols = int(max(cols)) + 1
    P = {j: (c * _SX, r * _SY) for j, (c, r) in pos.items()}
    ys = np.concatenate([[y for _, y in P.values()]]
                        + [r[3][:, 1] for r in _routes(net, P, _RAD, _SY)])
    rows = (ys.max() - ys.min()) / _SY + 1
    return (2.6 * n_cols + 0.5, 1.45 * rows + 1.8)


def _routes(net, P, rad, sy):
    """(edge, src, dst, points, bow) of every edge not from the bias: straight, or
    curved around the neurons it would pass over."""
    names = net.neuron_names
    routes = []
    for j in sorted(P):
        for k in net.incoming(names[j]):
            s = int(net.src[k])
            if s == net.bias:
                continue
            lo, hi = sorted((P[s][0], P[j][0]))
            if lo == hi:                               # within a column (output to output)
                ylo, yhi = sorted((P[s][1], P[j][1]))
                between = [P[i] for i in P if i not in (s, j) and P[i][0] == lo
                           and ylo < P[i][1] < yhi]
            else:
                between = [P[i] for i in P if lo < P[i][0] < hi]
            pts, bow = _route(P[s], P[j], between, rad + 0.18, sy,
                              [r[3] for r in routes if r[4] != 0.0])
            routes.append((k, s, j, pts, bow))
    return routes


def _bezier(p0, p1, bow, n=41):
    """Points of the quadratic Bezier curve from p0 to p1 whose middle sits ``bow`` data
    units to the left of the straight line (seen from p0); bow = 0: the straight line."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    t = np.linspace(0.0, 1.0, n)[:, None]
    d = p1 - p0
    normal = np.array([-d[1], d[0]]) / (np.hypot(*d) or 1.0)
    c = (p0 + p1) / 2 + 2.0 * bow * normal                 # apex = midpoint + bow * normal
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t ** 2 * p1


def _route(p0, p1, others, clear, step, avoid=()):
    """A curve from p0 to p1 that keeps ``clear`` away from every point of ``others``
    (the neurons between its ends, with the numbers written under them) and from the
    middles of the curves in ``avoid``: straight if it can, else bowed out ever further,
    on the side away from the drawing's middle first."""
    others = np.asarray(others, float).reshape(-1, 2)

    def clear_of_neurons(pts):
        inner = pts[2:-2]
        if not len(others):
            return True
        dx = inner[:, None, 0] - others[None, :, 0]
        dy = inner[:, None, 1] - others[None, :, 1]
        dy = np.where(dy > 0, dy, np.minimum(dy + 0.55, 0.0))      # 0 beside the numbers
        return bool(np.all(np.hypot(dx, dy) > clear))

    def apart(pts):                      # crossing another curve is fine, running
        mid = pts[4:-4]                  # along it is not
        return all(np.mean(np.hypot(mid[:, None, 0] - q[None, :, 0],
                                    mid[:, None, 1] - q[None, :, 1]).min(axis=1) < 0.3)
                   <= 0.15 for q in avoid)

    straight = _bezier(p0, p1, 0.0)
    if clear_of_neurons(straight):
        return straight, 0.0
    up = 1.0 if (p0[1] + p1[1]) / 2 >= 0 else -1.0
    flip = 1.0 if p1[0] >= p0[0] else -1.0                # "left of the line" is up going right
    first = None
    for k in range(1, 12):
        for sign in (up, -up):
            bow = sign * flip * step * (0.45 + 0.3 * k)
            pts = _bezier(p0, p1, bow)
            if clear_of_neurons(pts):
                if apart(pts):
                    return pts, bow
                if first is None:
                    first = (pts, bow)
        if first is not None and k >= 4:   # keeping apart from other curves is worth a
            return first                  # little more bow, not a loop round the page
    if first is not None:
        return first
    bow = up * flip * step * 4.0
    return _bezier(p0, p1, bow), bow


def _weight_legend(ax, wmax, n_unwritten, fontsize=7):
    """Legend: what an edge's colour and width mean, and the neurons' colours."""
    from matplotlib.lines import Line2D

    def lw(a):
        return 0.6 + 2.4 * a
    handles, labels = [], []
    for v in (1.0, 0.5, -0.5, -1.0):
        handles.append(Line2D([], [], color=WEIGHT_COLORS[v < 0], lw=lw(abs(v)), alpha=0.7))
        labels.append(f"w = {v * wmax:+.2g}")
    for role, fc in ROLE_COLORS.items():
        handles.append(Line2D([], [], ls="", marker="o", ms=9, mfc=fc, mec="k", mew=0.8))
        labels.append(f"{role} neuron")
    title = "edges: blue w > 0, red w < 0, width ∝ |w|"
    if n_unwritten:
        title += (f"\n{n_unwritten} weights by colour and width only "
                  "(written on their edges they would overlap)")
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4,
              fontsize=fontsize, title=title, title_fontsize=fontsize, frameon=False,
              handlelength=2.2, columnspacing=1.2, borderaxespad=0.2)


def plot_network(net, ax=None, *, x=None, y=None, outputs=True, deltas=True, weights="auto",
                 digits=2, title=None, legend=True, weight_scale=None):
    """The network, columns by longest path from the inputs, with numbers written on it.

    Each neuron is a circle with its name; beside it its output (``out``), its delta
    (``δ``, i.e. dE/d output) and, if it has one, its bias weight (``bias``); each edge
    carries its weight (Figs 14-5, 14-6, 14-22, 14-29). Edges are blue for positive and
    red for negative weights, wider for larger ones, as the legend under the drawing says.
    The bias neuron is not drawn: its edges' weights are the ``bias`` lines.

    A neuron's column is its longest path from the inputs, the outputs share the last
    column. An edge that would pass over a neuron between its ends (a skip connection)
    is drawn as a curve around it.

    Parameters
    ----------
    net : Network
    ax : matplotlib Axes, optional
    x : array_like (n_inputs,), optional
        If given, run this sample forward first (sets the outputs shown).
    y : array_like, optional
        If given (with ``x``), run backward too (sets the deltas shown). Weights never
        change, and bad arguments raise ValueError before the passes change ``net``.
    outputs, deltas : bool
        Which numbers to write. With ``x`` but no ``y`` no deltas are written: the
        stored ones belong to an earlier pass, not to the outputs drawn.
    weights : bool or "auto"
        Write each weight along its edge (True), or not at all (False: neither edge nor
        bias weights). ``"auto"`` (default): write them if every label finds a place
        along its edge clear of the others, else show the edge weights only as colour and
        width (e.g. on a 2-8-8-1 net) and say so in the legend; biases are written
        either way.
    digits : int
        Decimals shown, 0..6.
    title : str, optional
        Default: ``"2-4-4-1 network, 37 edges"`` for a layered net, ``"DAG of 5
        neurons (2 in, 2 hidden, 1 out), 9 edges"`` for one with skip edges.
    legend : bool
        The legend of edge colours and widths and neuron colours, under the drawing.
    weight_scale : float, optional
        The |w| drawn at full width (default: the largest |w| of the net), e.g. one
        scale for every frame of an animation; larger weights are drawn at full width.

    Returns
    -------
    matplotlib Axes
        One circle patch per drawn neuron, one line per edge not from the bias neuron.
    """
    check_net(net)
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) \
            or not 0 <= digits <= 6:
        raise ValueError(f"digits must be an integer in 0..6, got {digits!r}")
    if not (weights == "auto" or isinstance(weights, (bool, np.bool_))):
        raise ValueError(f"weights must be True, False or 'auto', got {weights!r}")
    for val, nm in ((outputs, "outputs"), (deltas, "deltas"), (legend, "legend")):
        check_bool(val, nm)
    if y is not None and x is None:
        raise ValueError("give x with y: the deltas need a forward pass of that sample")
    if x is not None:                     # check the sample before the passes change net
        if as_inputs(net, x, "x").shape[0] != 1:
            raise ValueError("x must be one sample")
        if y is not None:
            as_targets(net, y, 1, "y")
    from matplotlib.patches import Circle
    pos, layered = _layout(net)
    n_cols = int(max(c for c, _ in pos.values())) + 1
    per_col = [sum(1 for c, _ in pos.values() if c == k) for k in range(n_cols)]
    ax = _new_axes(ax, _network_figsize(net))
    if x is not None:
        ops.forward(net, x)
        if y is not None:
            ops.backward(net, y)
        else:
            deltas = False
    sx, sy = _SX, _SY                                 # data units per column / row
    P = {j: (c * sx, r * sy) for j, (c, r) in pos.items()}
    names = net.neuron_names

    def fmt(v):
        return f"{round(float(v), digits) + 0.0:+.{digits}f}"      # no "-0.00"
    rad = _RAD
    bias_w, bias_k = {}, {}
    for k, (s, d) in enumerate(zip(net.src, net.dst)):
        if s == net.bias:
            bias_w[int(d)] = float(net.weights[k])
            bias_k[int(d)] = k
    w_all = np.asarray(net.weights, dtype=float)
    wmax = np.nanmax(np.abs(w_all[np.isfinite(w_all)]), initial=0.0) or 1.0
    if weight_scale is not None:
        if isinstance(weight_scale, bool) or not isinstance(
                weight_scale, (int, float, np.integer, np.floating)) \
                or not np.isfinite(weight_scale) or weight_scale <= 0:
            raise ValueError(f"weight_scale must be a number > 0, got {weight_scale!r}")
        wmax = float(weight_scale)
    routes = _routes(net, P, rad, sy)
    # each weight is written 3/4 of the way along its edge (where the edges into one
    # neuron are still apart), or at the next free spot along it if that is taken
    placed = []                                       # (x, y, half-width) of labels

    def free(cx, cy, hw):
        if any(abs(cx - px) < hw + ph and abs(cy - py) < 0.3 for px, py, ph in placed):
            return False
        return all(abs(cx - nx) > rad + hw or abs(cy - ny) > rad + 0.5
                   for nx, ny in P.values())

    spots_t = (0.75, 0.62, 0.86, 0.5, 0.38, 0.68, 0.56, 0.8, 0.44, 0.27, 0.32, 0.2)
    labels = []                                       # (gap, spot, text, found)
    if weights:
        for k, s, j, pts, bow in routes:
            text = f"{net.edge_names[k]} {fmt(net.weights[k])}"
            hw = 0.036 * len(text) + 0.06
            n = len(pts) - 1
            spots = [tuple(pts[int(round(t * n))]) for t in spots_t]
            spot = next((c for c in spots if free(*c, hw)), None)
            placed.append((*(spot or spots[0]), hw))
            labels.append(((pos[s][0], pos[j][0]), spot or spots[0], text, spot is not None,
                           k))
    # "auto": the weights between two columns are written if all of them found a place
    crowded = {g for g, _, _, found, _ in labels if not found} if weights == "auto" \
        else set()
    hidden = sum(1 for g, *_ in labels if g in crowded)
    artists = {"lines": {}, "labels": {}, "bias": {}, "wmax": wmax, "fmt": fmt,
               "names": net.edge_names}
    for k, s, j, pts, bow in routes:
        w = float(net.weights[k])
        artists["lines"][k], = ax.plot(pts[:, 0], pts[:, 1], color=_edge_color(w),
                                       lw=_edge_width(w, wmax), alpha=0.55, zorder=1,
                                       solid_capstyle="butt")
    for g, (cx, cy), text, _, k in labels:
        if g not in crowded:
            artists["labels"][k] = ax.text(
                cx, cy, text, fontsize=6.5, ha="center", va="center", zorder=4,
                bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="0.8", lw=0.4,
                          alpha=0.9))
    # neurons
    for j, (px, py) in P.items():
        ax.add_patch(Circle((px, py), rad, fc=ROLE_COLORS.get(net.role(names[j]), "w"),
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
            box = ax.text(px, py - rad - 0.06, "\n".join(lines), ha="center", va="top",
                          fontsize=7, zorder=6, linespacing=1.1,
                          bbox=dict(boxstyle="round,pad=0.15", fc="#fffbe6", ec="0.7",
                                    lw=0.4))
            if weights and j in bias_w and not outputs and not deltas:
                artists["bias"][bias_k[j]] = box
    ys = np.concatenate([[p[1] for p in P.values()]] + [r[3][:, 1] for r in routes])
    ax.set_xlim(-0.9, (n_cols - 1) * sx + 0.9)
    ax.set_ylim(min(ys.min() - 0.1, min(p[1] for p in P.values()) - rad - 0.75),
                max(ys.max() + 0.3, max(p[1] for p in P.values()) + rad + 0.25))
    ax.set_aspect("equal")
    ax.set_axis_off()
    if legend:
        _weight_legend(ax, wmax, hidden)
    if title is None:
        if layered:
            title = (f"{'-'.join(str(c) for c in per_col)} network, {net.n_edges} edges")
        else:
            roles = [net.role(names[j]) for j in P]
            title = (f"DAG of {len(P)} neurons ({roles.count('input')} in, "
                     f"{roles.count('hidden')} hidden, {roles.count('output')} out), "
                     f"{net.n_edges} edges")
    ax.set_title(title)
    _NETWORK_ARTISTS[ax] = artists
    return ax


def _edge_color(w):
    return WEIGHT_COLORS[bool(w < 0)]


def _edge_width(w, wmax):
    return 0.6 + 2.4 * (min(abs(w) / wmax, 1.0) if np.isfinite(w) else 1.0)


def _reweigh_network(ax, weights):
    """Give a drawing made by :func:`plot_network` (with outputs and deltas off) other
    weights of the same net: edge colours, widths and the numbers written, without
    placing anything again (an animation's frames)."""
    a = _NETWORK_ARTISTS[ax]
    fmt, names = a["fmt"], a["names"]
    for k, ln in a["lines"].items():
        w = float(weights[k])
        ln.set_color(_edge_color(w))
        ln.set_linewidth(_edge_width(w, a["wmax"]))
    for k, t in a["labels"].items():
        t.set_text(f"{names[k]} {fmt(weights[k])}")
    for k, t in a["bias"].items():
        t.set_text(f"bias {fmt(weights[k])}")


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
            # a point per epoch joined by lines (steps-post hid the last epoch's value at
            # the right edge), the last one marked and written
            ep, fr = g["epoch"].to_numpy(), g["frac_reached"].to_numpy()
            axes[1].plot(ep, fr, color=color, lw=2, label=label)
            axes[1].scatter(ep[-1:], fr[-1:], color=color, s=22, clip_on=False, zorder=3)
            axes[1].annotate(f"{fr[-1]:.2f}", (ep[-1], fr[-1]), xytext=(-3, 5),
                             textcoords="offset points", ha="right", va="bottom",
                             fontsize=8, color=color)
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
        what = (f"at 100% {which} accuracy" if acc >= 1.0
                else f"with {which} accuracy ≥ {100 * acc:g}%")
        axes[1].set(xlabel="epoch", ylabel="fraction of runs",
                    title=f"fraction of runs {what}")
        axes[1].set_ylim(-0.02, 1.02)
        axes[1].legend(loc="upper left")
    single = ax is not None and not isinstance(ax, (list, tuple, np.ndarray))
    return axes[0] if single else axes


# -- files -------------------------------------------------------------------------------
#: Formats :func:`save_figure` writes, by file extension.
FIGURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def _figure_format(path, formats=FIGURE_FORMATS):
    """(pathlib.Path, format) for a figure file name; ValueError for an unknown
    extension or a folder that does not exist."""
    import os
    import pathlib
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"path must be a file name, got {path!r}")
    path = pathlib.Path(path)
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the format of {str(path)!r} from its extension; "
                         f"use {', '.join(formats)}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder")
    if not path.parent.is_dir():
        raise ValueError(f"folder {path.parent} does not exist")
    return path, fmt


def _write_atomically(path, write):
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it onto
    ``path``: the file is complete or absent, never half-written. It gets the mode the
    umask gives new files."""
    import os
    import tempfile
    fd, tmp = tempfile.mkstemp(prefix=".neurosim-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_figure(fig, path, *, dpi=150):
    """Write ``fig`` to ``path`` as PNG, SVG or PDF (by the extension), atomically.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        For an extension other than .png, .svg, .pdf, or a folder that does not exist
        (nothing is written).
    """
    path, fmt = _figure_format(path)
    return _write_atomically(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi))


def draw_network(net, path, *, dpi=150, **kw):
    """:func:`plot_network` on a figure of its own size, written to ``path`` (PNG, SVG or
    PDF by the extension; see :func:`save_figure`). ``kw`` go to :func:`plot_network`.

    Returns
    -------
    pathlib.Path
    """
    _figure_format(path)                          # a bad name fails before any drawing
    from matplotlib.figure import Figure
    fig = Figure(figsize=_network_figsize(net), layout="constrained")
    plot_network(net, fig.add_subplot(), **kw)
    return save_figure(fig, path, dpi=dpi)


# -- animation ---------------------------------------------------------------------------
#: Animation formats by file extension; MP4 needs ffmpeg on the PATH.
ANIMATION_FORMATS = {".gif": "pillow", ".mp4": "ffmpeg"}


def _frames(n_states, max_frames):
    """Indexes of the states (epochs 0..n_states-1) to draw: all of them, or
    ``max_frames`` spread evenly, always the first and the last."""
    if n_states <= max_frames:
        return np.arange(n_states)
    return np.unique(np.round(np.linspace(0, n_states - 1, max_frames)).astype(int))


def animate_training(net, history, X, y, path, *, fps=4, max_frames=60, hold=1.5, dpi=72,
                     step=0.05, digits=2, title=None):
    """An animation of a training run, epoch by epoch, from its :class:`History`.

    Each frame shows, with the weights after that epoch (``history.weights``): the
    decision boundary over ``X`` (left), the accuracy and loss curves with the epochs
    still to come veiled (middle) and the network drawing with every weight (right, one
    width scale for the whole run).

    Parameters
    ----------
    net : Network
        The trained network's topology (its weights are not used or changed: each frame
        draws a copy with that epoch's weights). Two inputs.
    history : History
        From :func:`neurosim.train` on ``net`` (or a network of the same edges).
    X, y : array_like
        The points drawn with the boundary, usually the test set; labels 0 or 1.
    path : str or path-like
        ``.gif`` (frames drawn by matplotlib, written by Pillow; loops) or ``.mp4``
        (matplotlib's ffmpeg writer, if ffmpeg is installed). Written atomically:
        complete or not at all.
    fps : float
        Frames per second.
    max_frames : int
        At most this many epochs are drawn (spread evenly, the first and last included).
    hold : float
        Seconds the last frame stays before a GIF loops.
    dpi : int
    step : float
        Grid spacing of the boundary.
    digits : int
        Decimals of the weights written on the drawing.
    title : str, optional
        Prefix of each frame's title (default ``"η = <lr>"``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        For bad arguments, an unknown extension or .mp4 without ffmpeg, before anything
        is drawn or written.
    """
    check_net(net)
    _check_history(history)
    W = np.asarray(history.weights, dtype=float)
    if W.ndim != 2 or W.shape[1] != net.n_edges or list(history.edge_names) != list(
            net.edge_names):
        raise ValueError(f"the history's weights are for edges {list(history.edge_names)[:4]}"
                         f"..., not this network's {net.edge_names[:4]}...")
    if net.n_inputs != 2:
        raise ValueError(f"animate_training draws a decision boundary: it needs a network "
                         f"with 2 inputs, not {net.n_inputs}")
    X, y = _points(X, y)
    max_frames = check_int(max_frames, "max_frames", 2)
    dpi = check_int(dpi, "dpi", 20)
    for val, nm in ((fps, "fps"), (hold, "hold"), (step, "step")):
        if isinstance(val, bool) or not isinstance(val, (int, float, np.integer,
                                                         np.floating)) \
                or not np.isfinite(val) or val < 0 or (nm != "hold" and val == 0):
            raise ValueError(f"{nm} must be a number > 0 (hold >= 0), got {val!r}")
    path, kind = _figure_format(path, ANIMATION_FORMATS)
    from matplotlib import animation
    if kind == "ffmpeg" and not animation.writers.is_available("ffmpeg"):
        raise ValueError("writing .mp4 needs ffmpeg, which is not installed here; "
                         "write a .gif instead")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    frames = _frames(W.shape[0], max_frames)
    finite = W[np.isfinite(W)]
    scale = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
    m = net.copy()
    lead = title if title is not None else f"η = {history.lr:g}"
    ew, eh = _network_figsize(net)
    fig = Figure(figsize=(4.6 + 4.4 + 6.0 * ew / eh, 6.0), layout="constrained")
    FigureCanvasAgg(fig)
    gs = fig.add_gridspec(2, 3, width_ratios=[4.6, 4.4, 6.0 * ew / eh])
    ax_b, ax_n = fig.add_subplot(gs[:, 0]), fig.add_subplot(gs[:, 2])
    ax_a, ax_l = fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[1, 1])
    plot_accuracy(history, ax_a, title="")
    plot_loss(history, ax_l, title="")
    ax_a.set_xlabel("")
    last = W.shape[0] - 1
    veils, marks = [], []
    for a in (ax_a, ax_l):
        veils.append(a.axvspan(0, max(last, 1), color="white", alpha=0.75, zorder=5, lw=0))
        marks.append(a.axvline(0, color="k", lw=0.8, zorder=6))
    title_text = fig.suptitle("")

    def draw(i):
        m.weights[:] = W[i]
        ax_b.clear()
        test = history.test_acc[i] if history.test_acc is not None else None
        if np.all(np.isfinite(W[i])):
            plot_boundary(m, X, y, ax_b, step=step, title="decision boundary")
        else:
            ax_b.set_title("decision boundary: the weights are no longer finite")
        if ax_n in _NETWORK_ARTISTS:              # placed once; then only reweighed
            _reweigh_network(ax_n, W[i])
            ax_n.set_title(f"the weights after epoch {i}")
        else:
            plot_network(m, ax_n, outputs=False, deltas=False, digits=digits,
                         weight_scale=scale, title=f"the weights after epoch {i}")
        for v, mk in zip(veils, marks):
            v.set_x(i)
            v.set_width(max(last, 1) - i)
            mk.set_xdata([i, i])
        acc = f"train accuracy {history.train_acc[i]:.3f}" + (
            f", test {test:.3f}" if test is not None else "")
        title_text.set_text(f"{lead}: epoch {i} of {last}, {acc}")

    def write(tmp):
        fig.set_dpi(dpi)
        draw(int(frames[0]))
        fig.canvas.draw()                           # lay out once, then keep the layout
        fig.set_layout_engine("none")
        if kind == "pillow":                        # Pillow writes the frames
            from PIL import Image
            canvas = fig.canvas
            # the curves do not change: draw them once without what moves, then per frame
            # only the boundary, the network, the veils and the title over that background
            legends = [a.get_legend() for a in (ax_a, ax_l) if a.get_legend() is not None]
            moving = [ax_b, ax_n, title_text, *veils, *marks, *legends]
            for a in moving:
                a.set_visible(False)
            canvas.draw()
            background = canvas.copy_from_bbox(fig.bbox)
            for a in moving:
                a.set_visible(True)
            renderer = canvas.get_renderer()
            images = []
            for i in frames:
                draw(int(i))
                canvas.restore_region(background)
                ax_b.draw(renderer)
                ax_n.draw(renderer)
                for a, v, mk in zip((ax_a, ax_l), veils, marks):
                    a.draw_artist(v)
                    a.draw_artist(mk)
                for lg in legends:                  # the legends stay above the veils
                    lg.axes.draw_artist(lg)
                fig.draw_artist(title_text)
                images.append(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]))
            ms = [round(1000 / fps)] * len(images)
            ms[-1] += round(1000 * hold)
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=ms, loop=0)
            return
        writer = animation.FFMpegWriter(fps=fps)
        with writer.saving(fig, tmp, dpi=dpi):
            for i in np.concatenate([frames, np.full(int(round(hold * fps)), frames[-1])]):
                draw(int(i))
                writer.grab_frame()

    return _write_atomically(path, write)
