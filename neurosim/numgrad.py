"""Gradient checks: every weight's backprop gradient against a central finite difference
of the mean error (:func:`gradcheck`), with the worst weights named and ReLU kinks flagged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backends.cpu import scratch
from .checks import check_l2, check_positive
from .inputs import as_inputs, as_targets, check_net
from .kernels import probe as K
from .kernels.neuron import LEAKY_RELU, RELU


@dataclass(frozen=True)
class GradCheck:
    """Backprop vs central finite differences for every weight (from :func:`gradcheck`).

    Attributes
    ----------
    edge_names : list of str
    analytic, numeric : ndarray (n_edges,)
        Mean over the samples of ∂E/∂w: from backprop (or ``grad_fn``) and from
        (E(w + eps) − E(w − eps)) / (2 eps).
    abs_err, rel_err : ndarray (n_edges,)
        |analytic − numeric| and that over max(|analytic|, |numeric|) (0 when both are 0).
    ok : bool
        Every weight within ``atol + rtol · max(|analytic|, |numeric|)``.
    eps, rtol, atol : float
    error : float
        Mean error of the samples at the current weights (with the penalty, given ``l2``).
    kinks : list of str
        ReLU / leaky-ReLU neurons whose net input was within ``eps`` of 0 for some
        sample: there the finite difference straddles the kink and is not a derivative,
        so the weights into and out of them may disagree without any bug (an untrained
        net with zero biases often has z exactly 0).
    """
    edge_names: list
    analytic: np.ndarray
    numeric: np.ndarray
    abs_err: np.ndarray
    rel_err: np.ndarray
    ok: bool
    eps: float
    rtol: float
    atol: float
    error: float
    kinks: list

    @property
    def bad(self):
        """Names of the weights outside the tolerance."""
        tol = self.atol + self.rtol * np.maximum(np.abs(self.analytic), np.abs(self.numeric))
        return [self.edge_names[k] for k in np.flatnonzero(self.abs_err > tol)]

    def worst(self, k=5):
        """The ``k`` weights with the largest absolute error, worst first, as
        ``[(name, analytic, numeric, abs_err, rel_err), ...]``."""
        order = np.argsort(-self.abs_err, kind="stable")[:k]
        return [(self.edge_names[i], float(self.analytic[i]), float(self.numeric[i]),
                 float(self.abs_err[i]), float(self.rel_err[i])) for i in order]

    def __str__(self):
        head = (f"gradcheck: {len(self.edge_names)} weights, eps={self.eps:g}, "
                f"rtol={self.rtol:g}, atol={self.atol:g}: "
                + ("OK" if self.ok else f"FAILED for {len(self.bad)} weight(s)"))
        w = max([len(n) for n in self.edge_names] + [6])
        rows = [f"  {'weight':<{w}} {'backprop':>13} {'numeric':>13} {'abs err':>10} "
                f"{'rel err':>10}"]
        for nm, a, n, ae, re in self.worst(5):
            rows.append(f"  {nm:<{w}} {a:13.6g} {n:13.6g} {ae:10.3g} {re:10.3g}")
        if self.kinks:
            rows.append(f"  note: ReLU neurons {self.kinks} sat within eps of their kink for "
                        "some sample; finite differences there are not derivatives")
        return head + "\n" + "\n".join(rows)

    def __repr__(self):
        return (f"GradCheck(ok={self.ok}, max abs err {self.abs_err.max(initial=0):.3g}, "
                f"max rel err {self.rel_err.max(initial=0):.3g})")


def gradcheck(net, X, y, *, eps=1e-6, rtol=1e-5, atol=1e-8, grad_fn=None, l2=0.0):
    """Compare every weight's backprop gradient with a central finite difference.

    The error is the mean over the samples; both gradients are computed in float64 on a
    copy of the network (``net`` is not changed). Near a ReLU kink (a neuron whose net
    input is within ``eps`` of 0) a finite difference is not a derivative and may
    legitimately disagree.

    Parameters
    ----------
    net : Network
    X : array_like (n_samples, n_inputs) or (n_inputs,)
    y : array_like
        Targets fitting the loss.
    eps : float
        Finite-difference step (> 0).
    rtol, atol : float
        Tolerance: ``|analytic − numeric| <= atol + rtol · max(|analytic|, |numeric|)``.
    grad_fn : callable, optional
        ``grad_fn(net, X, T) -> ndarray (n_edges,)``: a gradient to check instead of
        neurosim's backprop (your own implementation, or a deliberately wrong one).
        ``X`` is (n_samples, n_inputs), ``T`` (n_samples, n_outputs); return the mean
        over the samples of ∂E/∂w in ``net.edge_names`` order.
    l2 : float
        Check the penalised gradient: the error gains ``l2/2 · Σ w²`` over the non-bias
        weights (as ``train(..., l2=...)`` minimises), backprop's gradient ``l2 · w``, and
        the finite differences are taken of the whole penalised error.

    Returns
    -------
    GradCheck
        ``.ok``, ``.worst(k)`` and a printable report naming the worst weights.
    """
    check_net(net)
    eps = check_positive(eps, "eps")
    rtol = check_positive(rtol, "rtol", zero=True)
    atol = check_positive(atol, "atol", zero=True)
    l2 = check_l2(l2)
    if grad_fn is not None and not callable(grad_fn):
        raise ValueError("grad_fn must be callable")
    c = net.astype(np.float64)
    Xa = as_inputs(c, X)
    T = as_targets(c, y, Xa.shape[0])
    S = scratch(c)
    ana = np.zeros(c.n_edges)
    near = np.zeros(c.n_neurons, dtype=np.int64)
    E = K.mean_gradient(Xa, T, c.loss, c.topo, c.weights, S, ana, eps, near, l2)
    kinked = np.isin(c.act, (RELU, LEAKY_RELU)) & (near > 0)
    kinks = [c.neuron_names[j] for j in np.flatnonzero(kinked)]
    if grad_fn is not None:
        ana = np.asarray(grad_fn(c.copy(), Xa.copy(), T.copy()), dtype=np.float64)
        if ana.shape != (c.n_edges,):
            raise ValueError(f"grad_fn must return shape ({c.n_edges},), got {ana.shape}")
    num = np.zeros(c.n_edges)
    K.numeric_gradient(Xa, T, c.loss, c.topo, c.weights, S, eps, num, l2)
    abs_err = np.abs(ana - num)
    scale = np.maximum(np.abs(ana), np.abs(num))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(scale > 0, abs_err / np.where(scale > 0, scale, 1), 0.0)
    ok = bool(np.all(abs_err <= float(atol) + float(rtol) * scale))
    return GradCheck(c.edge_names, ana, num, abs_err, rel, ok, eps, rtol, atol, float(E),
                     kinks)
