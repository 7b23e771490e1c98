"""The many-networks planner: ``train_many``'s whole run written out for one topology.

:func:`source` emits Python in the style of :mod:`neurosim.kernels.planner`: every edge a
literal row of a chunk's scratch ``S`` (``S[row * C + q]``, ``C`` networks a chunk, a literal
too), every neuron's z, output, delta and dE/dz a local or a literal row, and each sample's
forward pass and backward pass one loop over the chunk's networks, which LLVM vectorises
(the rows sit at constant distances, so it needs no alias checks). Only the activations and
losses that call libm (``exp``, ``tanh``, ``log1p``) run in loops of their own, one network
at a time. The arithmetic is the general kernel's (:mod:`neurosim.kernels.many`, itself
``cpu.train_epoch`` per network) operation for operation, so every network's weights and
history are the same bits as ``neurosim.train`` on it alone (tests/test_plan_many.py).

One call runs a chunk through a stretch of epochs: per epoch the networks' data orders
(NumPy's ``default_rng(seed).permutation(n)``, drawn in the kernel by
:mod:`neurosim.kernels.rng`, or given), per-sample SGD (with the L2 penalty in the twin
``train_chunk_l2``), the evaluation of the training and test sets, the penalty's sum of
squares, divergence and weight snapshots. Sources are cached like the planner's.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys

import numpy as np

from . import planner
from .neuron import (ACTIVATION_NAMES, BCE, IDENTITY, LEAKY_RELU, LEAKY_SLOPE, LOSS_NAMES,
                     QUADRATIC, RELU, SIGMOID, SOFTMAX_CE, TANH)

#: Networks with at most this many edges get a generated many-networks kernel; larger ones
#: run the general kernel (compile time grows with the edges: docs/kernels.md).
MAX_EDGES = 128

#: A call generates a kernel for a new shape only from this many network-sample steps
#: (networks x epochs x samples): the general kernel takes about 0.1 s for them, the
#: compile of a new shape 6-12 s (once per machine: docs/kernels.md). Smaller calls use a
#: kernel this machine already generated for the shape.
MIN_STEPS = 1_000_000

#: False: never generate (train_many runs the general many-networks kernel).
ENABLED = True

_VERSION = "7"
_LIBM = (SIGMOID, TANH)


def chunk_for(net):
    """Networks per chunk: 16, or 8 for a net whose scratch rows would not fit in about
    16 KiB of L1 at 16 (measured on the chapter net: docs/kernels.md)."""
    rows = _Rows(net).total
    return 16 if rows * 16 * 8 <= 16384 else 8


class _Rows:
    """Row numbers in the chunk's scratch: weights, then each neuron's output and net
    input, each output's target and dE/dz, and the per-network lr, decay, active flag and
    error."""

    def __init__(self, net):
        m, n = net.n_edges, net.n_neurons
        self.w = list(range(m))
        self.o = [m + j for j in range(n)]
        self.z = [m + n + j for j in range(n)]
        outs = [int(j) for j in net.output_idx]
        base = m + 2 * n
        self.t = {j: base + k for k, j in enumerate(outs)}
        self.g = {j: base + len(outs) + k for k, j in enumerate(outs)}
        base += 2 * len(outs)
        self.lr, self.dec, self.act, self.err = base, base + 1, base + 2, base + 3
        self.tot, self.right = base + 4, base + 5
        base += 6
        self.ez = [base + j for j in range(n)]            # exp(-|z|) of sigmoid neurons
        self.lp = {j: base + n + k for k, j in enumerate(outs)}   # log1p of it (bce)
        self.total = base + n + len(outs)


def fits(net, steps=None):
    """Whether ``train_many`` on networks like ``net`` runs a generated kernel: float64,
    small enough, no output feeding another neuron, per-sample SGD (the caller checks the
    batch), and (with ``steps``) a call of at least :data:`MIN_STEPS` network-sample steps
    or a shape this process or this machine's cache already holds."""
    if not ENABLED or net.n_edges > MAX_EDGES or net.dtype != np.float64:
        return False
    if any(int(d) in set(net.output_idx.tolist()) for d in net.src):
        return False                          # an output feeding another neuron
    return steps is None or steps >= MIN_STEPS or loaded(net) or on_disk(net)


class _Gen:
    """Source lines of one topology's kernels."""

    def __init__(self, net, C):
        self.net, self.C = net, C
        self.R = _Rows(net)
        self.n, self.n_in = net.n_neurons, net.n_inputs
        self.bias = net.n_inputs
        self.src, self.dst, self.act = net.src, net.dst, net.act
        self.outs = [int(j) for j in net.output_idx]
        self.is_out = net.is_output
        self.code = {v: f"A_{ACTIVATION_NAMES[v].upper()}" for v in ACTIVATION_NAMES}
        self.edges_of = {j: [int(e) for e in np.flatnonzero(self.dst == j)]
                         for j in range(self.n)}

    def at(self, row):
        return f"S[{row * self.C} + q]"

    @staticmethod
    def act_expr(a, z):
        """``neuron.activate(a, z)`` written out (no call for Numba to inline: compile
        time), but for the libm ones, which stay calls."""
        if a == RELU:
            return f"{z} if {z} > 0.0 else 0.0 * {z}"
        if a == LEAKY_RELU:
            return f"{z} if {z} > 0.0 else {LEAKY_SLOPE!r} * {z}"
        if a == IDENTITY:
            return z
        if a == TANH:
            return f"math.tanh({z})"
        return f"activate({a}, {z})"

    @staticmethod
    def der_expr(a, z, o):
        """``neuron.derivative(a, z, o)`` written out."""
        if a == RELU:
            return f"(1.0 if {z} > 0.0 else 0.0)"
        if a == LEAKY_RELU:
            return f"(1.0 if {z} > 0.0 else {LEAKY_SLOPE!r})"
        if a == SIGMOID:
            return f"({o} * (1.0 - {o}))"
        if a == TANH:
            return f"(1.0 - {o} * {o})"
        return "1.0"

    def hidden(self, j):
        return j > self.n_in and not self.is_out[j]

    # -- forward -----------------------------------------------------------------------
    def forward(self, ind, scalar_inputs, defer_outputs):
        """Loops computing every neuron's net input (and output, but for libm activations,
        done in loops of their own, and, with ``defer_outputs``, the outputs): lines at
        indentation ``ind``. ``scalar_inputs``: inputs are the locals x0, x1, ... (one
        sample for every network), else rows (each network its own sample)."""
        C, R = self.C, self.R
        L, body, local, pending = [], [], set(), []

        def close():
            if body:
                L.append(f"{ind}for q in range({C}):")
                L.extend(f"{ind}    {b}" for b in body)
            body.clear()
            local.clear()
            if pending:
                # the libm calls alone, one network at a time; then the sigmoid's division
                # over every network at once (activate's two branches both divide by
                # 1 + exp(-|z|): one division of a select)
                sig = [j for j in pending if self.act[j] == SIGMOID]
                L.append(f"{ind}for q in range(c):")
                for j in pending:
                    if j in sig:
                        L.append(f"{ind}    {self.at(R.ez[j])} = math.exp(-abs("
                                 f"{self.at(R.z[j])}))")
                    else:
                        L.append(f"{ind}    {self.at(R.o[j])} = "
                                 + self.act_expr(int(self.act[j]), self.at(R.z[j])))
                if sig:
                    L.append(f"{ind}for q in range({C}):")
                    for j in sig:
                        L.append(f"{ind}    {self.at(R.o[j])} = (1.0 if {self.at(R.z[j])} >= 0.0 "
                                 f"else {self.at(R.ez[j])}) / (1.0 + {self.at(R.ez[j])})")
                pending.clear()

        for j in range(self.n_in + 1, self.n):
            srcs = [int(self.src[e]) for e in self.edges_of[j]]
            if any(s in pending for s in srcs):
                close()
            body.append(f"s{j} = 0.0")
            for e in self.edges_of[j]:
                s = int(self.src[e])
                if s == self.bias:
                    body.append(f"s{j} += {self.at(R.w[e])}")          # w * 1.0 is w
                elif s < self.n_in:
                    o = f"x{s}" if scalar_inputs else self.at(R.o[s])
                    body.append(f"s{j} += {self.at(R.w[e])} * {o}")
                else:
                    o = f"o{s}" if s in local else self.at(R.o[s])
                    body.append(f"s{j} += {self.at(R.w[e])} * {o}")
            a = int(self.act[j])
            if not scalar_inputs or self.is_out[j] or a in _LIBM:    # else nothing reads it
                body.append(f"{self.at(R.z[j])} = s{j}")
            if self.is_out[j] and defer_outputs:
                continue
            if a in _LIBM:
                pending.append(j)
                continue
            body.append(f"o{j} = " + self.act_expr(a, f"s{j}"))
            body.append(f"{self.at(R.o[j])} = o{j}")
            local.add(j)
        close()
        return L

    # -- the error at the outputs --------------------------------------------------------
    def softmax_lines(self, ind, o_of, t_of, g_store):
        """cpu.output_deltas for softmax_ce (logits o): E and each output's dE/dz."""
        L = [f"{ind}mx = -np.inf"]
        for j in self.outs:
            L += [f"{ind}if {o_of(j)} > mx:", f"{ind}    mx = {o_of(j)}"]
        L.append(f"{ind}se = 0.0")
        L += [f"{ind}se += math.exp({o_of(j)} - mx)" for j in self.outs]
        L.append(f"{ind}lse = mx + math.log(se)")
        L.append(f"{ind}E = 0.0")
        for j in self.outs:
            L.append(f"{ind}E -= {t_of(j)} * ({o_of(j)} - lse)")
            if g_store:
                L.append(f"{ind}{self.at(self.R.g[j])} = math.exp({o_of(j)} - lse) - {t_of(j)}")
        return L

    def train_loss_loop(self, ind):
        """The loop before the backward pass where the error needs libm: softmax_ce always,
        bce under skip_zero (its E decides the skip). Stores E and dE/dz rows."""
        R, loss = self.R, self.net.loss
        if loss == SOFTMAX_CE:
            L = [f"{ind}for q in range(c):"]
            L += self.softmax_lines(ind + "    ", lambda j: self.at(R.o[j]),
                                    lambda j: self.at(R.t[j]), True)
            return L + [f"{ind}    {self.at(R.err)} = E"]
        if loss == BCE:
            L = [f"{ind}if skip_zero:", f"{ind}    for q in range(c):", f"{ind}        E = 0.0"]
            for j in self.outs:
                L.append(f"{ind}        E += bce_loss({self.at(R.z[j])}, {self.at(R.t[j])})")
            return L + [f"{ind}        {self.at(R.err)} = E"]
        return []

    # -- backward ------------------------------------------------------------------------
    def backward(self, ind, penal):
        """One loop over the chunk's networks: the error's dE/dz at the outputs (when it
        needs no libm), then every neuron from the last to the first as
        ``many._backward`` with ``fused`` (selects, so inactive networks and rows whose
        dE/dz is 0 stay exactly as they were)."""
        R, C, loss = self.R, self.C, self.net.loss
        B = ["a_ = " + self.at(R.act) + " != 0.0", "lr_ = " + self.at(R.lr)]
        if loss == QUADRATIC:
            B.append("E = 0.0")
            for j in self.outs:
                B += [f"d_ = {self.at(R.o[j])} - {self.at(R.t[j])}",
                      "E += 0.5 * d_ * d_",
                      f"g{j} = " + self.der_expr(int(self.act[j]), self.at(R.z[j]),
                                                 self.at(R.o[j])) + " * d_"]
            B.append("a_ = a_ and not (skip_zero and E == 0.0)")
        elif loss == BCE:
            for j in self.outs:
                B.append(f"g{j} = {self.at(R.o[j])} - {self.at(R.t[j])}")
            B.append(f"a_ = a_ and not (skip_zero and {self.at(R.err)} == 0.0)")
        else:
            for j in self.outs:
                B.append(f"g{j} = {self.at(R.g[j])}")
            B.append(f"a_ = a_ and not (skip_zero and {self.at(R.err)} == 0.0)")
        if penal:
            B += ["dc_ = " + self.at(R.dec), "pn_ = a_ and dc_ != 0.0"]
        for j in range(self.n_in + 1, self.n):
            if self.hidden(j):
                B.append(f"d{j} = 0.0")
        for j in range(self.n - 1, self.n_in, -1):
            if not self.is_out[j]:
                B.append(f"g{j} = " + self.der_expr(int(self.act[j]), self.at(R.z[j]),
                                                    self.at(R.o[j])) + f" * d{j}")
            B += [f"on{j} = a_ and g{j} != 0.0", f"st{j} = lr_ * g{j}"]
            for e in self.edges_of[j]:
                s = int(self.src[e])
                B.append(f"w{e} = {self.at(R.w[e])}")
                if self.hidden(s):
                    B.append(f"d{s} = d{s} + w{e} * g{j} if on{j} else d{s}")
                if s == self.bias:
                    B.append(f"{self.at(R.w[e])} = w{e} - st{j} if on{j} else w{e}")   # st * 1.0
                    continue
                o = self.at(R.o[s])
                new = f"(w{e} - st{j} * {o} if on{j} else w{e})"
                if penal:
                    B.append(f"{self.at(R.w[e])} = {new} - (dc_ * w{e} if pn_ else 0.0)")
                else:
                    B.append(f"{self.at(R.w[e])} = {new}")
        return [f"{ind}for q in range({C}):"] + [f"{ind}    {b}" for b in B]

    # -- evaluation ----------------------------------------------------------------------
    def eval_loss(self, ind):
        """The loops after an evaluation sample's forward pass: outputs, error and whether
        it is classified right (``cpu.output_deltas`` with E, ``cpu.correct``), summed into
        the tot and right rows. bce of sigmoid outputs: the libm calls alone, one network
        at a time -- one exp(-|z|), shared by the output and both softplus terms (each is the
        very exp the separate calls make), and one log1p -- then the rest over every
        network at once, selects for branches."""
        R, loss, C = self.R, self.net.loss, self.C
        tk = {j: f"t{k}" for k, j in enumerate(self.outs)}
        if loss == BCE and all(self.act[j] == SIGMOID for j in self.outs):
            L = [f"{ind}for q in range(c):"]
            for j in self.outs:
                L += [f"{ind}    ez_ = math.exp(-abs({self.at(R.z[j])}))",
                      f"{ind}    {self.at(R.ez[j])} = ez_",
                      f"{ind}    {self.at(R.lp[j])} = math.log1p(ez_)"]
            i2 = ind + "    "
            L += [f"{ind}for q in range({C}):", f"{i2}E = 0.0", f"{i2}ok_ = 1.0"]
            for j in self.outs:
                z, t = f"z{j}", tk[j]
                L += [f"{i2}{z} = {self.at(R.z[j])}",
                      f"{i2}ez_ = {self.at(R.ez[j])}",
                      f"{i2}lp_ = {self.at(R.lp[j])}",
                      f"{i2}o{j} = (1.0 if {z} >= 0.0 else ez_) / (1.0 + ez_)",
                      f"{i2}e_ = 0.0",
                      f"{i2}e_ = e_ + {t} * ((-{z}) + lp_ if -{z} > 0.0 else lp_) "
                      f"if {t} != 0.0 else e_",
                      f"{i2}e_ = e_ + (1.0 - {t}) * ({z} + lp_ if {z} > 0.0 else lp_) "
                      f"if {t} != 1.0 else e_",
                      f"{i2}E += e_",
                      f"{i2}ok_ = 0.0 if (o{j} >= 0.5) != ({t} >= 0.5) else ok_"]
            return L + [f"{i2}{self.at(R.tot)} += E", f"{i2}{self.at(R.right)} += ok_"]
        L = [f"{ind}for q in range(c):", f"{ind}    E = 0.0"]
        i2 = ind + "    "
        for k, j in enumerate(self.outs):
            z = f"z{j}"
            L.append(f"{i2}{z} = {self.at(R.z[j])}")
            a = int(self.act[j])
            if a == IDENTITY:
                L.append(f"{i2}o{j} = {z}")
            else:
                L.append(f"{i2}o{j} = " + self.act_expr(a, z))
            if loss == QUADRATIC:                        # neuron.output_terms' E
                L += [f"{i2}d_ = o{j} - t{k}", f"{i2}e_ = 0.5 * d_ * d_"]
            elif loss != SOFTMAX_CE:
                L.append(f"{i2}e_, d_, g_ = output_terms(LOSS, {self.code[a]}, {z}, o{j}, "
                         f"t{k}, True)")
            if loss != SOFTMAX_CE:
                L.append(f"{i2}E += e_")
        if loss == SOFTMAX_CE:
            L += self.softmax_lines(i2, lambda j: f"o{j}", lambda j: tk[j], False)
        L.append(f"{i2}{self.at(R.tot)} += E")
        if len(self.outs) == 1 or loss == BCE:
            L.append(f"{i2}ok_ = 1.0")
            for j in self.outs:
                L += [f"{i2}if (o{j} >= 0.5) != ({tk[j]} >= 0.5):", f"{i2}    ok_ = 0.0"]
            L.append(f"{i2}{self.at(R.right)} += ok_")
        else:
            o0 = self.outs[0]
            L += [f"{i2}bo_ = 0", f"{i2}bv_ = o{o0}", f"{i2}bt_ = 0", f"{i2}tv_ = t0"]
            for k, j in enumerate(self.outs[1:], 1):
                L += [f"{i2}if o{j} > bv_:", f"{i2}    bo_ = {k}", f"{i2}    bv_ = o{j}",
                      f"{i2}if t{k} > tv_:", f"{i2}    bt_ = {k}", f"{i2}    tv_ = t{k}"]
            L += [f"{i2}if bo_ == bt_:", f"{i2}    {self.at(R.right)} += 1.0"]
        return L

    def evaluate_fn(self):
        """``_evaluate(Xe, Te, S, c)``: sums of E and correct samples (counted in float64:
        exact) of the chunk's networks over (Xe, Te) into the tot and right rows."""
        q = "q"
        L = ["@njit(cache=True, nogil=True, error_model=\"numpy\")",
             "def _evaluate(Xe, Te, S, c):",
             f"    for {q} in range({self.C}):",
             f"        {self.at(self.R.tot)} = 0.0",
             f"        {self.at(self.R.right)} = 0.0",
             "    for i in range(Xe.shape[0]):"]
        L += [f"        x{a} = Xe[i, {a}]" for a in range(self.n_in)]
        L += [f"        t{k} = Te[i, {k}]" for k in range(len(self.outs))]
        L += self.forward("        ", True, True)
        L += self.eval_loss("        ")
        return L

    def train_fn(self, penal):
        R, C, m = self.R, self.C, self.net.n_edges
        name = "train_chunk_l2" if penal else "train_chunk"
        nb = [e for e in range(m) if int(self.src[e]) != self.bias]
        L = ["@njit(cache=True, nogil=True, error_model=\"numpy\")",
             f"def {name}(X, T, Xt, Tt, mode, perms, seeds, states, lrs, decs, skip_zero, W,",
             "        k0, c, first, epochs, stopped, loss_tr, acc_tr, loss_te, acc_te, sq,",
             "        snaps):",
             f'    """Epochs first+1 .. first+epochs of the networks k0 .. k0+c-1 (c <= {C}),'
             ' as',
             '    neurosim.kernels.many.train_many does them (see plan_many.train_doc)."""',
             "    n = X.shape[0]",
             f"    S = np.zeros({R.total * C})",
             f"    pm = np.empty(n * {C}, np.int64)",
             "    row = np.empty(n, np.int64)",
             f"    st = np.zeros(({C}, R.STATE_WORDS), np.uint64)",
             f"    for q in range({C}):",
             "        k = k0 + (q if q < c else 0)      # lanes past c: copies, never active",
             f"        for e in range({m}):",
             f"            S[e * {C} + q] = W[e, k]",
             f"        {self.at(R.lr)} = lrs[k]",
             f"        {self.at(R.dec)} = decs[k]",
             "    if mode == 2:",
             "        for q in range(c):",
             "            if first == 0:",
             "                R.seed(seeds[k0 + q], st, q)",
             "            else:",
             "                for a in range(R.STATE_WORDS):",
             "                    st[q, a] = states[k0 + q, a]",
             "    shared = mode == 3",
             "    if shared:",
             "        if first == 0:",
             "            R.seed(seeds[0], st, 0)",
             "        else:",
             "            for a in range(R.STATE_WORDS):",
             "                st[0, a] = states[k0, a]",
             "    for e_ in range(-1 if first == 0 else 0, epochs):",
             "        ep = first + e_ + 1",
             "        if e_ >= 0:",
             "            if mode == 0:",
             "                for s in range(n):",
             f"                    for q in range({C}):",
             f"                        pm[s * {C} + q] = s",
             "            elif mode == 1:",
             "                P = perms.shape[0]",
             "                for s in range(n):",
             f"                    for q in range({C}):",
             f"                        pm[s * {C} + q] = perms[(k0 + (q if q < c else 0)) % P,"
             " e_, s]",
             "            else:",
             "                for q in range(1 if shared else c):",
             "                    R.shuffle_row(st, q, row, n)",
             "                    for s in range(n):",
             f"                        pm[s * {C} + q] = row[s]",
             "                for s in range(n):",
             f"                    for q in range(1 if shared else c, {C}):",
             f"                        pm[s * {C} + q] = pm[s * {C}]",
             f"            for q in range({C}):",
             f"                {self.at(R.act)} = 1.0 if q < c and stopped[k0 + q] < 0 else 0.0",
             "            for s in range(n):",
             f"                for q in range({C}):",
             f"                    i = pm[s * {C} + q]"]
        L += [f"                    {self.at(R.o[a])} = X[i, {a}]" for a in range(self.n_in)]
        L += [f"                    {self.at(R.t[j])} = T[i, {k}]"
              for k, j in enumerate(self.outs)]
        L += self.forward("                ", False, False)
        L += self.train_loss_loop("                ")
        L += self.backward("                ", penal)
        L += ["        _evaluate(X, T, S, c)",
              "        for q in range(c):",
              "            k = k0 + q",
              "            if e_ >= 0 and stopped[k] >= 0:",
              "                loss_tr[k, ep] = loss_tr[k, ep - 1]",
              "                acc_tr[k, ep] = acc_tr[k, ep - 1]",
              "                sq[k, ep] = sq[k, ep - 1]",
              "            else:",
              f"                loss_tr[k, ep] = {self.at(R.tot)} / n",
              f"                acc_tr[k, ep] = {self.at(R.right)} / n",
              "                s2 = 0.0"]
        L += [f"                s2 += {self.at(R.w[e])} * {self.at(R.w[e])}" for e in nb]
        L += ["                sq[k, ep] = s2",
              "        if Xt.shape[0] > 0:",
              "            _evaluate(Xt, Tt, S, c)",
              "            for q in range(c):",
              "                k = k0 + q",
              "                if e_ >= 0 and stopped[k] >= 0:",
              "                    loss_te[k, ep] = loss_te[k, ep - 1]",
              "                    acc_te[k, ep] = acc_te[k, ep - 1]",
              "                else:",
              f"                    loss_te[k, ep] = {self.at(R.tot)} / Xt.shape[0]",
              f"                    acc_te[k, ep] = {self.at(R.right)} / Xt.shape[0]",
              "        if e_ >= 0:",
              "            for q in range(c):",
              "                k = k0 + q",
              "                if stopped[k] < 0:",
              "                    ok = np.isfinite(loss_tr[k, ep])",
              f"                    for e in range({m}):",
              f"                        if not np.isfinite(S[e * {C} + q]):",
              "                            ok = False",
              "                    if not ok:",
              "                        stopped[k] = ep",
              "            if snaps.shape[0] > 0:",
              "                for q in range(c):",
              f"                    for e in range({m}):",
              f"                        snaps[ep, k0 + q, e] = S[e * {C} + q]",
              "    for q in range(c):",
              f"        for e in range({m}):",
              f"            W[e, k0 + q] = S[e * {C} + q]",
              "        for a in range(R.STATE_WORDS):",
              "            states[k0 + q, a] = st[0 if shared else q, a]"]
        return L


def train_doc():
    """What the generated ``train_chunk`` (and ``train_chunk_l2``) does.

    ``W`` (n_edges, k) is trained in place for the networks ``k0 .. k0+c-1``; epoch 0 (the
    weights as given) is evaluated first when ``first == 0``. ``mode`` gives the data
    orders: 0 the samples in order, 1 network k visits ``perms[k % len(perms), e]`` in
    epoch ``first+e+1``, 2 network k draws its own from ``default_rng(seeds[k])`` (the
    generator's state kept in ``states[k]`` between calls), 3 one order for all, drawn
    from ``default_rng(seeds[0])``. ``lrs``, ``decs`` (lr * l2), ``skip_zero``,
    ``stopped`` and the history arrays are those of :func:`neurosim.kernels.many.train_many`.
    """


def source(net, C=None):
    """The generated kernels for ``net`` as Python source: ``train_chunk``,
    ``train_chunk_l2`` and ``_evaluate``, ``C`` networks a chunk (:func:`chunk_for`)."""
    C = chunk_for(net) if C is None else int(C)
    g = _Gen(net, C)
    L = g.evaluate_fn() + ["", ""] + g.train_fn(False) + ["", ""] + g.train_fn(True)
    head = [f'"""Generated by neurosim.kernels.plan_many for {net!r}, {C} networks a chunk; '
            'do not edit."""',
            "import math", "", "import numpy as np", "from numba import njit", "",
            "from neurosim.kernels import rng as R",
            "from neurosim.kernels.neuron import activate, bce_loss, derivative, output_terms",
            "", f"C = {C}", f"LOSS = {net.loss}                      # {LOSS_NAMES[net.loss]}"]
    head += [f"{g.code[v]} = {v}" for v in sorted(ACTIVATION_NAMES)]
    return "\n".join(head) + "\n\n\n" + "\n".join(L) + "\n"


_KEYS = {}          # topology -> (key, source): every Network of one shape shares them
_LOADED = {}


def _shape(net):
    return (net.n_inputs, net.dtype.str, int(net.loss), net.src.tobytes(), net.dst.tobytes(),
            net.act.tobytes(), net.output_idx.tobytes())


def _keyed(net):
    shape = _shape(net)
    ks = _KEYS.get(shape)
    if ks is None:
        text = source(net)
        key = hashlib.sha256((_VERSION + planner._neuron_source() + _rng_source()
                              + text).encode()).hexdigest()[:20]
        ks = _KEYS[shape] = (key, text)
    return ks


def _rng_source():
    """rng.py's source, part of the key (the generated file imports it: see
    ``planner._neuron_source``)."""
    global _RNG_SRC
    if _RNG_SRC is None:
        from . import rng
        with open(rng.__file__, encoding="utf-8") as f:
            _RNG_SRC = f.read()
    return _RNG_SRC


_RNG_SRC = None


def loaded(net):
    """Whether this process already holds the generated kernels for ``net``'s shape."""
    return _keyed(net)[0] in _LOADED


def _path(net):
    return os.path.join(planner.cache_dir(), f"many_{_keyed(net)[0]}.py")


def on_disk(net):
    """Whether this machine's cache holds the generated source for ``net``'s shape (Numba's
    machine code for it lies beside it once a call has run)."""
    return os.path.exists(_path(net))


def kernels(net):
    """The compiled generated module for ``net``'s topology, activations and loss
    (compiled once per machine, then loaded from Numba's cache): ``.train_chunk``,
    ``.train_chunk_l2``, ``.C``."""
    key, text = _keyed(net)
    mod = _LOADED.get(key)
    if mod is not None:
        return mod
    path = _path(net)
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    mod_name = f"neurosim_plan_many_{key}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = mod
    spec.loader.exec_module(mod)
    _LOADED[key] = mod
    return mod


__all__ = ["MAX_EDGES", "MIN_STEPS", "ENABLED", "chunk_for", "fits", "source", "kernels",
           "loaded", "on_disk", "train_doc"]
