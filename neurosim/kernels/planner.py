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

import numpy as np

from .neuron import (ACTIVATION_NAMES, BCE, IDENTITY, LOSS_NAMES, RELU, SOFTMAX_CE)

#: Networks with at most this many edges get a generated kernel; larger ones run the
#: general kernels (measured: docs/kernels.md, "The planner").
MAX_EDGES = 256

_VERSION = "1"                     # bump when the generated code's shape changes


_OURS = {"X", "T", "perm", "lr", "skip_zero", "w", "total", "updates", "want_E", "s", "i",
         "E", "mx", "se", "lse", "s_", "d_", "e_", "g_", "st_", "F", "LOSS", "BCE", "np",
         "math", "njit", "activate", "derivative", "output_terms"}


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


def source(net, name="sgd_epoch"):
    """The generated per-sample SGD epoch for ``net`` as Python source (a string).

    ``name(X, T, perm, lr, skip_zero, w) -> (sum of E, updates)``, the contract of
    ``kernels.cpu.train_epoch`` with ``batch_size=1`` for this one network.
    """
    names = _names(net)
    n, n_in = net.n_neurons, net.n_inputs
    src, dst, act = net.src, net.dst, net.act
    edge = net.edge_names
    outs = [int(j) for j in net.output_idx]
    is_out = net.is_output
    F = "F"                                        # the network's dtype, a cast
    code_name = {v: f"A_{ACTIVATION_NAMES[v].upper()}" for v in ACTIVATION_NAMES}
    L = [f"@njit(cache=True, nogil=True, error_model=\"numpy\")",
         f"def {name}(X, T, perm, lr, skip_zero, w):",
         f'    """Per-sample SGD epoch of a {net!r}; returns (sum of E, updates)."""',
         "    total = 0.0",
         "    updates = 0",
         f"    want_E = skip_zero or LOSS != BCE",
         "    for s in range(perm.shape[0]):",
         "        i = perm[s]",
         "        # forward: each neuron's net input, in edge order, then its activation"]
    for a in range(n_in):
        L.append(f"        {names[a]}o = X[i, {a}]")
    L.append(f"        {names[n_in]}o = {F}(1.0)                       # the bias neuron")
    for j in range(n_in + 1, n):
        ins = np.flatnonzero(dst == j)
        L.append("        s_ = 0.0")
        for e in ins:
            L.append(f"        s_ += w[{e}] * {names[src[e]]}o" + " " * max(1, 22 - len(
                f"s_ += w[{e}] * {names[src[e]]}o")) + f"# {edge[e]}")
        L.append(f"        z{names[j]} = {F}(s_)")
        if act[j] == RELU:
            L.append(f"        {names[j]}o = {F}(s_ if s_ > 0.0 else 0.0 * s_)")
        elif act[j] == IDENTITY:
            L.append(f"        {names[j]}o = {F}(s_)")
        else:
            L.append(f"        {names[j]}o = {F}(activate({code_name[act[j]]}, s_))")
    L.append("        # the error at the outputs, and each output's delta and dE/dz")
    L.append("        E = 0.0")
    if net.loss == SOFTMAX_CE:
        L.append("        mx = -np.inf")
        for j in outs:
            L.append(f"        if {names[j]}o > mx:")
            L.append(f"            mx = {names[j]}o")
        L.append("        se = 0.0")
        for j in outs:
            L.append(f"        se += math.exp({names[j]}o - mx)")
        L.append("        lse = mx + math.log(se)")
        for k, j in enumerate(outs):
            L.append(f"        E -= T[i, {k}] * ({names[j]}o - lse)")
            L.append(f"        d_ = math.exp({names[j]}o - lse) - T[i, {k}]")
            L.append(f"        {names[j]}d = {F}(d_)")
            L.append(f"        {names[j]}g = {F}(d_)")
    else:
        for k, j in enumerate(outs):
            L.append(f"        e_, d_, g_ = output_terms(LOSS, {code_name[act[j]]}, z{names[j]}, "
                     f"{names[j]}o, T[i, {k}], want_E)")
            L.append("        E += e_")
            L.append(f"        {names[j]}d = {F}(d_)")
            L.append(f"        {names[j]}g = {F}(g_)")
    L += ["        total += E",
          "        if skip_zero and E == 0.0:",
          "            continue",
          "        # backward: deltas flow left from the last neuron to the first; each weight",
          "        # changes right after its term of the delta is taken (pre-update weights)"]
    hidden = [j for j in range(n_in + 1, n) if not is_out[j]]
    for j in hidden:
        L.append(f"        {names[j]}d = {F}(0.0)")
    for j in range(n - 1, n_in, -1):
        if not is_out[j]:
            L.append(f"        {names[j]}g = {F}(derivative({code_name[act[j]]}, z{names[j]}, "
                     f"{names[j]}o) * {names[j]}d)")
        ins = np.flatnonzero(dst == j)
        L.append(f"        if {names[j]}g != 0.0:" + ("                    # g = dE/dz = f′(z)·δ"
                                                     if j == n - 1 else ""))
        L.append(f"            st_ = lr * {names[j]}g")
        for e in ins:
            sj = int(src[e])
            if sj > n_in and not is_out[sj]:
                ln = f"            {names[sj]}d += w[{e}] * {names[j]}g"
                L.append(ln + " " * max(1, 32 - len(ln)) + f"# {names[sj]}δ += {edge[e]}·"
                         f"{names[j]}g")
            L.append(f"            w[{e}] -= st_ * {names[sj]}o" + " " * max(1, 20 - len(
                f"w[{e}] -= st_ * {names[sj]}o")) + f"# {edge[e]} -= η·{names[sj]}o·"
                f"{names[j]}g")
    L += ["        updates += 1",
          "    return total, updates"]
    head = [f'"""Generated by neurosim.kernels.planner for {net!r} '
            f'({net.dtype.name}, loss {LOSS_NAMES[net.loss]}); do not edit."""',
            "import math", "", "import numpy as np", "from numba import njit", "",
            "from neurosim.kernels.neuron import activate, derivative, output_terms", "",
            f"F = np.{net.dtype.name}",
            f"LOSS = {net.loss}",
            f"BCE = {BCE}"]
    head += [f"{code_name[v]} = {v}" for v in sorted(ACTIVATION_NAMES)]
    return "\n".join(head) + "\n\n\n" + "\n".join(L) + "\n"


def fits(net):
    """Whether ``net`` gets a generated kernel (small enough)."""
    return net.n_edges <= MAX_EDGES


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


def epoch_kernel(net):
    """The compiled generated epoch for ``net``'s topology, activations, loss and dtype
    (compiled once per machine, then loaded from Numba's cache)."""
    text = source(net)
    key = hashlib.sha256((_VERSION + _neuron_source() + text).encode()).hexdigest()[:20]
    fn = _LOADED.get(key)
    if fn is not None:
        return fn
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
    _LOADED[key] = fn = mod.sgd_epoch
    return fn
