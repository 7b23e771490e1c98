"""Error curves (Figs 14-9, 14-10, 14-11): the error of one sample as one value moves.

:func:`error_curve` sweeps one neuron's output or one weight with everything else frozen
and returns an :class:`ErrorCurve` that knows the tangent at the current value (its slope
is the neuron's δ, or the weight's gradient) and can predict the error after a step and
measure the real one. :func:`neurosim.plots.plot_error_curve` draws it.
:func:`chapter_example` builds a tiny network whose error curve is exactly the
chapter's: E = (P − 1)² at P = −1, slope −4.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import ops
from .backends.cpu import scratch
from .checks import as_float, check_int
from .inputs import as_inputs, as_real_array, as_targets, check_net
from .kernels import probe as K


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

    def errors_at(self, values):
        """The error of the sample at each of ``values`` (the curve re-swept)."""
        return _sweep(self._net, self._x, self._t, self.kind, self.what, np.asarray(values))

    def __repr__(self):
        return (f"ErrorCurve({self.label}: {len(self.values)} values in "
                f"[{self.values.min():.4g}, {self.values.max():.4g}], at {self.at:.4g}, "
                f"E = {self.error:.4g}, slope {self.slope:.4g})")


def _sweep(net, x, t, kind, what, values):
    errors = np.empty(len(values), dtype=net.dtype)
    w = net.weights.copy()
    neuron = net.neuron(what) if kind == "output" else -1
    edge = net.edge(what) if kind == "weight" else -1
    K.sweep(x, t, net.loss, net.topo, w, scratch(net), neuron, edge,
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
    check_net(net)
    c = net.astype(np.float64)
    xa = as_inputs(c, x, "x")
    if xa.shape[0] != 1:
        raise ValueError("error_curve takes one sample")
    t = as_targets(c, y, 1, "y")[0]
    if not isinstance(what, str) or (what not in c.index and what not in c.edge_index):
        raise ValueError(f"{what!r} is neither a neuron nor an edge of this network")
    kind = "output" if what in c.index else "weight"
    num = check_int(num, "num", 2, 10 ** 7)
    E, grad = ops.gradient(c, xa[0], t)
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
        span = as_float(span, "span")
        if not np.isfinite(span) or span <= 0:
            raise ValueError(f"span must be finite and > 0, got {span}")
        vals = np.linspace(at - span, at + span, num)
    else:
        vals = as_real_array(values, "values").ravel()
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
