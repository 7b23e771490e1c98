"""The network as an explicit edge list: names, roles, weights and the kernels' index arrays.

A :class:`Network` is a directed acyclic graph of named neurons and one weight per edge.
Everything the kernels need is a plain NumPy array built here once: roles, activation
codes, the edge list ``(src, dst, w)`` in canonical order, and the indexes that turn each
pass into a loop over contiguous memory.

Conventions
-----------
* Neuron order: the inputs (in the order given), then the bias neuron (index ``n_inputs``,
  output always 1 -- the bias trick), then every other neuron in a topological order (ties
  broken by first appearance). So the compute order of the forward pass is simply
  ``range(first, n_neurons)`` and the backward pass runs it in reverse.
* Edge order: sorted by destination, then source. The incoming edges of neuron ``j`` are
  ``in_ptr[j]:in_ptr[j+1]``; maximal stretches of them whose sources are consecutive
  neurons form *runs* (``run_ptr``, ``run_edge``, ``run_src``, ``run_len``), so a fully
  connected layer is one contiguous dot product / axpy. The outgoing edges of ``i`` are
  ``out_edge[out_ptr[i]:out_ptr[i+1]]``.
* Edge names: the weight from A to C is ``"AC"`` when every neuron name (the bias
  included) is one character long, as in the chapter; otherwise it is ``"A->C"``
  (e.g. ``"h1_0->h2_3"``). :meth:`Network.weight` accepts the ``"A->C"`` form always.
"""
from __future__ import annotations

import re

import numpy as np
from numba import njit

from .checks import as_float, check_positive, check_seed
from .kernels.neuron import (ACTIVATIONS, ACTIVATION_NAMES, BCE, BIAS, HIDDEN, INPUT, LOSSES,
                             LOSS_NAMES, OUTPUT, ROLE_NAMES, SIGMOID, SOFTMAX_CE, IDENTITY)

INITS = ("normal", "glorot", "he")
#: Edges (and neurons) a network may have: indexes are int64, but the limit is what a
#: request can sensibly mean -- 2**31 edges already take ~170 GB to build.
MAX_EDGES = 2 ** 31
_NAME_RE = re.compile(r"[^\s>-]\S*")       # fullmatch: "A\n" is not a name


def _check_name(name):
    if not isinstance(name, str) or not name or "->" in name or not _NAME_RE.fullmatch(name):
        raise ValueError(f"bad neuron name {name!r}: names are non-empty strings without "
                         "whitespace, not starting with '-' or '>' and without '->'")
    return name


def _activation_code(name, who):
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r} for {who}; "
                         f"choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class Network:
    """A feed-forward network of named neurons joined by weighted edges.

    Build one with :meth:`from_edges`, :meth:`layered` or a preset in
    :mod:`neurosim.presets`; the constructor itself is internal.

    Attributes
    ----------
    neuron_names : list of str
        In internal order (inputs, bias, then topological order).
    edge_names : list of str
        In canonical edge order (by destination, then source); ``weights[k]`` belongs
        to ``edge_names[k]``.
    weights : ndarray, shape (n_edges,)
        The live weight array (writing to it changes the network).
    z, outs, deltas : ndarray, shape (n_neurons,)
        Net input, output and delta (dE/d output) of every neuron from the last
        forward/backward pass (see :func:`neurosim.forward`, :func:`neurosim.backward`).
    dedz : ndarray, shape (n_neurons,), or None
        dE/dz = f'(z) * delta of every neuron from the last backward pass (None before
        one, and after a forward pass until the next backward); the gradient of edge
        i->j is ``outs[i] * dedz[j]``.
    topo : tuple
        The index arrays the kernels take as one bundle: ``(n_inputs, act, is_output,
        output_idx, run_ptr, run_edge, run_src, run_len, out_ptr, out_edge, src, dst)``.
    """

    # Caches built on first use, kept out of the instance __dict__ (so vars(net), which
    # snapshots and comparisons look at, is the same whether or not they were built).
    __slots__ = ("__dict__", "__weakref__", "_edge_name_cache")

    def __init__(self, names, roles, act, src, dst, w, loss, bias_name, dtype=np.float64):
        self.dtype = np.dtype(dtype)
        self._names = list(names)
        self.index = {nm: i for i, nm in enumerate(self._names)}
        self.roles = np.array(roles, dtype=np.int8)      # copies: copy() shares nothing
        self.act = np.array(act, dtype=np.int8)
        self.loss = int(loss)
        self.bias_name = bias_name
        n = len(self._names)
        self.n_neurons = n
        self.n_inputs = int(np.sum(self.roles == INPUT))
        self.bias = self.n_inputs
        self.first = self.n_inputs + 1
        self.input_idx = np.arange(self.n_inputs, dtype=np.int64)
        self.output_idx = np.flatnonzero(self.roles == OUTPUT).astype(np.int64)
        self.is_output = (self.roles == OUTPUT).astype(np.bool_)
        src = np.array(src, dtype=np.int64)
        dst = np.array(dst, dtype=np.int64)
        w = np.array(w, dtype=self.dtype)
        if not _sorted_by_dst_src(src, dst, n):    # layered nets and loads already are
            order = np.lexsort((src, dst))
            src, dst, w = src[order], dst[order], w[order]
        self.src, self.dst, self.weights = src, dst, w
        self._build_indexes()
        single = all(len(nm) == 1 for nm in self._names)
        self._sep = "" if single else "->"
        self.z = np.zeros(n, dtype=self.dtype)
        self.outs = np.zeros(n, dtype=self.dtype)
        self.deltas = np.zeros(n, dtype=self.dtype)
        self.outs[self.bias] = 1.0
        self.dedz = None
        self._set_topo()

    def _set_topo(self):
        self.topo = (self.n_inputs, self.act, self.is_output, self.output_idx, self.run_ptr,
                     self.run_edge, self.run_src, self.run_len, self.out_ptr, self.out_edge,
                     self.src, self.dst)

    # -- edge names, built on first use (a list of millions of strings is slow) ------
    @property
    def _edge_names(self):
        try:
            return self._edge_name_cache
        except AttributeError:
            pass
        names = np.array(self._names, dtype=object)
        sep = self._sep
        cache = [f"{a}{sep}{b}" for a, b in zip(names[self.src].tolist(),
                                                names[self.dst].tolist())]
        self._edge_name_cache = cache
        return cache

    @property
    def edge_index(self):
        """Read-only mapping edge name -> edge index (both ``"AC"`` and ``"A->C"`` for
        one-character names), looked up from the edge arrays without a dict of names."""
        return _EdgeIndex(self)

    def _find_edge(self, name):
        """Index of edge ``name`` or -1."""
        if not isinstance(name, str):
            return -1
        if "->" in name:
            s, d = name.split("->", 1)
        elif self._sep == "" and len(name) == 2:
            s, d = name[0], name[1]
        else:
            return -1
        i, j = self.index.get(s), self.index.get(d)
        if i is None or j is None:
            return -1
        lo, hi = int(self.in_ptr[j]), int(self.in_ptr[j + 1])
        k = lo + int(np.searchsorted(self.src[lo:hi], i))
        return k if k < hi and self.src[k] == i else -1

    # -- indexes ---------------------------------------------------------------------
    def _build_indexes(self):
        n, src, dst = self.n_neurons, self.src, self.dst
        counts = np.bincount(dst, minlength=n)
        self.in_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=self.in_ptr[1:])
        # runs: consecutive edges of one destination whose sources are consecutive
        brk = np.ones(len(src), dtype=bool)
        if len(src):
            brk[1:] = (dst[1:] != dst[:-1]) | (src[1:] != src[:-1] + 1)
        starts = np.flatnonzero(brk)
        ends = np.append(starts[1:], len(src))
        self.run_edge = starts.astype(np.int64)
        self.run_src = src[starts].astype(np.int64) if len(src) else np.zeros(0, np.int64)
        self.run_len = (ends - starts).astype(np.int64)
        run_counts = np.bincount(dst[starts], minlength=n) if len(src) else np.zeros(n, int)
        self.run_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(run_counts, out=self.run_ptr[1:])
        # outgoing edges (for gathers in the backward pass), in edge order per source
        self.out_edge = _stable_order(src, n)
        self.out_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=self.out_ptr[1:])
        # topological levels: neurons of one level never feed each other
        level = np.zeros(n, dtype=np.int64)
        for j in range(self.first, n):
            e0, e1 = self.in_ptr[j], self.in_ptr[j + 1]
            level[j] = 1 + (level[src[e0:e1]].max() if e1 > e0 else 0)
        self.level = level

    # -- construction ----------------------------------------------------------------
    @classmethod
    def from_edges(cls, edges, *, inputs, outputs, hidden=None, activation="identity",
                   output_activation=None, loss="quadratic", bias="b", init="normal",
                   scale=0.05, seed=None, dtype=np.float64):
        """Build a network from an explicit edge list.

        Parameters
        ----------
        edges : iterable
            Each item is ``(src, dst)`` or ``(src, dst, weight)`` with neuron names, or a
            string ``"src->dst"`` (or ``"AC"`` when both names are one character). The bias
            neuron is named by ``bias``; an edge from it is a bias.
        inputs, outputs : list of str
            Input and output neuron names (outputs must not feed other neurons).
        hidden : list of str, optional
            The hidden neurons. If omitted, every other name used in ``edges`` is hidden
            (in natural name order, so the order of ``edges`` never matters);
            if given, any other name is an error.
        activation : str or dict
            Activation of hidden neurons (``identity``, ``relu``, ``leaky_relu``,
            ``sigmoid``, ``tanh``), or a dict ``{neuron: activation}`` overriding per neuron.
        output_activation : str, optional
            Activation of output neurons (default: ``sigmoid`` for ``loss="bce"``,
            otherwise ``identity``).
        loss : {"quadratic", "bce", "softmax_ce"}
            ``bce`` needs sigmoid outputs; ``softmax_ce`` identity outputs (logits), two
            or more of them.
        bias : str
            Name of the bias neuron (output always 1).
        init : {"normal", "glorot", "he"}
            For edges without an explicit weight: ``normal`` is N(0, scale) (the book's
            Keras ``normal`` initialiser, scale 0.05), ``glorot`` uniform, ``he`` normal.
            Bias edges start at 0.
        seed : int or numpy Generator, optional
        dtype : float64 or float32

        Raises
        ------
        ValueError
            For a cycle, a duplicate edge, an unknown neuron, an edge into an input or the
            bias, an edge out of an output, or an output that no input reaches. The error
            names the offending neurons or edges.
        """
        inputs = [_check_name(s) for s in _as_list(inputs, "inputs")]
        outputs = [_check_name(s) for s in _as_list(outputs, "outputs")]
        bias = _check_name(bias)
        dtype = _check_common(loss, init, dtype)
        scale = check_positive(scale, "scale")
        check_seed(seed)
        if not inputs or not outputs:
            raise ValueError("a network needs at least one input and one output")
        declared = inputs + outputs + [bias]
        dup = sorted({s for s in declared if declared.count(s) > 1})
        if dup:
            raise ValueError(f"neurons declared twice (inputs/outputs/bias): {dup}")
        pairs, given = _parse_edges(edges)
        if hidden is None:
            seen = []
            known = set(declared)
            for s, d in pairs:
                for nm in (s, d):
                    if nm not in known:
                        known.add(nm)
                        seen.append(_check_name(nm))
            hidden = sorted(seen, key=_natural_key)   # independent of the edges' order
        else:
            hidden = [_check_name(s) for s in _as_list(hidden, "hidden")]
            clash = sorted(set(hidden) & set(declared))
            if clash or len(set(hidden)) != len(hidden):
                raise ValueError(f"hidden neurons repeated or also declared elsewhere: "
                                 f"{clash or sorted({h for h in hidden if hidden.count(h) > 1})}")
            known = set(declared) | set(hidden)
            unknown = sorted({nm for p in pairs for nm in p if nm not in known})
            if unknown:
                raise ValueError(f"edges name unknown neurons: {unknown}")
        names = inputs + [bias] + hidden + outputs
        idx = {nm: i for i, nm in enumerate(names)}
        src = np.array([idx[s] for s, d in pairs], dtype=np.int64)
        dst = np.array([idx[d] for s, d in pairs], dtype=np.int64)
        w = np.full(len(pairs), np.nan)
        for k, val in given.items():
            w[k] = val
        return cls._assemble(names, len(inputs), len(outputs), src, dst, w, activation,
                             output_activation, loss, init, scale, seed, dtype)

    @classmethod
    def _from_index_arrays(cls, neurons, src, dst, w, *, inputs, outputs, hidden,
                           activation, loss, bias, dtype):
        """:meth:`from_edges` for edges given as index arrays into ``neurons`` (what a
        saved file holds), checked the same way without a Python object per edge."""
        inputs = [_check_name(s) for s in _as_list(inputs, "inputs")]
        outputs = [_check_name(s) for s in _as_list(outputs, "outputs")]
        hidden = [_check_name(s) for s in _as_list(hidden, "hidden")]
        bias = _check_name(bias)
        dtype = _check_common(loss, "normal", dtype)
        if not inputs or not outputs:
            raise ValueError("a network needs at least one input and one output")
        names = inputs + [bias] + hidden + outputs
        pos = {nm: i for i, nm in enumerate(names)}
        if len(pos) != len(names) or sorted(neurons) != sorted(names):
            raise ValueError("the neurons must be the inputs, the bias, the hidden and the "
                             "output neurons, each once")
        remap = np.array([pos[nm] for nm in neurons], dtype=np.int64)
        src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
        if len(src) and (min(src.min(), dst.min()) < 0
                         or max(src.max(), dst.max()) >= len(neurons)):
            raise ValueError("edge indexes out of range")
        w = np.asarray(w, dtype=float)
        if not np.all(np.isfinite(w)):
            raise ValueError("edge weights must be finite")
        return cls._assemble(names, len(inputs), len(outputs), remap[src], remap[dst], w,
                             activation, None, loss, "normal", 0.05, None, dtype)

    @classmethod
    def _assemble(cls, names, n_in, n_out, src, dst, w, activation, output_activation,
                  loss, init, scale, seed, dtype):
        """Validate integer edge arrays over ``names`` = inputs + [bias] + hidden + outputs
        (vectorised, so layered nets with millions of edges build fast) and reorder
        the non-input neurons topologically. ``w`` holds NaN where init should fill."""
        n = len(names)
        bias = n_in
        is_out = np.zeros(n, dtype=bool)
        is_out[n - n_out:] = True
        ename = lambda k: f"{names[src[k]]}->{names[dst[k]]}"
        if not _sorted_by_dst_src(src, dst, n):    # sorted and strictly increasing: no dups
            key = dst * n + src
            order = np.argsort(key, kind="stable")
            ks = key[order]
            dup = np.flatnonzero(ks[1:] == ks[:-1])
            if len(dup):
                bad = sorted({ename(k) for k in order[dup]})
                raise ValueError("duplicate edges: " + ", ".join(bad[:20]))
            del key, order, ks
        for mask, what in ((dst <= bias, "edges into an input or the bias neuron"),
                           (is_out[src], "edges out of an output neuron (outputs must be sinks)"),
                           (src == dst, "self-loops (a cycle)")):
            if np.any(mask):
                raise ValueError(what + ": " + ", ".join(ename(k) for k in np.flatnonzero(mask)[:20]))
        # topological order of the non-input neurons (Kahn; ties by given order)
        rest = np.arange(n_in + 1, n)
        if np.all((src < dst) | (src <= bias)):
            topo = rest
        else:
            topo = _topological(n, n_in + 1, src, dst, names)
        perm = np.concatenate([np.arange(n_in + 1), topo])   # new -> old
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)                              # old -> new
        if topo is not rest:
            names = [names[i] for i in perm]
            is_out = is_out[perm]
            src, dst = inv[src], inv[dst]
        # every output must be reachable from some input
        reach = np.zeros(n, dtype=bool)
        reach[:n_in] = True
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(dst, minlength=n), out=ptr[1:])
        s_sorted = src if np.all(dst[1:] >= dst[:-1]) else src[_stable_order(dst, n)]
        for j in range(n_in + 1, n):
            reach[j] = reach[s_sorted[ptr[j]:ptr[j + 1]]].any()
        unreached = [names[j] for j in np.flatnonzero(is_out & ~reach)]
        if unreached:
            raise ValueError(f"outputs with no path from any input: {unreached}")
        roles = np.full(n, HIDDEN, dtype=np.int8)
        roles[:n_in] = INPUT
        roles[bias] = BIAS
        roles[is_out] = OUTPUT
        # activations
        if output_activation is None:
            output_activation = "sigmoid" if loss == "bce" else "identity"
        per = activation if isinstance(activation, dict) else {}
        hid_default = "identity" if isinstance(activation, dict) else activation
        hid_code = _activation_code(hid_default, "hidden neurons")
        out_code = _activation_code(output_activation, "output neurons")
        act = np.full(n, IDENTITY, dtype=np.int8)
        act[roles == HIDDEN] = hid_code
        act[roles == OUTPUT] = out_code
        pos = {nm: i for i, nm in enumerate(names)}
        unknown = sorted(k for k in per if k not in pos or pos[k] <= bias)
        if unknown:
            raise ValueError(f"activation given for neurons that are not hidden/outputs: {unknown}")
        for nm, a in per.items():
            act[pos[nm]] = _activation_code(a, nm)
        lcode = LOSSES[loss]
        if lcode == BCE and np.any(act[is_out] != SIGMOID):
            raise ValueError("loss='bce' needs sigmoid output neurons")
        if lcode == SOFTMAX_CE and np.any(act[is_out] != IDENTITY):
            raise ValueError("loss='softmax_ce' applies the softmax itself: output neurons "
                             "must have the identity activation (their outputs are logits)")
        if lcode == SOFTMAX_CE and n_out < 2:
            raise ValueError("loss='softmax_ce' needs two or more output neurons (the softmax "
                             "of one logit is always 1: nothing to learn); use 'bce'")
        w = np.asarray(w, dtype=float)
        fill = np.isnan(w)
        if np.any(fill):
            w = w.copy()
            w[fill] = _init_weights(src, dst, bias, init, scale, seed, n)[fill]
        if not np.all(np.isfinite(w)):
            raise ValueError("edge weights must be finite")
        if not np.all(_finite_in(w, dtype)):
            raise ValueError(f"edge weights too large for {dtype.name}")
        return cls(names, roles, act, src, dst, w, lcode, names[bias], dtype)

    @classmethod
    def layered(cls, sizes, *, hidden="relu", output=None, loss="quadratic", init="normal",
                scale=0.05, seed=None, dtype=np.float64, names=None, bias="bias"):
        """A fully connected layered network, e.g. ``Network.layered([2, 4, 4, 1])``.

        Neurons are named ``x0, x1`` (inputs), ``h1_0 ...`` (hidden layer 1), ``y0 ...``
        (outputs) unless ``names`` gives one list of names per layer. Every non-input
        neuron gets a bias edge from the bias neuron. Other parameters as in
        :meth:`from_edges` (``output`` is the output activation).
        """
        try:
            sizes = list(sizes)
        except TypeError:
            raise ValueError(f"sizes must be a list of layer sizes, got {sizes!r}") from None
        check_seed(seed)
        if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer))
                                 or s < 1 for s in sizes):
            raise ValueError(f"sizes must be >= 2 positive integers, got {sizes}")
        sizes = [int(s) for s in sizes]
        m = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])) - 1
        if m >= MAX_EDGES:
            many = m if m < 10 ** 15 else "over 10**15"
            raise ValueError(f"these sizes make {many} edges; at most {MAX_EDGES} are "
                             "supported")
        if names is None:
            names = [[f"x{i}" for i in range(sizes[0])]]
            names += [[f"h{l}_{i}" for i in range(s)] for l, s in enumerate(sizes[1:-1], 1)]
            names += [[f"y{i}" for i in range(sizes[-1])]]
        else:
            if isinstance(names, str) or not hasattr(names, "__iter__"):
                raise ValueError(f"names must be one list of names per layer, got {names!r}")
            names = list(names)
            if any(isinstance(l, str) or not hasattr(l, "__iter__") for l in names):
                raise ValueError("names must be one list of names per layer")
            names = [list(l) for l in names]
            if [len(l) for l in names] != sizes:
                raise ValueError(f"names must have one list per layer with sizes {sizes}")
        flat = [_check_name(nm) for layer in names for nm in layer]
        all_names = flat[:sizes[0]] + [_check_name(bias)] + flat[sizes[0]:]
        if len(set(all_names)) != len(all_names):
            raise ValueError("neuron names must be unique")
        _check_common(loss, init, dtype)
        scale = check_positive(scale, "scale")
        starts = np.cumsum([0, sizes[0] + 1] + sizes[1:-1])   # first index of each layer
        srcs, dsts = [], []
        for l in range(1, len(sizes)):
            prev = np.arange(starts[l - 1], starts[l - 1] + sizes[l - 1])
            prev = np.concatenate([[sizes[0]], prev]) if l > 1 else np.arange(sizes[0] + 1)
            cur = np.arange(starts[l], starts[l] + sizes[l])
            srcs.append(np.tile(prev, len(cur)))
            dsts.append(np.repeat(cur, len(prev)))
        src, dst = np.concatenate(srcs), np.concatenate(dsts)
        return cls._assemble(all_names, sizes[0], sizes[-1], src, dst,
                             np.full(len(src), np.nan), hidden, output, loss, init, scale,
                             seed, np.dtype(dtype))

    # -- access by name --------------------------------------------------------------
    @property
    def neuron_names(self):
        return list(self._names)

    @property
    def edge_names(self):
        return list(self._edge_names)

    @property
    def n_edges(self):
        return len(self.src)

    @property
    def loss_name(self):
        return LOSS_NAMES[self.loss]

    @property
    def output_names(self):
        return [self._names[i] for i in self.output_idx]

    @property
    def input_names(self):
        return [self._names[i] for i in self.input_idx]

    def activation(self, neuron):
        """Name of a neuron's activation function."""
        return ACTIVATION_NAMES[int(self.act[self.neuron(neuron)])]

    def role(self, neuron):
        return ROLE_NAMES[int(self.roles[self.neuron(neuron)])]

    def neuron(self, name):
        """Index of a neuron by name."""
        try:
            return self.index[name]
        except (KeyError, TypeError):
            raise KeyError(f"no neuron {name!r}; " + _listing(
                name, self._names, "neurons")) from None

    def edge(self, name):
        """Index of an edge by name (``"AC"`` or ``"A->C"``)."""
        k = self._find_edge(name)
        if k < 0:
            raise KeyError(f"no edge {name!r}; " + self._edge_hint(name)) from None
        return k

    def _edge_hint(self, name):
        """The edges, or a few close matches and the count: a network with millions of
        edges must not build a message listing them all."""
        m = self.n_edges
        if m <= 50:
            return f"edges are {self._edge_names}"
        close = []
        if isinstance(name, str):
            if "->" in name:
                s, d = name.split("->", 1)
            elif self._sep == "" and len(name) == 2:
                s, d = name[0], name[1]
            else:
                s, d = name, ""
            # candidates: the edges of the neurons the name's parts are closest to
            near = set()
            for part in (s, d):
                near.update(_close(part, self._names, 2))
            cands = set()
            for nm in near:
                j = self.index[nm]
                cands.update(range(int(self.in_ptr[j]), int(self.in_ptr[j + 1])))
                cands.update(int(e) for e in self.out_edge[self.out_ptr[j]:self.out_ptr[j + 1]])
            sep = self._sep
            names = {f"{self._names[self.src[k]]}{sep}{self._names[self.dst[k]]}"
                     for k in sorted(cands)[:20000]}
            close = _close(name, sorted(names), 5)
        like = f"{self._names[self.src[0]]}{self._sep}{self._names[self.dst[0]]}"
        hint = f"closest: {close}; " if close else ""
        return f"{hint}the network has {m} edges, named like {like!r}"

    def weight(self, name):
        """The weight of edge ``name``, e.g. ``net.weight("AC")``."""
        return float(self.weights[self.edge(name)])

    def set_weight(self, name, value):
        """Set the weight of edge ``name``."""
        k = self.edge(name)
        value = as_float(value, "weight")
        if not np.isfinite(value):
            raise ValueError(f"weight must be finite, got {value}")
        if not _finite_in(value, self.dtype):
            raise ValueError(f"weight {value} is too large for {self.dtype.name}")
        self.weights[k] = value

    def output(self, name):
        """Output of neuron ``name`` from the last forward pass."""
        return float(self.outs[self.neuron(name)])

    def delta(self, name):
        """Delta (dE/d output) of neuron ``name`` from the last backward pass."""
        return float(self.deltas[self.neuron(name)])

    def incoming(self, name):
        """Edge indexes into neuron ``name``."""
        j = self.neuron(name)
        return list(range(self.in_ptr[j], self.in_ptr[j + 1]))

    def outgoing(self, name):
        """Edge indexes out of neuron ``name``."""
        i = self.neuron(name)
        return [int(e) for e in self.out_edge[self.out_ptr[i]:self.out_ptr[i + 1]]]

    # -- copies ----------------------------------------------------------------------
    def copy(self):
        """An independent copy (weights and state)."""
        return self.astype(self.dtype)

    def astype(self, dtype):
        """A copy with weights and state in ``dtype`` (float64 or float32).

        A copy of the arrays (the indexes are not rebuilt), including the state of the
        last forward/backward pass."""
        dtype = _as_dtype(dtype)
        net = object.__new__(Network)
        for k, v in vars(self).items():
            if isinstance(v, np.ndarray):
                v = v.astype(dtype) if k in _FLOAT_STATE else v.copy()
            elif isinstance(v, (list, dict)):
                v = type(v)(v)
            setattr(net, k, v)
        net.dtype = dtype
        net._set_topo()                                # over the copy's own arrays
        try:
            net._edge_name_cache = self._edge_name_cache      # immutable once built
        except AttributeError:
            pass
        return net

    def edges(self):
        """The edge list as ``[(src, dst, weight), ...]`` in canonical order."""
        return [(self._names[s], self._names[d], float(w))
                for s, d, w in zip(self.src, self.dst, self.weights)]

    def __repr__(self):
        hid = int(np.sum(self.roles == HIDDEN))
        acts = sorted({ACTIVATION_NAMES[int(a)] for a in self.act[self.first:]})
        nb = int(np.sum(self.src == self.bias))
        def n(k, word):
            return f"{k} {word}" + ("" if k == 1 else "s")
        m = len(self.output_idx)
        return (f"Network({n(self.n_inputs, 'input')}, {hid} hidden, {n(m, 'output')}; "
                f"{n(self.n_edges, 'edge')} ({nb} {'bias' if nb == 1 else 'biases'}); "
                f"depth {int(self.level.max(initial=0))}; "
                f"{'activation' if len(acts) == 1 else 'activations'} {', '.join(acts)}; "
                f"loss {self.loss_name}; {self.dtype.name})")

    def __len__(self):
        return self.n_edges


_FLOAT_STATE = ("weights", "z", "outs", "deltas", "dedz")


class _EdgeIndex:
    """``net.edge_index``: a read-only mapping edge name -> index over the edge arrays."""
    __slots__ = ("_net",)

    def __init__(self, net):
        self._net = net

    def __contains__(self, name):
        return self._net._find_edge(name) >= 0

    def __getitem__(self, name):
        k = self._net._find_edge(name)
        if k < 0:
            raise KeyError(name)
        return k

    def get(self, name, default=None):
        k = self._net._find_edge(name)
        return default if k < 0 else k

    def __iter__(self):
        net = self._net
        yield from net._edge_names
        if net._sep == "":
            for s, d in zip(net.src, net.dst):
                yield f"{net._names[s]}->{net._names[d]}"

    def keys(self):
        return list(self)

    def __len__(self):
        return self._net.n_edges * (2 if self._net._sep == "" else 1)


def _close(name, names, k):
    """Up to ``k`` of ``names`` closest to ``name`` (difflib), [] if none is close."""
    import difflib
    if not isinstance(name, str):
        return []
    return difflib.get_close_matches(name, names, n=k, cutoff=0.6)


def _listing(name, names, what):
    """All ``names`` when few, else a few close matches and the count."""
    if len(names) <= 50:
        return f"{what} are {names}"
    close = _close(name, names, 5)
    hint = f"closest: {close}; " if close else ""
    return f"{hint}the network has {len(names)} {what}"


def _sorted_by_dst_src(src, dst, n):
    """Whether the edges are already in canonical order (by destination, then source)."""
    if len(src) < 2:
        return True
    key = dst * n + src
    return bool(np.all(key[1:] > key[:-1]))


def _stable_order(keys, n):
    """``np.argsort(keys, kind="stable")`` for integer keys in ``0..n-1``, as a counting
    sort: linear in the number of keys (no comparison sort of millions of edges)."""
    counts = np.bincount(keys, minlength=n)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return _counting_sort(np.ascontiguousarray(keys, dtype=np.int64), start[:-1].copy())


@njit(cache=True)
def _counting_sort(keys, start):
    """Stable order of ``keys`` given each key's first slot ``start`` (advanced in place)."""
    order = np.empty(keys.shape[0], dtype=np.int64)
    for e in range(keys.shape[0]):
        k = keys[e]
        order[start[k]] = e
        start[k] += 1
    return order


def _finite_in(w, dtype):
    """Whether (finite) values stay finite in ``dtype`` (1e39 does not in float32)."""
    with np.errstate(over="ignore"):
        return np.isfinite(np.asarray(w, dtype=dtype))


def _check_common(loss, init, dtype):
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
    if not isinstance(init, str) or init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {list(INITS)}")
    return _as_dtype(dtype)


def _as_dtype(dtype):
    """float64 or float32 as a numpy dtype, or ValueError (None is not a dtype here,
    though numpy reads it as float64)."""
    try:
        dt = np.dtype(dtype) if dtype is not None else None
    except (TypeError, ValueError):
        dt = None
    if dt is None or dt not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, not {dtype!r}")
    return dt


def _natural_key(name):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name)]


def _as_list(x, what):
    if isinstance(x, str):
        return [x]
    try:
        return list(x)
    except TypeError:
        raise ValueError(f"{what} must be a list of neuron names, got {x!r}") from None


def _parse_edges(edges):
    if isinstance(edges, (str, bytes)) or not hasattr(edges, "__iter__"):
        raise ValueError("edges must be an iterable of (src, dst[, weight]) or 'src->dst'")
    pairs, given = [], {}
    for k, e in enumerate(edges):
        weight = None
        if isinstance(e, str):
            if "->" in e:
                s, d = e.split("->", 1)
            elif len(e) == 2:
                s, d = e[0], e[1]
            else:
                raise ValueError(f"cannot read edge {e!r}: write 'src->dst' or two "
                                 "one-character names like 'AC'")
        else:
            try:
                e = tuple(e)
            except TypeError:
                raise ValueError(f"cannot read edge {e!r}") from None
            if len(e) == 2:
                s, d = e
            elif len(e) == 3:
                s, d, weight = e
            else:
                raise ValueError(f"cannot read edge {e!r}: expected (src, dst[, weight])")
        if not isinstance(s, str) or not isinstance(d, str):
            raise ValueError(f"edge {e!r}: neuron names must be strings")
        if weight is not None:
            given[k] = as_float(weight, f"edge {s}->{d}: weight")
            if not np.isfinite(given[k]):       # NaN would otherwise mean "initialise me"
                raise ValueError(f"edge {s}->{d}: weight must be finite, got {weight!r}")
        pairs.append((s, d))
    return pairs, given


def _topological(n, first, src, dst, names):
    """Kahn's algorithm over neurons ``first..n-1`` (ties: given order); raises naming a cycle."""
    import heapq
    indeg = np.bincount(dst, minlength=n)
    indeg[:first] = 0
    order = np.argsort(src, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    succ = dst[order]
    for i in range(first):                      # inputs and bias are ready already
        np.subtract.at(indeg, succ[ptr[i]:ptr[i + 1]], 1)
    ready = [j for j in range(first, n) if indeg[j] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        j = heapq.heappop(ready)
        out.append(j)
        for d in succ[ptr[j]:ptr[j + 1]]:
            indeg[d] -= 1
            if indeg[d] == 0:
                heapq.heappush(ready, int(d))
    if len(out) < n - first:
        left = [names[j] for j in range(first, n) if indeg[j] > 0]
        raise ValueError(f"the edges contain a cycle through neurons {left}")
    return np.array(out, dtype=np.int64)


def _init_weights(src, dst, bias, init, scale, seed, n):
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    is_bias = src == bias
    fan_in = np.bincount(dst[~is_bias], minlength=n).astype(float)
    fan_out = np.bincount(src[~is_bias], minlength=n).astype(float)
    m = len(src)
    if init == "normal":
        w = rng.normal(0.0, scale, m)
    elif init == "glorot":
        # a dense layer's fan_in + fan_out: the inputs of the edge's destination plus the
        # neurons its source feeds (the width of the layer the edge belongs to)
        lim = np.sqrt(6.0 / np.maximum(fan_in[dst] + fan_out[src], 1.0))
        w = rng.uniform(-1.0, 1.0, m) * lim
    else:  # he
        w = rng.normal(0.0, 1.0, m) * np.sqrt(2.0 / np.maximum(fan_in[dst], 1.0))
    w[is_bias] = 0.0
    return w
