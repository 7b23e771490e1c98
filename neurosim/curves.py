"""Error curves (Figs 14-9, 14-10, 14-11): the error of one sample as one value moves.

:func:`error_curve` sweeps one neuron's output or one weight with everything else frozen
and returns an :class:`ErrorCurve` that knows the tangent at the current value (its slope
is the neuron's δ, or the weight's gradient) and can predict the error after a step and
measure the real one. :func:`plot_error_curve` draws it (matplotlib is imported only
there). :func:`chapter_example` builds a tiny network whose error curve is exactly the
chapter's: E = (P − 1)² at P = −1, slope −4.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import engine
from .kernels import tracing as K
from .training import _check_int


@dataclass(frozen=True)
class ErrorCurve:
    """The error as one value sweeps a range (from :func:`error_curve`).

    Attributes
    ----------
    what : str
        Neuron name (``kind == "output"``) or edge name (``kind == "weight"``).
    kind : str
    label : str
        The value's name in the chapter's notation, e.g. ``"Co"`` or ``"AC"``.
    values, errors : ndarray (num,)
        The swept values and the sample's error at each.
    at : float
        The current value; ``error`` the current error.
    slope : float
        δ of the neuron (∂E/∂output) or ∂E/∂w of the weight: the tangent's slope.
    """
    what: str
    kind: str
    label: str
    values: np.ndarray
    errors: np.ndarray
    at: float
    error: float
    slope: float
    _net: object = field(default=None, repr=False)
    _x: np.ndarray = field(default=None, repr=False)
    _t: np.ndarray = field(default=None, repr=False)

    def tangent(self, v):
        """The tangent line at ``at``: error + slope · (v − at)."""
        return self.error + self.slope * (np.asarray(v, dtype=float) - self.at)

    def predicted(self, step):
        """Error the tangent predicts after moving the value by ``step``."""
        return float(self.tangent(self.at + float(step)))

    def actual(self, step):
        """Error really obtained after moving the value by ``step`` (a forward pass)."""
        return float(_sweep(self._net, self._x, self._t, self.kind, self.what,
                            np.array([self.at + float(step)]))[0])

    def __repr__(self):
        return (f"ErrorCurve({self.label}: {len(self.values)} values in "
                f"[{self.values.min():.4g}, {self.values.max():.4g}], at {self.at:.4g}, "
                f"E = {self.error:.4g}, slope {self.slope:.4g})")


def _sweep(net, x, t, kind, what, values):
    z, out, delta, g = engine.scratch(net)
    errors = np.empty(len(values), dtype=net.dtype)
    w = net.weights.copy()
    neuron = net.neuron(what) if kind == "output" else -1
    edge = net.edge(what) if kind == "weight" else -1
    K.sweep(x, t, net.loss, net.n_inputs, net.act, net.is_output, net.output_idx, net.run_ptr,
            net.run_edge, net.run_src, net.run_len, w, z, out, delta, g, neuron, edge,
            np.ascontiguousarray(values, dtype=net.dtype), errors)
    return errors.astype(float)


def error_curve(net, x, y, what, *, values=None, span=None, num=201):
    """The error of one sample as one neuron's output, or one weight, sweeps a range
    with everything else frozen (Figs 14-9 to 14-11).

    Parameters
    ----------
    net : Network
        Not modified.
    x : array_like (n_inputs,)
    y : array_like
        The sample's target.
    what : str
        A neuron name (its output is swept; neurons downstream are recomputed) or an edge
        name such as ``"AC"`` (that weight is swept).
    values : array_like, optional
        The values to sweep. Default: ``num`` points over ``at ± span``.
    span : float, optional
        Half-width of the default range (default ``max(1, 2·|at|)``).
    num : int
        Number of default points (>= 2).

    Returns
    -------
    ErrorCurve
    """
    engine.check_net(net)
    c = net.astype(np.float64)
    xa = engine.as_inputs(c, x, "x")
    if xa.shape[0] != 1:
        raise ValueError("error_curve takes one sample")
    t = engine.as_targets(c, y, 1, "y")[0]
    if not isinstance(what, str) or (what not in c.index and what not in c.edge_index):
        raise ValueError(f"{what!r} is neither a neuron nor an edge of this network")
    kind = "output" if what in c.index else "weight"
    num = _check_int(num, "num", 2)
    E, grad = engine.gradient(c, xa[0], t)
    single = all(len(n) == 1 for n in c.neuron_names)
    if kind == "output":
        j = c.neuron(what)
        at, slope = float(c.outs[j]), float(c.deltas[j])
        label = f"{what}o" if single else f"o[{what}]"
    else:
        k = c.edge(what)
        at, slope = float(c.weights[k]), float(grad[k])
        label = c.edge_names[k] if single else f"w[{c.edge_names[k]}]"
    if values is None:
        if span is None:
            span = max(1.0, 2.0 * abs(at))
        try:
            span = float(span)
        except (TypeError, ValueError):
            raise ValueError(f"span must be a number, got {span!r}") from None
        if not np.isfinite(span) or span <= 0:
            raise ValueError(f"span must be finite and > 0, got {span}")
        vals = np.linspace(at - span, at + span, num)
    else:
        try:
            vals = np.asarray(values, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ValueError("values must be numbers") from None
        if vals.size == 0 or not np.all(np.isfinite(vals)):
            raise ValueError("values must be a non-empty array of finite numbers")
    errors = _sweep(c, xa[0], t, kind, what, vals)
    return ErrorCurve(what, kind, label, vals, errors, at, float(E), slope, c, xa[0].copy(),
                      t.copy())


def chapter_example():
    """A network whose error curve is the chapter's (Figs 14-9, 14-10).

    The chapter plots the error against P1 with a curve E = (P1 − 1)²: at P1 = −1 the
    error is 4 and the tangent's slope is −4, so moving P1 by 0.5 predicts an error
    change of −2, and moving it by 1 predicts an error of 0 where the real one is 1.
    neurosim's quadratic cost ½(o − t)² gives half that for one output, so here a hidden
    neuron P (output −1 for the input 1) feeds two identity outputs C and D with weight 1
    and target 1 each: E = ½(P − 1)² + ½(P − 1)² = (P − 1)² and Pδ = −4.

    Returns
    -------
    (net, x, t) : Network, ndarray (1,), ndarray (2,)
        Use ``error_curve(net, x, t, "P")``.
    """
    from .graph import Network
    net = Network.from_edges([("X", "P", -1.0), ("P", "C", 1.0), ("P", "D", 1.0)],
                             inputs=["X"], outputs=["C", "D"], hidden=["P"],
                             loss="quadratic", bias="b")
    return net, np.array([1.0]), np.array([1.0, 1.0])


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
    from .plots import _new_axes
    ax = _new_axes(ax, (6.4, 4.4))
    v, E = curve.values, curve.errors
    ends = [curve.at + s for s in steps]
    if ends and (min(ends) < v.min() or max(ends) > v.max()):   # widen to show the steps
        v = np.linspace(min(v.min(), *ends), max(v.max(), *ends), max(len(v), 201))
        E = _sweep(curve._net, curve._x, curve._t, curve.kind, curve.what, v)
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
