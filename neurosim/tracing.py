"""Seeing backprop one neuron at a time: :func:`trace` explains any neuron's forward,
backward and update arithmetic in the chapter's notation, and runs the perturbation
experiment; the text and the data come from one pass.

* :func:`trace` runs one sample forward and backward (weights unchanged) and returns a
  :class:`Trace` that explains any neuron in the chapter's notation, with the numbers::

      Co = AC·Ao + BC·Bo = 0.30·0.50 + (−0.20)·0.80 = −0.01
      Aδ = AC·Cδ + AD·Dδ = 0.30·(−1.01) + 0.40·0.28 = −0.191
      AC ← AC − η·Ao·Cδ = 0.30 − 0.10·0.50·(−1.01) = 0.3505

  as text (:meth:`Trace.explain`) and as data (:meth:`Trace.neuron`), and runs the
  perturbation experiment of Figs 14-3, 14-4, 14-7 (:meth:`Trace.perturb`).
* For a ``softmax_ce`` network the explanation starts with the output layer as in
  Fig 14-1: logits, probabilities and their sum, the predicted and labelled class,
  E = −log p[label] and each output's δ = p − t (:meth:`Trace.softmax` as data).

Notation: when every neuron name is one character (the chapter's networks) values are
written as in the book: ``Ao`` (A's output), ``Aδ`` (A's delta), ``zA`` (its net input),
``AC`` (the weight from A to C), ``tC`` (C's target). Otherwise ``o[h1_0]``,
``δ[h1_0]``, ``z[h1_0]``, ``w[h1_0->y0]``, ``t[y0]``. ``δ`` is ∂E/∂(output) and
``f′(z)·δ`` = ∂E/∂z.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from . import ops
from .backends.cpu import scratch, sum_sq
from .checks import check_l2, check_lr
from .inputs import as_inputs, as_targets, check_net
from .kernels import probe as K
from .kernels.cpu import output_deltas
from .kernels.neuron import BCE, BIAS, IDENTITY, INPUT, QUADRATIC, derivative
from .curves import error_curve

__all__ = ["trace", "Trace", "NeuronTrace", "Term", "Update", "Perturbation",
           "SoftmaxOutputs"]


# ---------------------------------------------------------------------------------------
# number formatting and notation
def fmt(v, digits=4, ascii=False):
    """A number for explanations: ``digits`` significant digits, at least two decimals
    (0.3 -> ``0.30``, -0.191 -> ``−0.191``), a true minus sign unless ``ascii``."""
    v = float(v)
    if v == 0.0:
        v = 0.0                                  # no "-0"
    s = f"{v:.{digits}g}"
    if "e" not in s and "n" not in s:           # not exponent, nan or inf
        dec = len(s.split(".")[1]) if "." in s else 0
        if dec < 2:
            s = f"{v:.2f}"
    return s if ascii else s.replace("-", "−")


_ASCII = (("−", "-"), ("·", "*"), ("δ", "d"), ("′", "'"), ("η", "lr"), ("←", "<-"),
          ("×", "x"), ("½", "1/2"), ("²", "^2"), ("Σ", "sum"), ("∂", "d"), ("≈", "~"),
          ("—", "-"), ("→", "->"), ("λ", "l2"))


class _Notation:
    """Names of values in the chapter's style (``Ao``, ``Aδ``, ``AC``) or bracketed."""

    def __init__(self, net, ascii=False, digits=4):
        self.net = net
        self.ascii = ascii
        self.digits = digits
        self.short = all(len(nm) == 1 for nm in net.neuron_names)
        self.d = "d" if ascii else "δ"
        self.dot = "*" if ascii else "·"
        self.minus = "-" if ascii else "−"
        self.arrow = "<-" if ascii else "←"
        self.eta = "lr" if ascii else "η"
        self.lam = "l2" if ascii else "λ"
        self.prime = "'" if ascii else "′"
        self.times = "x" if ascii else "×"

    def o(self, nm):
        if nm == self.net.bias_name:
            return "1"
        return f"{nm}o" if self.short else f"o[{nm}]"

    def delta(self, nm):
        return f"{nm}{self.d}" if self.short else f"{self.d}[{nm}]"

    def z(self, nm):
        return f"z{nm}" if self.short else f"z[{nm}]"

    def t(self, nm):
        return f"t{nm}" if self.short else f"t[{nm}]"

    def w(self, src, dst):
        return f"{src}{dst}" if self.short else f"w[{src}->{dst}]"

    def fprime(self, act_name, nm):
        return f"{act_name}{self.prime}({self.z(nm)})"

    def num(self, v, paren=True):
        """A number; negative ones in parentheses when they follow an operator."""
        s = fmt(v, self.digits, self.ascii)
        return f"({s})" if paren and float(v) < 0 else s

    def val(self, v):
        return fmt(v, self.digits, self.ascii)

    def plus(self, parts):
        return " + ".join(parts) if parts else "0"

    def text(self, s):
        if not self.ascii:
            return s
        for a, b in _ASCII:
            s = s.replace(a, b)
        return s


# ---------------------------------------------------------------------------------------
# structured data
@dataclass(frozen=True)
class Term:
    """One term of a forward or backward sum.

    Forward (into neuron j from ``neuron``): ``product = weight * value`` with ``value``
    the source's output and ``slope = 1``. Backward (from consumer ``neuron``):
    ``product = weight * slope * value`` with ``slope = f′(z)`` of the consumer and
    ``value`` its delta.
    """
    edge: str
    weight: float
    neuron: str
    value: float
    slope: float
    product: float


@dataclass(frozen=True)
class Update:
    """The gradient-descent step of one incoming edge (Fig 14-27):
    ``new = weight − lr · source_output · slope · delta``, ``gradient = source_output ·
    slope · delta`` (``slope`` = f′(z) of the neuron the edge feeds)."""
    edge: str
    weight: float
    source: str
    source_output: float
    slope: float
    delta: float
    lr: float
    gradient: float
    new_weight: float
    penalty: float = 0.0
    """The L2 penalty's part of the gradient, ``l2 · weight`` (0 for a bias edge or
    without a penalty); ``new = weight − lr · (gradient + penalty)``."""


@dataclass(frozen=True)
class NeuronTrace:
    """Everything about one neuron for one sample.

    Attributes
    ----------
    name, role, activation : str
    z, output : float
        Net input and output (for inputs and the bias both are the given value / 1).
    slope : float
        f′(z) (1 for inputs, the bias and identity neurons).
    delta : float
        ∂E/∂(output).
    dedz : float
        ∂E/∂z = slope · delta.
    forward : tuple of Term
        The incoming weighted sum (empty for inputs and the bias).
    backward : tuple of Term
        The sum over consumers that gives ``delta`` (empty for outputs).
    updates : tuple of Update
        One per incoming edge.
    target : float or None
        The label, for outputs.
    loss : str
    """
    name: str
    role: str
    activation: str
    z: float
    output: float
    slope: float
    delta: float
    dedz: float
    forward: tuple
    backward: tuple
    updates: tuple
    target: float | None
    loss: str

    def as_dict(self):
        """The same content as plain dicts and lists (e.g. for JSON)."""
        return asdict(self)


@dataclass(frozen=True)
class Perturbation:
    """Prediction vs measurement when one output or weight changes by ``m``.

    Attributes
    ----------
    what : str
        Neuron or edge name. ``kind`` is ``"output"`` or ``"weight"``.
    m : float
    slope : float
        δ of the neuron (``"output"``) or the weight's gradient ∂E/∂w (``"weight"``).
    predicted : float
        Em = m × slope.
    measured : float
        E after − E before, from a real forward pass with everything else frozen.
    error_before, error_after : float
    chain : tuple of dict
        For each consumer C of the changed value: ``neuron``, ``edge``, ``weight``,
        ``slope`` (f′(zC)), ``predicted_change`` (Cm = m·w·f′(zC), or m·source·f′(zC) for
        a weight), ``measured_change`` (C's output after − before, through all paths),
        ``delta`` (Cδ) and ``error_change`` (Cm·Cδ). The error changes sum to
        ``predicted``.
    """
    what: str
    kind: str
    m: float
    slope: float
    predicted: float
    measured: float
    error_before: float
    error_after: float
    chain: tuple
    _text: str = field(default="", repr=False)

    @property
    def gap(self):
        """measured − predicted (O(m²) for smooth activations)."""
        return self.measured - self.predicted

    @property
    def rel_gap(self):
        """|gap| / |predicted| (inf when the prediction is 0 and the gap is not)."""
        if self.predicted == 0.0:
            return 0.0 if self.gap == 0.0 else float("inf")
        return abs(self.gap) / abs(self.predicted)

    def __str__(self):
        return self._text


@dataclass(frozen=True)
class SoftmaxOutputs:
    """The output layer of a ``softmax_ce`` network for one sample, as in Fig 14-1.

    Output k is class k. Attributes
    ----------
    names : tuple of str
        The output neurons, class 0 first.
    logits, probabilities : tuple of float
        The outputs o (logits) and p = softmax(o) = e^o / Σ e^o.
    total : float
        Σ p (1 up to rounding).
    predicted : int
        The class with the largest probability (the first of equals).
    label : int or None
        The labelled class, or None when the target is not one class (a probability row).
    target : tuple of float
        The target row t (one-hot for a label).
    error : float
        E = −Σ t·log p, i.e. −log p[label] for a label (log p computed as o − logΣe^o).
    deltas : tuple of float
        δ = ∂E/∂o = p − t of each output, from the backward pass.
    """
    names: tuple
    logits: tuple
    probabilities: tuple
    total: float
    predicted: int
    label: int | None
    target: tuple
    error: float
    deltas: tuple

    @property
    def correct(self):
        """Whether the predicted class is the labelled one (None without a label)."""
        return None if self.label is None else self.predicted == self.label

    def as_dict(self):
        """The same content as plain dicts and lists (e.g. for JSON)."""
        return dict(asdict(self), correct=self.correct)


class Trace:
    """One sample traced through a network (built by :func:`trace`).

    Attributes
    ----------
    net : Network
        A private copy of the traced network (weights as they were).
    x, target : ndarray
        The sample and its target row (one value per output).
    z, outs, deltas, dedz : ndarray (n_neurons,)
        Net input, output, δ = ∂E/∂o and ∂E/∂z of every neuron.
    grad : ndarray (n_edges,)
        ∂E/∂w of every edge, in ``net.edge_names`` order.
    error : float
        The sample's error E.
    lr : float
        η used in the update lines.
    """

    def __init__(self, net, x, t, lr, l2=0.0):
        self.net = net
        self.x = x
        self.target = t
        self.lr = lr
        self.l2 = l2
        #: The L2 penalty l2/2 · Σ w² over the non-bias weights (0 without one); the
        #: error minimised is ``error + penalty``.
        self.penalty = 0.5 * l2 * sum_sq(net) if l2 else 0.0
        ops.forward(net, x)
        self.error = float(ops.backward(net, t))
        self.z = net.z.copy()
        self.outs = net.outs.copy()
        self.deltas = net.deltas.copy()
        self.dedz = net.dedz.copy()
        self.grad = self.outs[net.src] * self.dedz[net.dst]

    # -- data -------------------------------------------------------------------------
    def _slope(self, j):
        """f′(z) of neuron j (1 for inputs, the bias and identity neurons)."""
        net = self.net
        if j < net.first or net.act[j] == IDENTITY:
            return 1.0
        return float(derivative(int(net.act[j]), float(self.z[j]), float(self.outs[j])))

    def neuron(self, name):
        """Structured trace of neuron ``name``: a :class:`NeuronTrace`.

        Raises
        ------
        ValueError
            If the network has no such neuron.
        """
        net = self.net
        j = _neuron_index(net, name)
        names = net.neuron_names
        fwd = []
        for e in net.incoming(name):
            s = int(net.src[e])
            fwd.append(Term(net.edge_names[e], float(net.weights[e]), names[s],
                            float(self.outs[s]), 1.0, float(net.weights[e] * self.outs[s])))
        bwd = []
        if not net.is_output[j]:
            for e in net.outgoing(name):
                c = int(net.dst[e])
                sl = self._slope(c)
                bwd.append(Term(net.edge_names[e], float(net.weights[e]), names[c],
                                float(self.deltas[c]), sl,
                                float(net.weights[e] * self.dedz[c])))
        ups = []
        sl = self._slope(j)
        for e in net.incoming(name):
            s = int(net.src[e])
            w = float(net.weights[e])
            pen = self.l2 * w if s != net.bias else 0.0
            ups.append(Update(net.edge_names[e], w, names[s], float(self.outs[s]), sl,
                              float(self.deltas[j]), self.lr, float(self.grad[e]),
                              w - self.lr * (float(self.grad[e]) + pen), pen))
        target = None
        if net.is_output[j]:
            k = int(np.flatnonzero(net.output_idx == j)[0])
            target = float(self.target[k])
        return NeuronTrace(name, net.role(name), net.activation(name), float(self.z[j]),
                           float(self.outs[j]), sl, float(self.deltas[j]),
                           float(self.dedz[j]), tuple(fwd), tuple(bwd), tuple(ups),
                           target, net.loss_name)

    # -- text -------------------------------------------------------------------------
    def explain(self, name=None, *, ascii=False, digits=4):
        """The forward, backward and update arithmetic of one neuron as text.

        Parameters
        ----------
        name : str or list of str, optional
            Neuron(s) to explain; default every hidden and output neuron.
        ascii : bool
            Plain ASCII (``d`` for δ, ``*`` for ·, ``lr`` for η) for limited terminals.
        digits : int
            Significant digits of the numbers (at least two decimals are shown).

        Returns
        -------
        str
        """
        digits = _check_digits(digits)
        net = self.net
        if name is None:
            names = net.neuron_names[net.first:]
        elif isinstance(name, str):
            names = [name]
        else:
            names = list(name)
        for nm in names:
            _neuron_index(net, nm)
        N = _Notation(net, ascii, digits)
        head = self._header(N)
        if net.loss_name == "softmax_ce":
            head += "\n\n" + self._softmax_text(N)
        return head + "\n\n" + "\n\n".join(self._explain_one(nm, N) for nm in names)

    def _header(self, N):
        net = self.net
        xs = ", ".join(f"{n}={N.val(v)}" for n, v in zip(net.input_names, self.x))
        ts = ", ".join(f"{N.t(n)}={N.val(v)}" for n, v in zip(net.output_names, self.target))
        loss = {"quadratic": "quadratic cost E = ½Σ(o − t)²",
                "bce": "binary cross-entropy E = −Σ[t·log o + (1 − t)·log(1 − o)]",
                "softmax_ce": "softmax cross-entropy E = −Σ t·log softmax(o)"}[net.loss_name]
        head = N.text(f"sample {xs}; targets {ts}; {loss} = {N.val(self.error)}; "
                      f"η = {N.val(self.lr)}")
        if self.l2:
            head += N.text(f"\nL2 penalty λ/2·Σw² (non-bias weights) = {N.val(self.l2)}/2·"
                           f"{N.val(sum_sq(net))} = {N.val(self.penalty)}, λ = "
                           f"{N.val(self.l2)}; error minimised = {N.val(self.error)} + "
                           f"{N.val(self.penalty)} = {N.val(self.error + self.penalty)}")
        return head

    # -- softmax networks: the output layer at a glance (Fig 14-1) -----------------------
    def softmax(self):
        """The outputs of a ``softmax_ce`` network as logits and probabilities, the
        predicted and labelled class, E and each output's δ: a :class:`SoftmaxOutputs`.

        Raises
        ------
        ValueError
            If the network's loss is not ``softmax_ce``.
        """
        net = self.net
        if net.loss_name != "softmax_ce":
            raise ValueError(f"softmax() is for softmax_ce networks; this one's loss is "
                             f"{net.loss_name!r}")
        o = self.outs[net.output_idx].astype(np.float64)
        t = self.target.astype(np.float64)
        shifted = o - o.max()
        logp = shifted - np.log(np.exp(shifted).sum())
        p = np.exp(logp)
        hot = np.flatnonzero(t)
        label = int(hot[0]) if len(hot) == 1 and t[hot[0]] == 1.0 else None
        error = float(-logp[label]) if label is not None else float(-(t * logp).sum())
        names = tuple(net.neuron_names[i] for i in net.output_idx)
        return SoftmaxOutputs(names, tuple(map(float, o)), tuple(map(float, p)),
                              float(p.sum()), int(np.argmax(p)), label, tuple(map(float, t)),
                              error, tuple(float(v) for v in self.deltas[net.output_idx]))

    def _softmax_text(self, N):
        s = self.softmax()
        pn = (lambda nm: f"p{nm}") if N.short else (lambda nm: f"p[{nm}]")
        rows = []
        for k, nm in enumerate(s.names):
            rows.append([f"class {k}:", f"{N.o(nm)} = {N.val(s.logits[k])}",
                         f"{pn(nm)} = {N.val(s.probabilities[k])}",
                         f"{N.delta(nm)} = {pn(nm)} {N.minus} {N.t(nm)} = "
                         f"{N.val(s.probabilities[k])} {N.minus} {N.num(s.target[k])} = "
                         f"{N.val(s.deltas[k])}"])
            marks = [m for m, c in (("predicted", s.predicted), ("label", s.label)) if c == k]
            rows[-1].append(f"{N.arrow} {', '.join(marks)}" if marks else "")
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        lines = ["softmax of the outputs: logits o, probabilities p = e^o / Σ e^o, "
                 "δ = ∂E/∂o = p − t"]
        for r in rows:
            lines.append(("  " + "   ".join(v.ljust(w) for v, w in zip(r, widths))).rstrip())
        psum = " + ".join(N.val(v) for v in s.probabilities)
        lines.append(f"  Σ p = {psum} = {N.val(s.total)}")
        best = s.names[s.predicted]
        pred = (f"  predicted class {s.predicted} ({best}, the largest p = "
                f"{N.val(s.probabilities[s.predicted])})")
        if s.label is None:
            lines.append(pred + "; the target is a probability row, not one class")
            terms = " + ".join(f"{N.num(s.target[k])}·log {N.val(s.probabilities[k])}"
                               for k in range(len(s.names)) if s.target[k] != 0)
            lines.append(f"  E = −Σ t·log p = −({terms}) = {N.val(s.error)}")
        else:
            lab = s.names[s.label]
            lines.append(pred + f"; labelled class {s.label} ({lab}): "
                         + ("right" if s.correct else "wrong"))
            lines.append(f"  E = −log {pn(lab)} = −log {N.val(s.probabilities[s.label])} = "
                         f"{N.val(s.error)}")
        return "\n".join(N.text(v) for v in lines)

    def _explain_one(self, name, N):
        tr = self.neuron(name)
        net = self.net
        j = net.neuron(name)
        lines = [N.text(f"neuron {name} ({tr.role}, {tr.activation})")]
        # forward
        if net.roles[j] == INPUT:
            lines.append(f"  forward:  {N.o(name)} = {N.val(tr.output)}  (input)")
        elif net.roles[j] == BIAS:
            lines.append(N.text(f"  forward:  {name} is the bias neuron: its output is "
                                "always 1"))
        else:
            sym = N.plus([f"{N.w(t.neuron, name)}{N.dot}{N.o(t.neuron)}" for t in tr.forward])
            num = N.plus([f"{N.num(t.weight)}{N.dot}{N.num(t.value)}" for t in tr.forward])
            if net.act[j] == IDENTITY:
                lines.append(f"  forward:  {N.o(name)} = {sym} = {num} = {N.val(tr.output)}")
            else:
                lines.append(f"  forward:  {N.z(name)} = {sym} = {num} = {N.val(tr.z)}")
                lines.append(f"            {N.o(name)} = {tr.activation}({N.z(name)}) = "
                             f"{tr.activation}({N.val(tr.z)}) = {N.val(tr.output)}")
        # backward
        d, o = N.delta(name), N.o(name)
        if net.is_output[j]:
            t = tr.target
            if net.loss == QUADRATIC:
                lines.append(f"  backward: {d} = {o} {N.minus} {N.t(name)} = "
                             f"{N.val(tr.output)} {N.minus} {N.num(t)} = {N.val(tr.delta)}")
                lines.append(N.text("            (δ = ∂E/∂o = output − label for the "
                                    "quadratic cost; Fig 14-12 prints label − output, a sign "
                                    "that would make the update raise the error)"))
            elif net.loss == BCE:
                zz, tn = N.z(name), N.t(name)
                lines.append(f"  backward: {d} = {N.minus}{tn}{N.dot}(1 + e^({N.minus}{zz})) + "
                             f"(1 {N.minus} {tn}){N.dot}(1 + e^{zz}) = "
                             f"{N.num(-t)}{N.dot}(1 + e^{N.num(-tr.z)}) + "
                             f"{N.num(1 - t)}{N.dot}(1 + e^{N.num(tr.z)}) = {N.val(tr.delta)}")
                lines.append(N.text("            (binary cross-entropy: δ = ∂E/∂o = (o − t)/"
                                    "(o·(1 − o)), written with z so that it stays exact when o "
                                    "rounds to 0 or 1: a saturated output's δ is huge; with "
                                    "the sigmoid, f′(z)·δ = o − t exactly — output minus "
                                    "label, not Fig 14-12's label − output)"))
            else:
                p = tr.delta + t
                lines.append(N.text(f"  backward: {d} = softmax({o}) {N.minus} {N.t(name)} = "
                                    f"{N.val(p)} {N.minus} {N.num(t)} = {N.val(tr.delta)}"))
                lines.append(N.text("            (softmax cross-entropy on the logits: "
                                    "δ = ∂E/∂o = probability − label, not Fig 14-12's "
                                    "label − output)"))
        else:
            parts, nums = [], []
            for t in tr.backward:
                cact = net.activation(t.neuron)
                if net.act[net.neuron(t.neuron)] == IDENTITY:
                    parts.append(f"{N.w(name, t.neuron)}{N.dot}{N.delta(t.neuron)}")
                    nums.append(f"{N.num(t.weight)}{N.dot}{N.num(t.value)}")
                else:
                    parts.append(f"{N.w(name, t.neuron)}{N.dot}{N.fprime(cact, t.neuron)}"
                                 f"{N.dot}{N.delta(t.neuron)}")
                    nums.append(f"{N.num(t.weight)}{N.dot}{N.num(t.slope)}{N.dot}"
                                f"{N.num(t.value)}")
            if parts:
                lines.append(f"  backward: {d} = {N.plus(parts)} = {N.plus(nums)} = "
                             f"{N.val(tr.delta)}")
            else:
                lines.append(N.text(f"  backward: {d} = 0  ({name}'s output feeds no neuron)"))
        if net.act[j] != IDENTITY and j >= net.first:
            lines.append(f"            {N.fprime(tr.activation, name)}{N.dot}{d} = "
                         f"{N.num(tr.slope)}{N.dot}{N.num(tr.delta)} = {N.val(tr.dedz)}"
                         + N.text("  (∂E/∂z)"))
        # update
        if tr.updates:
            lines.append(N.text(f"  update (η = {N.val(self.lr)}):"))
            fp = "" if net.act[j] == IDENTITY else f"{N.dot}{N.fprime(tr.activation, name)}"
            for u in tr.updates:
                w = N.w(u.source, name)
                fpn = "" if net.act[j] == IDENTITY else f"{N.dot}{N.num(u.slope)}"
                sym = f"{N.o(u.source)}{fp}{N.dot}{d}"
                num = f"{N.num(u.source_output)}{fpn}{N.dot}{N.num(u.delta)}"
                if self.l2 and u.source != net.bias_name:       # the penalty's l2 * w
                    sym = f"({sym} + {N.lam}{N.dot}{w})"
                    num = f"({num} + {N.num(self.l2)}{N.dot}{N.num(u.weight)})"
                lines.append(f"    {w} {N.arrow} {w} {N.minus} {N.eta}{N.dot}{sym} = "
                             f"{N.val(u.weight)} {N.minus} {N.num(self.lr)}{N.dot}{num} = "
                             f"{N.val(u.new_weight)}")
        return "\n".join(lines)

    def __str__(self):
        return self.explain()

    def __repr__(self):
        return (f"Trace(E={self.error:.6g}, {self.net.n_neurons} neurons, "
                f"{self.net.n_edges} edges, lr={self.lr:g})")

    # -- the perturbation experiment ---------------------------------------------------
    def perturb(self, what, m, *, ascii=False, digits=4):
        """Add ``m`` to a neuron's output or to a weight, rerun the forward pass with
        everything else frozen, and compare the measured error change with the
        prediction Em = m × δ (or m × ∂E/∂w for a weight), Figs 14-3, 14-4, 14-7.

        Parameters
        ----------
        what : str
            A neuron name (its output changes) or an edge name such as ``"BD"``.
        m : float
            The change; finite. For small m the two agree to O(m²) (smooth activations).

        Returns
        -------
        Perturbation
            ``str()`` of it is the explanation.
        """
        net = self.net
        digits = _check_digits(digits)
        try:
            m = float(m)
        except (TypeError, ValueError):
            raise ValueError(f"m must be a number, got {m!r}") from None
        if not np.isfinite(m):
            raise ValueError(f"m must be finite, got {m}")
        if not isinstance(what, str):
            raise ValueError(f"what must be a neuron or edge name, got {what!r}")
        z, out, delta, dedz = scratch(net)
        w = net.weights.copy()
        names = net.neuron_names
        chain = []
        if what in net.index:
            kind = "output"
            j = net.neuron(what)
            slope = float(self.deltas[j])
            clamp, value = j, float(self.outs[j] + m)
            for e in net.outgoing(what):
                c = int(net.dst[e])
                sl = self._slope(c)
                chain.append(dict(neuron=names[c], edge=net.edge_names[e],
                                  weight=float(w[e]), factor=float(w[e]), slope=sl,
                                  predicted_change=m * float(w[e]) * sl,
                                  delta=float(self.deltas[c])))
        elif what in net.edge_index:
            kind = "weight"
            e = net.edge(what)
            slope = float(self.grad[e])
            s, c = int(net.src[e]), int(net.dst[e])
            w[e] += m
            clamp, value = -1, 0.0
            sl = self._slope(c)
            chain.append(dict(neuron=names[c], edge=net.edge_names[e], weight=float(
                net.weights[e]), factor=float(self.outs[s]), slope=sl,
                predicted_change=m * float(self.outs[s]) * sl, delta=float(self.deltas[c])))
        else:
            raise ValueError(f"{what!r} is neither a neuron nor an edge of this network")
        K.forward_clamped(self.x.astype(net.dtype), net.loss, net.topo, w, z, out, clamp,
                          value)
        E1 = float(output_deltas(net.loss, net.act, net.output_idx, z, out,
                                 self.target.astype(net.dtype), delta, dedz, True))
        for c in chain:
            c["measured_change"] = float(out[net.neuron(c["neuron"])] -
                                         self.outs[net.neuron(c["neuron"])])
            c["error_change"] = c["predicted_change"] * c["delta"]
        p = Perturbation(what, kind, m, slope, m * slope, E1 - self.error, self.error, E1,
                         tuple(chain))
        text = self._perturb_text(p, _Notation(net, ascii, digits))
        object.__setattr__(p, "_text", text)
        return p

    def _perturb_text(self, p, N):
        net = self.net
        lines = []
        # the chapter calls the error change Em; a neuron named E would clash with that
        Em = ("dE" if N.ascii else "ΔE") if "E" in net.index else "Em"
        if p.kind == "output":
            src = p.what
            ms = f"{src}m" if N.short else f"m[{src}]"
            lines.append(f"perturb {N.o(src)} by {ms} = {N.val(p.m)}, everything else frozen")
        else:
            e = net.edge(p.what)
            src, dst = net.neuron_names[net.src[e]], net.neuron_names[net.dst[e]]
            ms = "m"
            lines.append(f"perturb weight {N.w(src, dst)} by m = {N.val(p.m)}, everything "
                         "else frozen")
        for c in p.chain:
            cn = c["neuron"]
            cm = f"{cn}m" if N.short else f"m[{cn}]"
            ident = net.act[net.neuron(cn)] == IDENTITY
            fp = "" if ident else f"{N.dot}{N.fprime(net.activation(cn), cn)}"
            fpn = "" if ident else f"{N.dot}{N.num(c['slope'])}"
            if p.kind == "output":
                sym = f"{ms}{N.dot}{N.w(src, cn)}{fp}"
                num = f"{N.num(p.m)}{N.dot}{N.num(c['weight'])}{fpn}"
            else:
                sym = f"m{N.dot}{N.o(src)}{fp}"
                num = f"{N.num(p.m)}{N.dot}{N.num(c['factor'])}{fpn}"
            lines.append(f"  {cm} = {sym} = {num} = {N.val(c['predicted_change'])}"
                         f"  -> {Em} += {cm}{N.dot}{N.delta(cn)} = "
                         f"{N.num(c['predicted_change'])}{N.dot}{N.num(c['delta'])} = "
                         f"{N.val(c['error_change'])}"
                         + N.text(f"   (measured {cm} = {N.val(c['measured_change'])})"))
        if p.kind == "output":
            lines.append(f"  predicted {Em} = m {N.times} {N.delta(src)} = {N.num(p.m)} "
                         f"{N.times} {N.num(p.slope)} = {N.val(p.predicted)}")
        else:
            lines.append(N.text(f"  predicted {Em} = m × ∂E/∂{N.w(src, dst)} = "
                                f"{N.num(p.m)} × {N.num(p.slope)} = {N.val(p.predicted)}"))
        lines.append(f"  measured  {Em} = E' {N.minus} E = {N.val(p.error_after)} {N.minus} "
                     f"{N.num(p.error_before)} = {N.val(p.measured)}")
        rel = ("the prediction is 0" if not np.isfinite(p.rel_gap)
               else f"{100 * p.rel_gap:.3g}% of the prediction")
        lines.append(N.text(f"  gap: measured − predicted = {N.val(p.gap)} ({rel}; "
                            "O(m²) for small m with smooth activations)"))
        return "\n".join(N.text(s) for s in lines)

    def error_curve(self, what, **kw):
        """:func:`neurosim.error_curve` for this trace's network and sample."""
        return error_curve(self.net, self.x, self.target, what, **kw)


def _check_digits(digits):
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) \
            or not 1 <= digits <= 17:
        raise ValueError(f"digits must be an integer in 1..17, got {digits!r}")
    return int(digits)


def _neuron_index(net, name):
    if not isinstance(name, str) or name not in net.index:
        raise ValueError(f"no neuron {name!r}; neurons are {net.neuron_names}")
    return net.index[name]


def trace(net, x, y, *, lr=0.1, l2=0.0):
    """Run one sample forward and backward, without changing any weight.

    Parameters
    ----------
    net : Network
        Not modified (the trace works on a copy; ``net.outs``/``net.deltas`` are left
        alone too).
    x : array_like (n_inputs,)
        The sample.
    y : array_like
        Its target: one value per output (a class label for ``softmax_ce``).
    lr : float
        η shown in the update lines (> 0).
    l2 : float
        λ of an L2 penalty (as in ``train(..., l2=...)``): the header shows the penalty
        λ/2·Σw² over the non-bias weights, and each non-bias update line reads
        ``AC ← AC − η·(Ao·Cδ + λ·AC)`` with the numbers.

    Returns
    -------
    Trace

    Examples
    --------
    >>> import neurosim as ns
    >>> t = ns.trace(ns.presets.four_neuron(), *ns.presets.FOUR_NEURON_SAMPLE)
    >>> print(t.explain("C"))                              # doctest: +SKIP
    """
    check_net(net)
    lr = check_lr(lr)
    l2 = check_l2(l2)
    xa = as_inputs(net, x, "x")
    if xa.shape[0] != 1:
        raise ValueError(f"trace takes one sample, got {xa.shape[0]}")
    t = as_targets(net, y, 1, "y")[0]
    return Trace(net.copy(), xa[0].copy(), t.copy(), lr, l2)
