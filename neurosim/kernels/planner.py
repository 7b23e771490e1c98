"""The kernel planner: per-sample SGD written out for one network, from its edge list.

:func:`source` emits Python whose every edge is a literal index and every neuron's z, o,
delta and dE/dz a local variable -- for the four-neuron net it is the chapter's arithmetic
written as code -- in exactly the order of :func:`neurosim.kernels.cpu.train_epoch`, so the
results are the same bits. :func:`epoch_kernel` compiles it once per machine: the source is
written to a cache folder under a hash of itself and Numba caches the machine code beside it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import tempfile
import weakref

import numpy as np

from .neuron import (ACTIVATION_NAMES, BCE, IDENTITY, LOSS_NAMES, RELU, SIGMOID,
                     SOFTMAX_CE)

#: Networks with at most this many edges get a generated kernel; larger ones run the
#: general kernels (compile time grows with the edges: docs/kernels.md, "The planner").
MAX_EDGES = 128

#: A training call generates (or loads) a kernel only for at least this many sample steps
#: (epochs x samples): below it the one-off compile of a new shape (1-5 s) costs more than
#: it saves, and the general kernel, compiled once for every network, runs instead.
MIN_STEPS = 20_000

#: Above MAX_EDGES and up to this many edges the generated kernels are loops, one per
#: dense block with literal trip counts and offsets (docs/kernels.md, "The planner").
MAX_LOOP_EDGES = 16_384

#: ... and with at most this many literal loops (runs summed over the dense blocks): a
#: sparse net, whose neurons each have their own scattered runs, would be thousands of
#: loops of a few iterations -- a source of 10^5 lines that compiles for minutes.
MAX_LOOP_RUNS = 256

#: ... and whose longest row (a neuron's incoming edges) has at most this many edges: the
#: loop shape wins where rows are short (deep 2+8x16+1, rows of 17: 1.3-1.4x the dense
#: loop, 2.3-2.5x the general kernel); on 2-64-64-1 (rows of 65) it measured 0.83-1.0x the
#: general kernel, whose four-row groups vectorise the long rows as well.
MAX_LOOP_ROW = 32

#: A loop-shape kernel is generated (or loaded) only for a training call of at least this
#: many edge steps (edges x epochs x samples), or when this process already has it.
MIN_LOOP_EDGE_STEPS = 5e9

#: False: never generate kernels (every network runs the general kernels).
ENABLED = True

_VERSION = "5"                     # bump when the generated code's shape changes


_OURS = {"X", "T", "perm", "lr", "skip_zero", "w", "total", "updates", "want_E", "s", "i",
         "E", "mx", "decay", "se", "lse", "s_", "d_", "e_", "g_", "st_", "F", "LOSS", "BCE", "np",
         "math", "njit", "activate", "derivative", "output_terms", "right", "ok_", "bo_", "bv_",
         "bt_", "tv_", "ex_", "t_", "l_", "p_", "W", "loss_out", "right_out", "r", "evaluate"}


def _names(net):
    """Python identifiers for the neurons: the chapter's names (A -> Ao, zA, Ad, Ag) when
    every derived local is a distinct, non-keyword identifier, else n0, n1, ..."""
    import keyword
    names = [re.sub(r"\W", "_", nm) for nm in net.neuron_names]
    derived = [v for nm in names for v in (nm + "o", "z" + nm, nm + "d", nm + "g")]
    ok = (all(v.isidentifier() and not keyword.iskeyword(v) for v in derived)
          and len(set(derived)) == len(derived) and not set(derived) & _OURS
          and not any(v.startswith("A_") for v in derived))
    return names if ok else [f"n{j}" for j in range(len(names))]


def _shares_exp(net):
    """Whether an evaluation can take a sigmoid output's e^-|z| once for both its output and
    its bce error: in float64, where the output's exp and the loss's see the same z (in
    float32 the loss takes z rounded to float32, the activation the float64 sum)."""
    return net.loss == BCE and net.dtype == np.float64


def _forward(net, names, code_name, shared_exp=False):
    """Lines of one sample forward (sample row ``i`` of X), in the general kernel's order.
    With ``shared_exp`` each sigmoid output keeps ``ex_<k> = e^-|z|`` for the loss
    (the same bits: ``neuron.activate`` takes e^-z for z >= 0, e^z below)."""
    outs = {int(j): k for k, j in enumerate(net.output_idx)}
    n, n_in, src, dst, act, edge = (net.n_neurons, net.n_inputs, net.src, net.dst, net.act,
                                    net.edge_names)
    L = ["        # forward: each neuron's net input, in edge order, then its activation"]
    for a in range(n_in):
        L.append(f"        {names[a]}o = X[i, {a}]")
    L.append(f"        {names[n_in]}o = F(1.0)                       # the bias neuron")
    for j in range(n_in + 1, n):
        L.append("        s_ = 0.0")
        for e in np.flatnonzero(dst == j):
            ln = f"        s_ += w[{e}] * {names[src[e]]}o"
            L.append(ln + " " * max(1, 30 - len(ln)) + f"# {edge[e]}")
        L.append(f"        z{names[j]} = F(s_)")
        if shared_exp and j in outs and act[j] == SIGMOID:
            k = outs[j]
            L += [f"        ex{k}_ = math.exp(-abs(s_))          # e^-|z|, once",
                  f"        {names[j]}o = F(1.0 / (1.0 + ex{k}_) if s_ >= 0.0 else "
                  f"ex{k}_ / (1.0 + ex{k}_))"]
        elif act[j] == RELU:
            L.append(f"        {names[j]}o = F(s_ if s_ > 0.0 else 0.0 * s_)")
        elif act[j] == IDENTITY:
            L.append(f"        {names[j]}o = F(s_)")
        else:
            L.append(f"        {names[j]}o = F(activate({code_name[act[j]]}, s_))")
    return L


def _loss(net, names, code_name, want_E, shared_exp=False):
    """Lines of the error E at the outputs and each output's delta and dE/dz, as
    ``cpu.output_deltas`` computes them; with ``shared_exp`` (an evaluation: E alone) the
    bce error ``t softplus(-z) + (1 - t) softplus(z)`` from the output's ``e^-|z|``
    (``neuron.softplus(x)`` is ``x + log1p(e^-x)`` for x > 0, ``log1p(e^x)`` else)."""
    outs = [int(j) for j in net.output_idx]
    act = net.act
    L = ["        # the error at the outputs, and each output's delta and dE/dz",
         "        E = 0.0"]
    if net.loss == SOFTMAX_CE:
        L.append("        mx = -np.inf")
        for j in outs:
            L += [f"        if {names[j]}o > mx:", f"            mx = {names[j]}o"]
        L.append("        se = 0.0")
        L += [f"        se += math.exp({names[j]}o - mx)" for j in outs]
        L.append("        lse = mx + math.log(se)")
        for k, j in enumerate(outs):
            L += [f"        E -= T[i, {k}] * ({names[j]}o - lse)",
                  f"        d_ = math.exp({names[j]}o - lse) - T[i, {k}]",
                  f"        {names[j]}d = F(d_)", f"        {names[j]}g = F(d_)"]
        return L
    if shared_exp:
        for k, j in enumerate(outs):
            L += [f"        t_ = np.float64(T[i, {k}])",
                  f"        l_ = math.log1p(ex{k}_)",
                  "        e_ = 0.0",
                  "        if t_ != 0.0:",
                  f"            e_ += t_ * ((-z{names[j]} + l_) if -z{names[j]} > 0.0 else l_)",
                  "        if t_ != 1.0:",
                  f"            e_ += (1.0 - t_) * ((z{names[j]} + l_) if z{names[j]} > 0.0 "
                  "else l_)",
                  "        E += e_"]
        return L
    for k, j in enumerate(outs):
        L += [f"        e_, d_, g_ = output_terms(LOSS, {code_name[act[j]]}, z{names[j]}, "
              f"{names[j]}o, T[i, {k}], {want_E})",
              "        E += e_", f"        {names[j]}d = F(d_)", f"        {names[j]}g = F(g_)"]
    return L


def _correct(net, names):
    """Lines adding 1 to ``right`` if sample i is classified right (``cpu.correct``)."""
    outs = [int(j) for j in net.output_idx]
    if len(outs) == 1 or net.loss == BCE:
        L = ["        ok_ = 1"]
        for k, j in enumerate(outs):
            L += [f"        if ({names[j]}o >= 0.5) != (T[i, {k}] >= 0.5):",
                  "            ok_ = 0"]
        return L + ["        right += ok_"]
    L = ["        bo_ = 0", f"        bv_ = {names[outs[0]]}o", "        bt_ = 0",
         "        tv_ = T[i, 0]"]
    for k, j in enumerate(outs[1:], 1):
        L += [f"        if {names[j]}o > bv_:", f"            bo_ = {k}",
              f"            bv_ = {names[j]}o", f"        if T[i, {k}] > tv_:",
              f"            bt_ = {k}", f"            tv_ = T[i, {k}]"]
    return L + ["        if bo_ == bt_:", "            right += 1"]


def _sgd(net, names, code_name, penal, running=False):
    """Lines of the per-sample SGD epoch ``sgd_epoch`` or, with ``penal``, its L2-penalised
    twin ``sgd_epoch_l2`` (``decay = lr * l2``), as ``cpu.train_epoch`` runs them: each
    non-bias weight's share ``decay * w`` is taken before the backward pass (from the
    weights before the step) and subtracted after its data part. With ``running``:
    ``sgd_running`` / ``sgd_running_l2`` (``cpu.running_epoch``), which always sum the
    error and also count the samples classified right before their step."""
    n, n_in = net.n_neurons, net.n_inputs
    src, dst, act = net.src, net.dst, net.act
    edge = net.edge_names
    is_out = net.is_output
    penalised = [int(e) for e in range(net.n_edges) if src[e] != n_in] if penal else []
    fn = ("sgd_running" if running else "sgd_epoch") + ("_l2" if penal else "")
    ret = "(sum of E, updates, right)" if running else "(sum of E, updates)"
    if penal:
        head = [f"def {fn}(X, T, perm, lr, decay, skip_zero, w):",
                '    """Per-sample SGD over X[perm] with the L2 penalty l2/2 * sum of the'
                ' non-bias',
                f'    w^2 (decay = lr * l2); returns {ret}."""']
    else:
        head = [f"def {fn}(X, T, perm, lr, skip_zero, w):",
                f'    """Per-sample SGD over X[perm]; returns {ret}."""']
    L = ["@njit(cache=True, nogil=True, error_model=\"numpy\")"] + head + [
         "    total = 0.0",
         "    updates = 0",
         *([f"    p_ = np.zeros({max(1, len(penalised))}, F)   # the penalty's shares"]
           if penal else []),
         *(["    right = 0", "    want_E = True"] if running else
           ["    want_E = skip_zero or LOSS != BCE"]),
         "    for s in range(perm.shape[0]):",
         "        i = perm[s]"]
    L += _forward(net, names, code_name) + _loss(net, names, code_name, "want_E")
    if running:
        L += _correct(net, names)
    L += ["        total += E",
          "        if skip_zero and E == 0.0:",
          "            continue"]
    if penal:
        L += ["        # the penalty's share of each non-bias weight's step, from w before it",
              "        # (decay 0: none at all, the bits of sgd_epoch)",
              "        if decay != 0.0:"]
        for k, e in enumerate(penalised):
            ln = f"            p_[{k}] = decay * w[{e}]"
            L.append(ln + " " * max(1, 34 - len(ln)) + f"# η·λ·{edge[e]}")
    L += ["        # backward: deltas flow left from the last neuron to the first; each weight",
          "        # changes right after its term of the delta is taken (pre-update weights)"]
    for j in range(n_in + 1, n):
        if not is_out[j]:
            L.append(f"        {names[j]}d = F(0.0)")
    for j in range(n - 1, n_in, -1):
        if not is_out[j]:
            L.append(f"        {names[j]}g = F(derivative({code_name[act[j]]}, z{names[j]}, "
                     f"{names[j]}o) * {names[j]}d)")
        note = "                    # g = dE/dz = f′(z)·δ" if j == n - 1 else ""
        L.append(f"        if {names[j]}g != 0.0:" + note)
        L.append(f"            st_ = lr * {names[j]}g")
        for e in np.flatnonzero(dst == j):
            sj = int(src[e])
            if sj > n_in and not is_out[sj]:
                ln = f"            {names[sj]}d += w[{e}] * {names[j]}g"
                L.append(ln + " " * max(1, 32 - len(ln)) + f"# {names[sj]}δ += {edge[e]}·"
                         f"{names[j]}g")
            ln = f"            w[{e}] -= st_ * {names[sj]}o"
            L.append(ln + " " * max(1, 32 - len(ln)) + f"# {edge[e]} -= η·{names[sj]}o·"
                     f"{names[j]}g")
    if penal:
        L += ["        # then the penalty: AC <- (AC - η·Ao·Cg) - η·λ·AC",
              "        if decay != 0.0:"]
        L += [f"            w[{e}] -= p_[{k}]" for k, e in enumerate(penalised)]
    return L + ["        updates += 1",
                "    return total, updates, right" if running else "    return total, updates"]


def source(net):
    """The generated kernels for ``net`` as Python source (a string):

    * ``sgd_epoch(X, T, perm, lr, skip_zero, w) -> (sum of E, updates)``, the contract of
      ``kernels.cpu.train_epoch`` with ``batch_size=1``;
    * ``sgd_epoch_l2(X, T, perm, lr, decay, skip_zero, w)``, the same with the L2 penalty
      (``decay = lr * l2``; with ``decay == 0`` exactly ``sgd_epoch`` at its speed, so
      ``train`` runs this one whatever l2 is and l2 = 0 and l2 > 0 share one compilation;
      Numba compiles each function only when it is first called);
    * ``sgd_running``, ``sgd_running_l2``: the two with ``cpu.running_epoch``'s contract
      (the error always summed, and the samples classified right before their step
      counted: ``(sum of E, updates, right)``);
    * ``evaluate(X, T, w, total, right) -> (sum of E, correct samples)``, that of
      ``kernels.cpu.evaluate``, and ``evaluate_rows(X, T, W, loss_out, right_out)``, it for
      each row of ``W`` (the weights of every epoch) in one call.
    """
    code_name = {v: f"A_{ACTIVATION_NAMES[v].upper()}" for v in ACTIVATION_NAMES}
    consts = []
    if shape(net) == "loops":
        L, consts = _loops_source(net)
    else:
        names = _names(net)
        L = []
        for running in (False, True):
            for penal in (False, True):
                L += _sgd(net, names, code_name, penal, running) + ["", ""]
        L += ["@njit(cache=True, nogil=True, error_model=\"numpy\")",
              "def evaluate(X, T, w, total, right):",
              '    """Sum of the error and number of correct samples over (X, T), added to'
              ' total and right."""',
              "    for i in range(X.shape[0]):"]
        L += _forward(net, names, code_name, shared_exp=_shares_exp(net))
        L += _loss(net, names, code_name, "True", shared_exp=_shares_exp(net))
        L += ["        total += E"] + _correct(net, names) + ["    return total, right"]
        L += _rows_lines()
    head = [f'"""Generated by neurosim.kernels.planner for {net!r}; do not edit."""',
            "import math", "", "import numpy as np", "from numba import njit", "",
            "from neurosim.kernels.neuron import activate, derivative, output_terms", "",
            f"F = np.{net.dtype.name}",
            f"LOSS = {net.loss}                      # {LOSS_NAMES[net.loss]}",
            f"BCE = {BCE}"]
    head += [f"{code_name[v]} = {v}" for v in sorted(ACTIVATION_NAMES)] + consts
    return "\n".join(head) + "\n\n\n" + "\n".join(L) + "\n"


def _rows_lines():
    return ["",
            "",
            "@njit(cache=True, nogil=True, error_model=\"numpy\")",
            "def evaluate_rows(X, T, W, loss_out, right_out):",
            '    """evaluate() with each row of W in turn: loss_out[r], right_out[r] = its sum'
            ' of E',
            '    and correct samples over (X, T)."""',
            "    for r in range(W.shape[0]):",
            "        loss_out[r], right_out[r] = evaluate(X, T, W[r], 0.0, 0)"]


_SHAPES = weakref.WeakKeyDictionary()    # Network -> "loops" or "none" (its blocks counted)


def shape(net):
    """``"unrolled"`` (every edge written out) up to :data:`MAX_EDGES` edges, ``"loops"``
    (one literal loop per dense block) above, ``None`` past :data:`MAX_LOOP_EDGES` edges
    or :data:`MAX_LOOP_RUNS` loops or rows of more than :data:`MAX_LOOP_ROW` edges (the
    general kernels run)."""
    if net.n_edges <= MAX_EDGES:
        return "unrolled"
    if net.n_edges > MAX_LOOP_EDGES:
        return None
    cached = _SHAPES.get(net)
    if cached is None:
        blocks = _blocks(net)
        loops = sum(len(b[2]) for b in blocks)
        row = max(b[4] for b in blocks)
        ok = loops <= MAX_LOOP_RUNS and row <= MAX_LOOP_ROW
        cached = _SHAPES[net] = "loops" if ok else "none"
    return None if cached == "none" else cached


def fits(net, steps=None):
    """Whether ``net`` gets a generated kernel: small enough, planning enabled, and (when
    ``steps`` is given) a training call of at least :data:`MIN_STEPS` sample steps or a
    kernel this process already has."""
    kind = shape(net) if ENABLED else None
    if kind is None:
        return False
    if steps is None:
        return True
    if kind == "unrolled":
        return steps >= MIN_STEPS or loaded(net)
    return steps * net.n_edges >= MIN_LOOP_EDGE_STEPS or loaded(net)


def loaded(net):
    """Whether this process already holds the generated kernels for ``net``'s shape."""
    return _keyed(net)[0] in _LOADED


_KEYS = weakref.WeakKeyDictionary()      # Network -> (key, source); nothing stored on it
_BY_SHAPE = {}                           # shape signature -> (key, source)


def _signature(net):
    """What the generated source depends on: topology, activations, loss, dtype and the
    names its comments and locals use (not the weights)."""
    return (shape(net), net.dtype.str, int(net.loss), int(net.n_inputs), net.src.tobytes(),
            net.dst.tobytes(), net.act.tobytes(), net.output_idx.tobytes(),
            tuple(net.neuron_names))


def _keyed(net):
    """``(key, source)`` of ``net``'s generated kernels, made once per shape (a copy of a
    network, or a new one of the same shape, finds it; weights are not in the source)."""
    ks = _KEYS.get(net)
    if ks is None or ks[2] != shape(net):
        sig = _signature(net)
        ks = _BY_SHAPE.get(sig)
        if ks is None:
            text = source(net)
            ks = _BY_SHAPE[sig] = (_key(text), text, sig[0])
        _KEYS[net] = ks
    return ks


def _key(text):
    return hashlib.sha256((_VERSION + _neuron_source() + text).encode()).hexdigest()[:20]


def cache_dir():
    """Where generated kernels live: ``$NEUROSIM_CACHE_DIR``, else the user's cache folder
    (``$XDG_CACHE_HOME/neurosim`` or ``~/.cache/neurosim``), else a temporary folder."""
    d = os.environ.get("NEUROSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "neurosim")
    path = os.path.join(d, "kernels")
    try:
        os.makedirs(path, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    path = os.path.join(tempfile.gettempdir(), "neurosim-kernels")
    os.makedirs(path, exist_ok=True)
    return path


_LOADED = {}


def _neuron_source():
    """The source of kernels/neuron.py, part of a generated kernel's key: the generated
    file only imports ``output_terms`` and friends, and Numba's cache of it (keyed on that
    file alone) would otherwise keep the code they had when it was first compiled."""
    global _NEURON_SRC
    if _NEURON_SRC is None:
        from . import neuron
        with open(neuron.__file__, encoding="utf-8") as f:
            _NEURON_SRC = f.read()
    return _NEURON_SRC


_NEURON_SRC = None


def kernels(net):
    """The compiled generated module for ``net``'s topology, activations, loss and dtype
    (compiled once per machine, then loaded from Numba's cache): ``.sgd_epoch``,
    ``.evaluate``."""
    key, text = _keyed(net)[:2]
    mod = _LOADED.get(key)
    if mod is not None:
        return mod
    path = os.path.join(cache_dir(), f"plan_{key}.py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)                     # atomic: another process may race us
    mod_name = f"neurosim_plan_{key}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = mod
    spec.loader.exec_module(mod)
    _LOADED[key] = mod
    return mod


def epoch_kernel(net):
    """The generated per-sample SGD epoch for ``net`` (see :func:`kernels`)."""
    return kernels(net).sgd_epoch


# ---------------------------------------------------------------------------------------
# the loop shape: for networks above MAX_EDGES, one literal loop per dense block
def _blocks(net):
    """The network's neurons past the bias as *blocks* ``(j0, m, runs, e0, P)``: ``m``
    consecutive neurons with the same activation and role whose incoming runs have the
    same sources, ``runs = [(first source, length, offset in the neuron's edges)]``, and
    whose edges follow each other (``e0 + q * P`` is neuron ``j0 + q``'s first edge): a
    dense layer is one block. Output neurons are blocks of one."""
    n, n_in = net.n_neurons, net.n_inputs
    rp, rs, rl, re_ = net.run_ptr, net.run_src, net.run_len, net.run_edge

    def shape(j):
        runs, off = [], 0
        for r in range(rp[j], rp[j + 1]):
            runs.append((int(rs[r]), int(rl[r]), off))
            off += int(rl[r])
        return tuple(runs), off

    out = []
    j = n_in + 1
    while j < n:
        runs, P = shape(j)
        e0 = int(re_[rp[j]]) if rp[j + 1] > rp[j] else 0
        m = 1
        while (not net.is_output[j] and j + m < n and not net.is_output[j + m]
               and net.act[j + m] == net.act[j] and shape(j + m) == (runs, P) and P > 0
               and int(re_[rp[j + m]]) == e0 + m * P):
            m += 1
        out.append((j, m, runs, e0, P))
        j += m
    return out


def _act_line(code, v, code_name):
    if code == RELU:
        return f"F({v} if {v} > 0.0 else 0.0 * {v})"
    if code == IDENTITY:
        return f"F({v})"
    return f"F(activate({code_name[code]}, {v}))"


def _loops_forward(net, names, code_name, ind, shared_exp=False, rows=4):
    """One sample forward over arrays ``z``, ``o`` (sample ``i``): per block, ``rows``
    neurons at a time, each summing its runs in edge order (literal trip counts and
    offsets); output neurons also get the locals the loss lines use."""
    n_in = net.n_inputs
    outs = {int(j): k for k, j in enumerate(net.output_idx)}
    L = []
    p = " " * ind
    L.append(p + "# forward: each neuron's net input, in edge order, then its activation")
    for a in range(n_in):
        L.append(p + f"o[{a}] = X[i, {a}]")
    L.append(p + f"o[{n_in}] = F(1.0)                       # the bias neuron")
    for j0, m, runs, e0, P in _blocks(net):
        a = net.act[j0]
        if j0 in outs:
            nm = names[j0]
            L.append(p + "s_ = 0.0")
            for S, ln, off in runs:
                if ln == 1:
                    L.append(p + f"s_ += w[{e0 + off}] * o[{S}]")
                else:
                    L += [p + f"for k in range({ln}):",
                          p + f"    s_ += w[{e0 + off} + k] * o[{S} + k]"]
            L.append(p + f"z{nm} = F(s_)")
            if shared_exp and a == SIGMOID:
                k = outs[j0]
                L += [p + f"ex{k}_ = math.exp(-abs(s_))          # e^-|z|, once",
                      p + f"{nm}o = F(1.0 / (1.0 + ex{k}_) if s_ >= 0.0 else "
                      f"ex{k}_ / (1.0 + ex{k}_))"]
            else:
                L.append(p + f"{nm}o = {_act_line(a, 's_', code_name)}")
            L += [p + f"z[{j0}] = z{nm}", p + f"o[{j0}] = {nm}o"]
            continue
        L.append(p + f"# neurons {j0}..{j0 + m - 1}: {m} x {P} weights from w[{e0}]")
        full = m - m % rows if m >= rows else 0
        acc = [f"a{r}_" for r in range(rows)]
        if full:
            L.append(p + f"for q in range(0, {full}, {rows}):")
            L.append(p + f"    e = {e0} + q * {P}")
            L += [p + f"    {v} = 0.0" for v in acc]
            for S, ln, off in runs:
                L.append(p + f"    for k in range({ln}):")
                L.append(p + f"        ok_ = o[{S} + k]")
                L += [p + f"        {v} += w[e + {r * P + off} + k] * ok_"
                      for r, v in enumerate(acc)]
            for r, v in enumerate(acc):
                L += [p + f"    z[{j0} + q + {r}] = F({v})",
                      p + f"    o[{j0} + q + {r}] = {_act_line(a, v, code_name)}"]
        if full < m:
            L.append(p + f"for q in range({full}, {m}):")
            L.append(p + f"    e = {e0} + q * {P}")
            L.append(p + "    s_ = 0.0")
            for S, ln, off in runs:
                L.append(p + f"    for k in range({ln}):")
                L.append(p + f"        s_ += w[e + {off} + k] * o[{S} + k]")
            L += [p + f"    z[{j0} + q] = F(s_)",
                  p + f"    o[{j0} + q] = {_act_line(a, 's_', code_name)}"]
    return L


def _loops_backward(net, code_name, ind):
    """The backward pass over arrays ``d`` (delta), ``g`` (dE/dz): blocks from the last to
    the first, each block's rows from the last to the first (so every source's delta sums
    its consumers' terms from the last to the first, as the general kernel does), a row
    whose dE/dz is 0 skipped; each weight changes right after its term of the delta."""
    n_in = net.n_inputs
    is_out = net.is_output
    p = " " * ind
    L = [p + "# backward: deltas flow left from the last neuron to the first; each weight",
         p + "# changes right after its term of the delta is taken (pre-update weights)"]
    hidden = [j for j in range(n_in + 1, net.n_neurons) if not is_out[j]]
    if hidden:
        a, b = hidden[0], hidden[-1] + 1
        if len(hidden) == b - a:
            L += [p + f"for k in range({a}, {b}):", p + "    d[k] = F(0.0)"]
        else:
            L += [p + f"d[{j}] = F(0.0)" for j in hidden]
    for j0, m, runs, e0, P in reversed(_blocks(net)):
        a = net.act[j0]
        L.append(p + f"for q in range({m - 1}, -1, -1):")
        L.append(p + f"    j = {j0} + q")
        if not is_out[j0]:
            L.append(p + f"    g[j] = derivative({code_name[a]}, z[j], o[j]) * d[j]")
        L += [p + "    gq = g[j]",
              p + "    if gq != 0.0:",
              p + "        st_ = lr * gq",
              p + f"        e = {e0} + q * {P}"]
        for S, ln, off in runs:
            feeds = [S + k for k in range(ln) if S + k > n_in and not is_out[S + k]]
            L.append(p + f"        for k in range({ln}):")
            if feeds:
                L.append(p + f"            d[{S} + k] += w[e + {off} + k] * gq")
            L.append(p + f"            w[e + {off} + k] -= st_ * o[{S} + k]")
    return L


def _loops_sgd(net, code_name, penal, running):
    """The loop shape's ``sgd_epoch`` / ``_l2`` / ``sgd_running`` / ``_l2`` (see :func:`_sgd`)."""
    names = [f"n{j}" for j in range(net.n_neurons)]
    outs = [int(j) for j in net.output_idx]
    fn = ("sgd_running" if running else "sgd_epoch") + ("_l2" if penal else "")
    args = "X, T, perm, lr, decay, skip_zero, w" if penal else "X, T, perm, lr, skip_zero, w"
    L = ["@njit(cache=True, nogil=True, error_model=\"numpy\")", f"def {fn}({args}):",
         f'    """Per-sample SGD over X[perm]{" with the L2 penalty" if penal else ""};'
         f' returns (sum of E, updates{", right" if running else ""})."""',
         f"    z = np.zeros({net.n_neurons}, F)",
         f"    o = np.zeros({net.n_neurons}, F)",
         f"    d = np.zeros({net.n_neurons}, F)",
         f"    g = np.zeros({net.n_neurons}, F)"]
    if penal:
        L.append(f"    p = np.zeros({net.n_edges}, F)")
    L += ["    total = 0.0", "    updates = 0"]
    L += ["    right = 0", "    want_E = True"] if running else [
        "    want_E = skip_zero or LOSS != BCE"]
    L += ["    for s in range(perm.shape[0]):", "        i = perm[s]"]
    L += _loops_forward(net, names, code_name, 8)
    L += _loss(net, names, code_name, "want_E")
    L += [f"        d[{j}] = {names[j]}d" for j in outs]
    L += [f"        g[{j}] = {names[j]}g" for j in outs]
    if running:
        L += _correct(net, names)
    L += ["        total += E", "        if skip_zero and E == 0.0:", "            continue"]
    if penal:
        L += ["        # the penalty's share of each non-bias weight's step, from w before it",
              "        if decay != 0.0:",
              f"            for e in range({net.n_edges}):",
              "                p[e] = 0.0 if NOT_PENALISED[e] else decay * w[e]"]
    L += _loops_backward(net, code_name, 8)
    if penal:
        L += ["        # then the penalty: AC <- (AC - η·Ao·Cg) - η·λ·AC (decay 0: none at all)",
              "        if decay != 0.0:",
              f"            for e in range({net.n_edges}):", "                w[e] -= p[e]"]
    return L + ["        updates += 1",
                "    return total, updates, right" if running else "    return total, updates"]


def _loops_source(net):
    """The loop-shape module (the same functions and contracts as :func:`source`)."""
    code_name = {v: f"A_{ACTIVATION_NAMES[v].upper()}" for v in ACTIVATION_NAMES}
    names = [f"n{j}" for j in range(net.n_neurons)]
    L = []
    for running in (False, True):
        for penal in (False, True):
            L += _loops_sgd(net, code_name, penal, running) + ["", ""]
    sh = _shares_exp(net)
    L += ["@njit(cache=True, nogil=True, error_model=\"numpy\")",
          "def evaluate(X, T, w, total, right):",
          '    """Sum of the error and number of correct samples over (X, T), added to total'
          ' and right."""',
          f"    z = np.zeros({net.n_neurons}, F)",
          f"    o = np.zeros({net.n_neurons}, F)",
          "    for i in range(X.shape[0]):"]
    L += _loops_forward(net, names, code_name, 8, shared_exp=sh)
    L += _loss(net, names, code_name, "True", shared_exp=sh)
    L += ["        total += E"] + _correct(net, names) + ["    return total, right"]
    L += _rows_lines()
    bias = ", ".join("1" if s == net.n_inputs else "0" for s in net.src)
    return L, [f"NOT_PENALISED = np.array([{bias}], dtype=np.bool_)   # bias edges"]
