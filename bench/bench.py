"""Benchmarks: neurosim's kernels beside what people would otherwise use.

Usage:
    python bench/bench.py                  # full run, about 2-5 minutes on 2 cores
    python bench/bench.py --quick          # tiny sizes, seconds (what the tests run)
    python bench/bench.py --out DIR --repeats 5 --only chapter,w256 --skip torch,cold

Options:
    --out DIR       where RESULTS.md, results.json and cups.png go (default: bench; with
                    --quick: neurosim-bench-quick in the system's temp folder, so a quick
                    run never overwrites the committed results)
    --repeats N     timed repeats per system, medians reported with min-max (default 3)
    --only NAMES    comma-separated workloads (chapter, w64, w256, w1024, deep, sparse)
    --skip WHAT     comma-separated: torch, sklearn, numpy, dense, cuda, slow, cold, train
    --quick         tiny workloads, every section still runs (cold start only with --cold)
    --cold          run the cold-start section in --quick mode too

Every system trains the same network (relu hidden layers, one sigmoid output, binary
cross-entropy: the chapter's moons classifier and wider/deeper/sparser relatives) by
per-sample SGD (batch size 1) from the same initial weights, visiting the samples in the
same order (one ``default_rng(0)`` permutation per epoch, the order ``neurosim.train``
uses). One *sample step* is forward + backward + weight change for one sample.
**CUPS** = weights x sample steps / seconds, with the workload's own number of weights
(for the sparse net: the edges that exist) for every system, so CUPS ratios are time
ratios.

Systems (a column is dropped, with a note, when its package is missing):

* ``neurosim`` -- ``kernels.cpu.train_epoch`` called once per epoch (the kernel that
  ``neurosim.train`` runs; evaluation excluded, as in ``History.cups``).
* ``neurosim CUDA`` -- ``neurosim.train(device="cuda")`` (``History.epoch_time``), only
  with a real GPU (never under the CUDA simulator); otherwise "no GPU".
* ``numba dense`` -- a hand-written dense Numba loop over weight matrices (the yardstick
  of issue 2 section 8), dense layers only.
* ``numpy`` -- the obvious NumPy per-sample loop (``W @ h``, ``np.outer``).
* ``torch`` -- idiomatic PyTorch: ``nn.Sequential``, ``BCEWithLogitsLoss``,
  ``optim.SGD``, one sample per step (float64, default thread count).
* ``sklearn`` -- ``MLPClassifier(solver="sgd", batch_size=1, momentum=0, alpha=0,
  learning_rate_init=lr)``; its initialisation and shuffling are its own, so only its
  time is comparable.

Dense peers run the sparse workload as the dense net with the pruned weights held at zero
(a mask on the weight change: numpy, torch) or simply dense (numba dense, sklearn: timing
only). Final weights of neurosim, numpy, torch and numba dense are compared edge by edge
(the agreement check). Systems alternate within each repeat, so load drifts hit all of
them alike; the load average is recorded.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from numba import njit

import neurosim as ns
from neurosim import datasets, presets
from neurosim.backends.cpu import Trainer, no_record, scratch
from neurosim.kernels import planner
from neurosim.graph import Network
from neurosim.kernels import cpu
from neurosim.kernels.neuron import BCE, BIAS, RELU, SIGMOID

SYSTEMS = ("neurosim", "neurosim general", "neurosim CUDA", "numba dense", "numpy", "torch",
           "sklearn")
SKIPPABLE = {"torch", "sklearn", "numpy", "dense", "cuda", "slow", "cold", "train"}
AGREE_TOL = 1e-8          # max |w_system - w_neurosim| / max(1, max |w|) after training


# ---------------------------------------------------------------------------------------
# workloads
@dataclass
class Workload:
    """One benchmark: a network, data, and how long to train."""
    name: str
    label: str
    net: Network
    X: np.ndarray
    y: np.ndarray
    epochs: int
    lr: float
    note: str = ""
    perms: list = field(default_factory=list)

    def __post_init__(self):
        rng = np.random.default_rng(0)          # the order neurosim.train(seed=0) uses
        self.perms = [rng.permutation(len(self.X)) for _ in range(self.epochs)]

    @property
    def steps(self):
        return self.epochs * len(self.X)


def _moons(n):
    d = datasets.moons()
    return np.ascontiguousarray(d.X_train[:n]), np.ascontiguousarray(d.y_train[:n])


def _layered(sizes, seed=0):
    return Network.layered(sizes, hidden="relu", output="sigmoid", loss="bce", init="he",
                           seed=seed)


def sparse_layered(sizes, keep=0.1, seed=0):
    """A layered relu/sigmoid/bce net whose hidden-to-hidden edges are pruned at random,
    keeping a fraction ``keep`` (every neuron keeps at least one); built with
    :meth:`Network.from_edges`. Input, output and bias edges are all kept."""
    rng = np.random.default_rng(seed)
    names = [[f"x{i}" for i in range(sizes[0])]]
    names += [[f"h{l}_{i}" for i in range(s)] for l, s in enumerate(sizes[1:-1], 1)]
    names += [[f"y{i}" for i in range(sizes[-1])]]
    edges = []
    for l in range(1, len(sizes)):
        hidden_pair = 1 < l < len(sizes) - 1
        for d in names[l]:
            edges.append(("bias", d))
            srcs = names[l - 1]
            if hidden_pair:
                pick = rng.random(len(srcs)) < keep
                if not pick.any():
                    pick[rng.integers(len(srcs))] = True
                srcs = [s for s, p in zip(srcs, pick) if p]
            edges += [(s, d) for s in srcs]
    hidden = [nm for layer in names[1:-1] for nm in layer]
    return Network.from_edges(edges, inputs=names[0], outputs=names[-1], hidden=hidden,
                              activation="relu", output_activation="sigmoid", loss="bce",
                              bias="bias", init="he", seed=seed)


def workloads(quick=False):
    """The workloads of issue 6 section 2 (``quick``: tiny versions for the tests)."""
    if quick:
        X, y = _moons(96)
        return [
            Workload("chapter", "2-4-4-1 (chapter)", presets.moons_net(), X, y, 2, 0.05),
            Workload("w64", "2-16-16-1", _layered([2, 16, 16, 1]), X, y, 1, 0.01),
            Workload("deep", "2+3x8+1 (deep)", _layered([2] + [8] * 3 + [1]), X, y, 1, 0.01),
            Workload("sparse", "2-32-32-1, 90% of h-h pruned",
                     sparse_layered([2, 32, 32, 1]), X, y, 1, 0.01),
        ]
    X, y = _moons(None)
    return [
        Workload("chapter", "2-4-4-1 (chapter)", presets.moons_net(), X, y, 16, 0.05,
                 "the book's data, 16 epochs"),
        Workload("w64", "2-64-64-1", _layered([2, 64, 64, 1]), X, y, 1, 0.01),
        Workload("w256", "2-256-256-1", _layered([2, 256, 256, 1]), X, y, 1, 0.01),
        Workload("w1024", "2-1024-1024-1", _layered([2, 1024, 1024, 1]), X[:256], y[:256],
                 1, 0.01, "first 256 samples only (time per step is what counts)"),
        Workload("deep", "2+8x16+1 (deep, narrow)", _layered([2] + [16] * 8 + [1]), X, y,
                 1, 0.01),
        Workload("sparse", "2-256-256-1, 90% of h-h pruned",
                 sparse_layered([2, 256, 256, 1]), X, y, 1, 0.01,
                 "dense peers run the dense net"),
    ]


# ---------------------------------------------------------------------------------------
# the network as dense layers (for the dense peers) and back
class Dense:
    """Weight matrices of a layered network: ``W[l]`` (n_l, n_{l-1}), ``b[l]``, an edge
    mask ``M[l]`` (None when full), and the map back to neurosim's edge order."""

    def __init__(self, net):
        if net.loss != BCE or len(net.output_idx) != 1:
            raise ValueError("the dense peers handle one sigmoid output with bce")
        lvl = net.level.copy()
        lvl[net.roles == BIAS] = -1
        depth = int(lvl.max())
        layers = [np.flatnonzero(lvl == l) for l in range(depth + 1)]
        pos = np.zeros(net.n_neurons, np.int64)
        for ids in layers:
            pos[ids] = np.arange(len(ids))
        for l, ids in enumerate(layers[1:], 1):
            want = SIGMOID if l == depth else RELU
            if np.any(net.act[ids] != want):
                raise ValueError("the dense peers handle relu hidden layers, sigmoid output")
        is_b = net.src == net.bias
        ld = lvl[net.dst]
        if np.any(~is_b & (lvl[net.src] != ld - 1)):
            raise ValueError("not a layered network (an edge skips a layer)")
        self.sizes = [len(ids) for ids in layers]
        self.layer = ld - 1                                 # edge -> weight layer
        self.row = pos[net.dst]
        self.col = np.where(is_b, -1, pos[net.src])
        self.W = [np.zeros((self.sizes[l + 1], self.sizes[l])) for l in range(depth)]
        self.b = [np.zeros(self.sizes[l + 1]) for l in range(depth)]
        self.M = []
        for l in range(depth):
            m = np.zeros_like(self.W[l], dtype=bool)
            sel = (self.layer == l) & ~is_b
            m[self.row[sel], self.col[sel]] = True
            self.M.append(None if m.all() else m)
        self.set(net.weights)

    def set(self, w):
        for l in range(len(self.W)):
            self.W[l][:] = 0.0
            self.b[l][:] = 0.0
        for l in range(len(self.W)):
            sel = self.layer == l
            wb = sel & (self.col < 0)
            ww = sel & (self.col >= 0)
            self.b[l][self.row[wb]] = w[wb]
            self.W[l][self.row[ww], self.col[ww]] = w[ww]

    def edges(self, W=None, b=None):
        """Weights in neurosim's edge order from matrices ``W``, ``b`` (default: own)."""
        W = self.W if W is None else W
        b = self.b if b is None else b
        out = np.empty(len(self.layer))
        for l in range(len(W)):
            sel = self.layer == l
            wb = sel & (self.col < 0)
            ww = sel & (self.col >= 0)
            out[wb] = b[l][self.row[wb]]
            out[ww] = W[l][self.row[ww], self.col[ww]]
        return out


# ---------------------------------------------------------------------------------------
# systems: each runs a whole workload from weights w0 and returns the final edge weights
def run_neurosim(wl, w0, general=False):
    """What ``neurosim.train`` runs per epoch (the planner's generated kernel for a small
    net, the general kernel otherwise; ``general=True``: the general kernel always)."""
    net = wl.net.copy()
    net.weights[:] = w0
    T = wl.y[:, None].copy()
    if general:
        S, rec, grad = scratch(net), no_record(net), np.zeros(net.n_edges)
        t0 = time.perf_counter()
        for p in wl.perms:
            cpu.train_epoch(wl.X, T, p, wl.lr, 0.0, 1, False, net.loss, net.topo, net.weights,
                            S, grad, rec)
        return time.perf_counter() - t0, net.weights.copy()
    tr = Trainer(net, wl.X, T, epochs=wl.epochs)
    t0 = time.perf_counter()
    for p in wl.perms:
        tr.epoch(p, wl.lr)
    return time.perf_counter() - t0, net.weights.copy()


def compile_neurosim(wl):
    """Seconds for the first training call in this process (compiling the kernel that
    ``train`` runs, or loading it from Numba's on-disk cache). A network the planner
    serves gets its generated kernel loaded first: what a training call long enough to
    plan it runs (the loop shape needs 5e9 edge steps, more than a bench workload), so
    the timed Trainer then runs it too."""
    net = wl.net.copy()
    t0 = time.perf_counter()
    if planner.fits(net):
        planner.kernels(net)
    Trainer(net, wl.X, wl.y[:, None].copy(), epochs=wl.epochs)
    return time.perf_counter() - t0


def cuda_usable():
    """None if a real GPU runs neurosim's CUDA kernels, else the reason why not."""
    return ns.backends.real_gpu()


def run_cuda(wl, w0):
    from neurosim import train
    net = wl.net.copy()
    net.weights[:] = w0
    h = train(net, wl.X, wl.y, lr=wl.lr, epochs=wl.epochs, seed=0, device="cuda")
    return float(np.sum(h.epoch_time)), net.weights.copy()


@njit(cache=True, error_model="numpy")
def _dense_epoch(X, y, perm, lr, Ws, bs, hs, ds):
    """The straightforward dense loop: one per-sample pass over fixed-size per-layer
    arrays ``W_l[j, i]``, ``b_l[j]`` (relu hidden layers, one sigmoid output, bce)."""
    L = len(Ws)
    for s in range(perm.shape[0]):
        n = perm[s]
        h = hs[0]
        for i in range(h.shape[0]):
            h[i] = X[n, i]
        for l in range(L):
            W, b, hi, ho = Ws[l], bs[l], hs[l], hs[l + 1]
            for j in range(W.shape[0]):
                acc = b[j]
                for i in range(W.shape[1]):
                    acc += W[j, i] * hi[i]
                if l < L - 1:
                    ho[j] = acc if acc > 0.0 else 0.0
                elif acc >= 0.0:
                    ho[j] = 1.0 / (1.0 + math.exp(-acc))
                else:
                    e = math.exp(acc)
                    ho[j] = e / (1.0 + e)
        dL, hL = ds[L], hs[L]
        for j in range(dL.shape[0]):
            dL[j] = hL[j] - y[n]
        for l in range(L - 1, -1, -1):
            W, b, hi, g, dp = Ws[l], bs[l], hs[l], ds[l + 1], ds[l]
            if l > 0:
                for i in range(dp.shape[0]):
                    dp[i] = 0.0
            for j in range(W.shape[0]):
                gj = g[j]
                if gj == 0.0:
                    continue
                if l > 0:
                    for i in range(W.shape[1]):
                        dp[i] += W[j, i] * gj
                st = lr * gj
                for i in range(W.shape[1]):
                    W[j, i] -= st * hi[i]
                b[j] -= st
            if l > 0:
                for i in range(dp.shape[0]):
                    if hi[i] <= 0.0:
                        dp[i] = 0.0


def run_numba_dense(wl, w0, dense):
    dense.set(w0)
    Ws = tuple(np.ascontiguousarray(W) for W in dense.W)
    bs = tuple(np.ascontiguousarray(b) for b in dense.b)
    hs = tuple(np.zeros(n) for n in dense.sizes)
    ds = tuple(np.zeros(n) for n in dense.sizes)
    t0 = time.perf_counter()
    for p in wl.perms:
        _dense_epoch(wl.X, wl.y, p, wl.lr, Ws, bs, hs, ds)
    t = time.perf_counter() - t0
    return t, dense.edges(list(Ws), list(bs))


def run_numpy(wl, w0, dense):
    """The obvious NumPy loop: one sample at a time, matrix-vector products."""
    dense.set(w0)
    W = [a.copy() for a in dense.W]
    b = [a.copy() for a in dense.b]
    M = dense.M
    X, y, lr = wl.X, wl.y, wl.lr
    last = len(W) - 1
    t0 = time.perf_counter()
    for perm in wl.perms:
        for i in perm:
            hs, zs = [X[i]], []
            for l in range(len(W)):
                z = W[l] @ hs[-1] + b[l]
                zs.append(z)
                hs.append(np.maximum(z, 0.0) if l < last else 1.0 / (1.0 + np.exp(-z)))
            g = hs[-1] - y[i]                       # dE/dz of a sigmoid output under bce
            for l in range(last, -1, -1):
                g_prev = (W[l].T @ g) * (zs[l - 1] > 0.0) if l > 0 else None
                step = lr * np.outer(g, hs[l])
                W[l] -= step if M[l] is None else step * M[l]
                b[l] -= lr * g
                g = g_prev
    return time.perf_counter() - t0, dense.edges(W, b)


def torch_version():
    try:
        import torch
        return torch.__version__
    except ImportError:
        return None


def run_torch(wl, w0, dense):
    """Idiomatic PyTorch, batch size 1: nn.Sequential, BCEWithLogitsLoss, optim.SGD."""
    import torch
    from torch import nn
    dense.set(w0)
    mods = []
    for l, W in enumerate(dense.W):
        mods.append(nn.Linear(W.shape[1], W.shape[0]).double())
        if l < len(dense.W) - 1:
            mods.append(nn.ReLU())
    model = nn.Sequential(*mods)
    lins = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for lin, W, b in zip(lins, dense.W, dense.b):
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
    masks = [(lin.weight, torch.from_numpy(m.astype(np.float64)))
             for lin, m in zip(lins, dense.M) if m is not None]
    opt = torch.optim.SGD(model.parameters(), lr=wl.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    X = torch.from_numpy(wl.X)
    Y = torch.from_numpy(wl.y).reshape(-1, 1)
    t0 = time.perf_counter()
    for perm in wl.perms:
        for i in perm.tolist():
            opt.zero_grad()
            loss = loss_fn(model(X[i:i + 1]), Y[i:i + 1])
            loss.backward()
            for p, m in masks:                      # keep pruned weights pruned
                p.grad.mul_(m)
            opt.step()
    t = time.perf_counter() - t0
    W = [lin.weight.detach().numpy().copy() for lin in lins]
    b = [lin.bias.detach().numpy().copy() for lin in lins]
    return t, dense.edges(W, b)


def run_sklearn(wl, w0, dense):
    """scikit-learn's MLPClassifier, per-sample SGD; its own init and shuffling."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=tuple(dense.sizes[1:-1]), activation="relu",
                        solver="sgd", batch_size=1, learning_rate="constant",
                        learning_rate_init=wl.lr, momentum=0.0, nesterovs_momentum=False,
                        alpha=0.0, max_iter=wl.epochs, shuffle=True, random_state=0,
                        tol=0.0, n_iter_no_change=10 ** 9, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(wl.X, wl.y)
        t = time.perf_counter() - t0
    return t, None


# ---------------------------------------------------------------------------------------
# one workload, every system, interleaved repeats
def bench_workload(wl, repeats, skip, log=print):
    w0 = wl.net.weights.copy()
    try:
        dense = Dense(wl.net)
    except ValueError as exc:
        dense, why = None, str(exc)
    runners = {"neurosim": lambda: run_neurosim(wl, w0)}
    notes = {}
    if planner.fits(wl.net):          # what the generated kernel buys, in the same run
        runners["neurosim general"] = lambda: run_neurosim(wl, w0, general=True)
    if "cuda" not in skip:
        why_not = cuda_usable()
        if why_not is None:
            runners["neurosim CUDA"] = lambda: run_cuda(wl, w0)
        else:
            notes["neurosim CUDA"] = why_not
    if dense is None:
        for s in ("numba dense", "numpy", "torch", "sklearn"):
            notes[s] = f"skipped: {why}"
    else:
        if "dense" not in skip:
            runners["numba dense"] = lambda: run_numba_dense(wl, w0, dense)
        if "numpy" not in skip:
            runners["numpy"] = lambda: run_numpy(wl, w0, dense)
        if "torch" not in skip:
            if torch_version() is None:
                notes["torch"] = "torch not installed (pip install torch)"
            else:
                runners["torch"] = lambda: run_torch(wl, w0, dense)
        if "sklearn" not in skip:
            runners["sklearn"] = lambda: run_sklearn(wl, w0, dense)
    compile_s = compile_neurosim(wl)
    # warm-up (numba compilation, torch's first graph) on a few samples, untimed
    short = Workload(wl.name, wl.label, wl.net, wl.X[:4], wl.y[:4], 1, wl.lr)
    run_numba_dense(short, w0, dense) if "numba dense" in runners else None
    run_torch(short, w0, dense) if "torch" in runners else None
    times = {s: [] for s in runners}
    finals = {}
    for rep in range(repeats):
        for s, fn in runners.items():
            t, w = fn()
            times[s].append(t)
            finals[s] = w
    rows = []
    ref = finals["neurosim"]
    scale = max(1.0, float(np.max(np.abs(ref))))
    agree = {}
    for s in runners:
        w = finals[s]
        if w is None:
            agree[s] = None
        elif dense is not None and s == "numba dense" and any(m is not None for m in dense.M):
            agree[s] = None                         # ran unmasked: timing only
        else:
            agree[s] = float(np.max(np.abs(w - ref))) / scale
    ns_med = float(np.median(times["neurosim"]))
    for s in SYSTEMS:
        if s in runners:
            ts = np.array(times[s])
            med = float(np.median(ts))
            rows.append(dict(
                workload=wl.name, label=wl.label, system=s, weights=wl.net.n_edges,
                samples=len(wl.X), epochs=wl.epochs, steps=wl.steps,
                us_per_step=med / wl.steps * 1e6,
                us_min=float(ts.min()) / wl.steps * 1e6,
                us_max=float(ts.max()) / wl.steps * 1e6,
                cups=wl.net.n_edges * wl.steps / med,
                speedup=med / ns_med, agree=agree[s], note=wl.note,
                jit_s=compile_s if s == "neurosim" else None))
        elif s in notes:
            rows.append(dict(workload=wl.name, label=wl.label, system=s,
                             weights=wl.net.n_edges, note=notes[s]))
    for r in rows:
        if "us_per_step" in r:
            log(f"  {wl.name:8s} {r['system']:14s} {r['us_per_step']:12.4f} us/step "
                f"{r['cups']:10.3g} CUPS  x{r['speedup']:.3g}"
                + (f"  agree {r['agree']:.1e}" if r['agree'] is not None else ""))
    return rows


# ---------------------------------------------------------------------------------------
# train(record=None) costs nothing over the kernel; slow learner vs gradient descent
def train_check(wl, repeats):
    """``neurosim.train(..., record=None)``: History CUPS (``train_time``, the kernel
    alone) and the CUPS of the whole call's wall time (validation, orders, training,
    every epoch's evaluation, History), default and ``train_loss="running"``, beside the
    bare kernel's; medians over interleaved repeats (at least 11: a call is milliseconds)."""
    from neurosim import train
    kern, via, wall, wall_run = [], [], [], []
    for kw in ({}, {"train_loss": "running"}):
        train(wl.net.copy(), wl.X, wl.y, lr=wl.lr, epochs=wl.epochs, seed=0, **kw)  # warm
    for _ in range(max(11, repeats)):
        kern.append(run_neurosim(wl, wl.net.weights)[0])
        net = wl.net.copy()
        t0 = time.perf_counter()
        h = train(net, wl.X, wl.y, lr=wl.lr, epochs=wl.epochs, seed=0, record=None)
        wall.append(time.perf_counter() - t0)
        via.append(float(np.sum(h.epoch_time)))
        net = wl.net.copy()
        t0 = time.perf_counter()
        train(net, wl.X, wl.y, lr=wl.lr, epochs=wl.epochs, seed=0, train_loss="running")
        wall_run.append(time.perf_counter() - t0)
    k, v = float(np.median(kern)), float(np.median(via))
    a, b = float(np.median(wall)), float(np.median(wall_run))
    c = wl.net.n_edges * wl.steps
    return dict(kernel_cups=c / k, train_cups=c / v, ratio=k / v,    # CUPS ratios
                wall_cups=c / a, wall_ratio=k / a, running_cups=c / b, running_ratio=k / b,
                kernel_ms=k * 1e3, wall_ms=a * 1e3, running_ms=b * 1e3)


def slow_vs_gd(quick, targets=None):
    """Seconds (training kernels only) and forward passes until the mean training error
    first falls to each of ``targets``: gradient descent vs the chapter's slow learner."""
    from neurosim.training import passes, slow_learn, train
    targets = targets or ((0.65,) if quick else (0.45, 0.30))
    X, y = _moons(96 if quick else None)
    out = dict(targets=list(targets), data=f"moons, {len(X)} samples",
               net="2-4-4-1 (chapter)", learners=[])
    h = train(presets.moons_net(), X, y, lr=0.05, epochs=4 if quick else 8, seed=0)
    s = slow_learn(presets.moons_net(), X, y, epochs=6 if quick else 20, tries=10,
                   scale=0.01, seed=0)
    for name, hist, how in (("gradient descent", h, "lr=0.05"),
                            ("slow learner", s, "tries=10, scale=0.01")):
        cum = passes(hist)
        for target in targets:
            hit = np.flatnonzero(hist.train_loss <= target)
            r = dict(learner=name, settings=how, target=target, epochs_run=hist.epochs,
                     best_loss=float(np.min(hist.train_loss)))
            if len(hit):
                ep = int(hit[0])
                r.update(epoch=ep, passes=int(round(cum[ep])),
                         seconds=float(np.sum(hist.epoch_time[:ep])))
            out["learners"].append(r)
    return out


# ---------------------------------------------------------------------------------------
# cold start: process start to the first trained epoch, with and without Numba's cache
_CHILD = r"""
import json, sys, time, warnings
t_start = float(sys.argv[1])
t0 = time.time()
import numpy as np
import neurosim as ns
from neurosim.training import prepare
t_import = time.time()
d = ns.datasets.moons()
net = ns.presets.moons_net()
t1 = time.time()
# what the demo's single-network work compiles: its runs (the planner's chapter module and
# its evaluation), the penalty study's penalised twin, the error curve's probe
prepare(net, d.X_train, d.y_train, epochs=64, X_test=d.X_test, y_test=d.y_test)
prepare(net, d.X_train, d.y_train, epochs=64, l2=0.01)
from neurosim.curves import chapter_example, error_curve
cn, cx, ct = chapter_example()
error_curve(cn, cx, ct, "P", span=2.0, num=5)
t_jit = time.time() - t1
t2 = time.time()
h = ns.train(net, d.X_train, d.y_train, lr=0.05, epochs=1)     # short: reuses the plan
t_general = time.time() - t2 - float(h.epoch_time[0])
t_many = None
if "many" in sys.argv:
    t3 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepare(net, d.X_train, d.y_train, epochs=64, many=True, X_test=d.X_test,
                y_test=d.y_test)
    t_many = time.time() - t3
t_end = time.time()
print(json.dumps(dict(total=t_end - t_start, python_start=t0 - t_start,
                      imports=t_import - t0, jit=t_jit, general=t_general,
                      epoch=float(h.epoch_time[0]), many=t_many)))
"""


def cold_start(repeats):
    """Run a fresh Python that compiles what the demo's single-network work needs (JIT:
    its runs and their evaluation by the planner, the penalised twin, the error curve),
    then trains the chapter net for one short epoch (the general kernel: GENERAL s of
    compiling), and the many-networks kernels (MANY s): first with empty Numba and
    planner caches (everything compiles), then with them warm."""
    res = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache,
                   NEUROSIM_CACHE_DIR=os.path.join(cache, "neurosim"))
        env.pop("NUMBA_ENABLE_CUDASIM", None)
        for kind, n in (("cold", 1), ("warm", repeats)):
            for _ in range(n):
                t = time.time()
                p = subprocess.run([sys.executable, "-c", _CHILD, repr(t), "many"], env=env,
                                   capture_output=True, text=True, timeout=600)
                if p.returncode != 0:
                    raise RuntimeError(f"cold-start child failed:\n{p.stderr[-2000:]}")
                res[kind].append(json.loads(p.stdout.strip().splitlines()[-1]))
    out = {}
    for kind, runs in res.items():
        out[kind] = {k: float(np.median([r[k] for r in runs])) for k in runs[0]
                     if runs[0][k] is not None}
        out[kind]["runs"] = len(runs)
        out[kind]["total_min"] = float(min(r["total"] for r in runs))
        out[kind]["total_max"] = float(max(r["total"] for r in runs))
    return out


# ---------------------------------------------------------------------------------------
# machine, report
def machine():
    info = dict(python=platform.python_version(), platform=platform.platform(),
                cpu=platform.processor() or platform.machine(), cores=os.cpu_count())
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numba
    import sklearn
    info.update(numpy=np.__version__, numba=numba.__version__, sklearn=sklearn.__version__,
                torch=torch_version() or "not installed")
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = sorted({" ".join(str(x) for x in (
            d.get("internal_api"), d.get("version"), d.get("architecture"),
            f"threads={d.get('num_threads')}") if x) for d in threadpool_info()})
    except ImportError:
        pass
    info["blas_env"] = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                    "OMP_NUM_THREADS") if k in os.environ}
    if torch_version():
        import torch
        info["torch_threads"] = torch.get_num_threads()
    return info


def _load():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _num(x):
    """Three significant figures, without exponents for numbers a table reader scans."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _fmt_us(r):
    return f"{_num(r['us_per_step'])} ({_num(r['us_min'])}–{_num(r['us_max'])})"


def markdown(res):
    m = res["machine"]
    lines = [f"# neurosim benchmark{' (quick)' if res['quick'] else ''}", "",
             f"Run {res['date']} with `python bench/bench.py"
             f"{' --quick' if res['quick'] else ''}` (repeats: {res['repeats']}, median "
             f"with min–max). Load average (1, 5, 15 min) at start {res['load_start']}, "
             f"at end {res['load_end']}"
             + (" -- **measured under load: noisy, provisional**."
                if res['load_start'] and res['load_start'][0] > 0.5 * (m['cores'] or 1)
                else "."), "",
             f"Machine: {m['cpu']}, {m['cores']} cores; {m['platform']}. Python "
             f"{m['python']}, NumPy {m['numpy']}, Numba {m['numba']}, scikit-learn "
             f"{m['sklearn']}, PyTorch {m['torch']}"
             + (f" ({m['torch_threads']} threads)" if 'torch_threads' in m else "")
             + f". BLAS: {'; '.join(m.get('blas', [])) or 'unknown'}"
             + (f" (env {m['blas_env']})" if m.get('blas_env') else "") + ".", "",
             "Per-sample SGD (batch 1), same initial weights and sample order for every "
             "system. µs per sample step (forward + backward + weight change of one "
             "sample); CUPS = weights × sample steps ÷ seconds; *neurosim ×* = this "
             "system's time ÷ neurosim's (how many times faster neurosim is); *agrees* = "
             "max |Δw| against neurosim's final weights (relative to max(1, max |w|)).",
             "",
             "Summary: µs per sample step (median), and in brackets how many times "
             "faster neurosim is.", ""] + summary(res) + [
             "", "All numbers:", "",
             "| workload | weights | steps | system | µs / step | CUPS | neurosim × | "
             "agrees |",
             "|---|---:|---:|---|---:|---:|---:|---|"]
    for r in res["rows"]:
        if "us_per_step" not in r:
            lines.append(f"| {r['label']} | {r['weights']:,} | | {r['system']} | "
                         f"{r['note']} | | | |")
            continue
        ag = "" if r["agree"] is None else (
            f"{'yes' if r['agree'] <= AGREE_TOL else '**NO**'} ({r['agree']:.0e})")
        steps = f"{r['samples']:,}×{r['epochs']}"
        lines.append(f"| {r['label']} | {r['weights']:,} | {steps} | {r['system']} | "
                     f"{_fmt_us(r)} | {r['cups']:.3g} | {_num(r['speedup'])} | {ag} |")
    notes = sorted({(r["label"], r["note"]) for r in res["rows"]
                    if r.get("note") and "us_per_step" in r})
    lines += [""] + [f"* {a}: {b}." for a, b in notes]
    jit = [r for r in res["rows"] if r.get("jit_s") is not None]
    if jit:
        lines += ["", "First call of the training kernel in the bench process (compile, or "
                  "load from Numba's cache): " + ", ".join(
                      f"{r['workload']} {r['jit_s'] * 1e3:.0f} ms" for r in jit) + "."]
    if res.get("agreement_ok") is not None:
        lines += ["", f"Agreement check (numpy, torch, numba dense vs neurosim, tolerance "
                  f"{AGREE_TOL:g}): **{'passed' if res['agreement_ok'] else 'FAILED'}**."]
    tc = res.get("train_check")
    if tc:
        lines += ["", f"`neurosim.train(..., record=None)` on the chapter workload: "
                  f"{tc['train_cups']:.3g} CUPS from `History` vs {tc['kernel_cups']:.3g} "
                  f"for the bare kernel (History / kernel = {tc['ratio']:.2f}; 1 means no "
                  f"overhead)."]
        if "wall_cups" in tc:
            lines += ["", f"End to end (the whole `train` call's wall time, medians): "
                      f"{tc['wall_ms']:.2f} ms, {tc['wall_cups']:.3g} CUPS = "
                      f"**{tc['wall_ratio']:.2f}×** the kernel's {tc['kernel_ms']:.2f} ms "
                      f"(every epoch's training set evaluated, a pass that costs most of a "
                      f"training epoch); `train_loss=\"running\"`: {tc['running_ms']:.2f} ms, "
                      f"**{tc['running_ratio']:.2f}×**."]
    sl = res.get("slow")
    if sl:
        lines += ["", f"Slow learner vs gradient descent ({sl['net']}, {sl['data']}): "
                  "time (training kernels only, evaluation excluded) and forward passes until "
                  "the mean training error (evaluated after each epoch) first reaches the "
                  "target; chance is 0.693.", "",
                  "| learner | settings | target | epochs | forward passes | seconds | "
                  "best error |", "|---|---|---:|---:|---:|---:|---:|"]
        for r in sl["learners"]:
            if "epoch" in r:
                lines.append(f"| {r['learner']} | {r['settings']} | {r['target']} | "
                             f"{r['epoch']} | {r['passes']:,} | {r['seconds']:.3g} | "
                             f"{r['best_loss']:.3f} |")
            else:
                lines.append(f"| {r['learner']} | {r['settings']} | {r['target']} | not "
                             f"reached in {r['epochs_run']} | | | {r['best_loss']:.3f} |")
    cs = res.get("cold")
    if cs:
        lines += ["", "Cold start: a fresh `python` that imports neurosim, loads the book's "
                  "data, compiles what the demo's single-network work runs (*demo JIT*: "
                  "`prepare` for its runs and for the penalty study's l2, and the error "
                  "curve), trains the chapter net for one short epoch (*short train JIT*: "
                  "compiling beyond that epoch's own time; under the planner's 20,000 steps "
                  "but the process already holds the generated kernel, so it reuses it) and "
                  "compiles the "
                  "many-networks kernels of the demo's sweep (*many JIT*); medians:", "",
                  "| caches | runs | total s (min–max) | imports s | demo JIT s | "
                  "short train JIT s | many JIT s |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for kind, label in (("cold", "empty (everything compiles)"), ("warm", "warm")):
            c = cs[kind]
            many = f"{c['many']:.2f}" if "many" in c else ""
            lines.append(f"| {label} | {c['runs']} | {c['total']:.2f} ({c['total_min']:.2f}"
                         f"–{c['total_max']:.2f}) | {c['imports']:.2f} | {c['jit']:.2f} | "
                         f"{c.get('general', 0):.2f} | {many} |")
    tg = targets(res)
    if tg:
        lines += ["", "Targets (issue 2 section 8, issue 6 section 4; for this table, not for "
                  "tests):", "", "| target | measured | met |", "|---|---|---|"]
        for what, got, ok in tg:
            lines.append(f"| {what} | {got} | {'yes' if ok else '**no**'} |")
    if res.get("plot"):
        lines += ["", f"![CUPS vs weights]({res['plot']})"]
    return "\n".join(lines) + "\n"


def summary(res):
    """The wide table: one row per workload, one column per system."""
    rows = res["rows"]
    names = list(dict.fromkeys(r["workload"] for r in rows))
    systems = [sy for sy in SYSTEMS if any(r["system"] == sy for r in rows)]
    out = ["| workload | weights | " + " | ".join(systems) + " |",
           "|---|---:|" + "---:|" * len(systems)]
    for wl in names:
        by = {r["system"]: r for r in rows if r["workload"] == wl}
        first = next(iter(by.values()))
        cells = []
        for sy in systems:
            r = by.get(sy)
            if r is None:
                cells.append("")
            elif "us_per_step" not in r:
                cells.append(r["note"].split(" (")[0])
            elif sy == "neurosim":
                cells.append(f"**{_num(r['us_per_step'])}** ({r['cups']:.2g} CUPS)")
            else:
                cells.append(f"{_num(r['us_per_step'])} ({_num(r['speedup'])}×)")
        out.append(f"| {first['label']} | {first['weights']:,} | " + " | ".join(cells) + " |")
    return out


def targets(res):
    """(target, measured, met) for the targets the issues set, where measured."""
    by = {(r["workload"], r["system"]): r for r in res["rows"] if "us_per_step" in r}
    out = []

    def speed(wl, peer, factor):
        if (wl, peer) in by and (wl, "neurosim") in by:
            x = by[(wl, peer)]["speedup"]
            out.append((f"{wl}: >= {factor:g}x {peer}", f"{x:.3g}x", x >= factor))

    for wl, cups in (("chapter", 3e8), ("w256", 5e8)):
        if (wl, "neurosim") in by:
            c = by[(wl, "neurosim")]["cups"]
            out.append((f"{wl}: >= {cups:.0e} CUPS", f"{c:.3g}", c >= cups))
    speed("deep", "numba dense", 1.2)
    speed("chapter", "numba dense", 1.5)
    tc = res.get("train_check")
    if tc and "wall_ratio" in tc:
        out.append(("chapter: train() end to end >= 0.6x its kernel-only CUPS",
                    f"{tc['wall_ratio']:.2f}x (running loss: {tc['running_ratio']:.2f}x)",
                    tc["wall_ratio"] >= 0.6))
    if ("w256", "neurosim") in by:
        c = by[("w256", "neurosim")]["cups"]
        out.append(("w256: no slower than the previous run's 2.7e9 CUPS (5% noise)",
                    f"{c:.3g}", c >= 2.7e9 * 0.95))
    if ("chapter", "numba dense") in by and ("chapter", "neurosim") in by:
        x = by[("chapter", "numba dense")]["speedup"]
        out.append(("chapter: no slower than a hand-written dense Numba loop",
                    f"{x:.3g}x its speed", x >= 1.0))
    speed("chapter", "torch", 1000)
    speed("chapter", "numpy", 100)
    speed("w256", "torch", 3)
    speed("w256", "numpy", 1.5)
    sp = [r for (wl, s), r in by.items() if wl == "sparse" and s not in
          ("neurosim", "neurosim CUDA")]
    if sp and ("sparse", "neurosim") in by:
        worst = min(sp, key=lambda r: r["speedup"])
        out.append(("sparse: faster than every dense peer",
                    f"{worst['speedup']:.3g}x the fastest ({worst['system']})",
                    worst["speedup"] > 1.0))
    if res.get("cold"):
        j = res["cold"]["cold"]["jit"]
        out.append(("cold start: the demo's single-network kernels compile in <= 5 s",
                    f"{j:.2f} s (many networks: {res['cold']['cold'].get('many', 0):.1f} s "
                    "more)", j <= 5.0))
        t = res["cold"]["warm"]["total"]
        out.append(("cold start, warm Numba cache: < 2 s to the first trained epoch",
                    f"{t:.2f} s", t < 2.0))
    return out


def plot(rows, path):
    from matplotlib.figure import Figure          # no pyplot: the backend is left alone
    fig = Figure(figsize=(7, 4.8), layout="tight")
    ax = fig.subplots()
    markers = dict(zip(SYSTEMS, "oP*sDv^"))
    for s in SYSTEMS:
        pts = sorted((r["weights"], r["cups"], r["workload"]) for r in rows
                     if r["system"] == s and "cups" in r)
        if not pts:
            continue
        dense = [p for p in pts if p[2] not in ("deep", "sparse")]
        line, = ax.plot([p[0] for p in dense], [p[1] for p in dense], "-",
                        marker=markers[s], label=s, alpha=0.85)
        other = [p for p in pts if p[2] in ("deep", "sparse")]
        ax.plot([p[0] for p in other], [p[1] for p in other], linestyle="none",
                marker=markers[s], color=line.get_color(), mfc="none", ms=9)
    for r in rows:
        if r["system"] == "neurosim" and "cups" in r:
            ax.annotate(r["workload"], (r["weights"], r["cups"]), textcoords="offset points",
                        xytext=(4, 6), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("weights (edges) in the network")
    ax.set_ylabel("CUPS (weights × sample steps / s)")
    ax.set_title("Per-sample SGD, batch 1 (hollow markers: deep and sparse nets)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def run(quick=False, out="bench", repeats=3, only=None, skip=(), cold=None, log=print):
    """Run the benchmark; write ``RESULTS.md``, ``results.json`` and ``cups.png`` into
    ``out`` and return the results as a dict. Unknown names in ``only`` or ``skip`` raise
    ValueError before anything runs."""
    skip = set(skip)
    if skip - SKIPPABLE:
        raise ValueError(f"skip: unknown names {sorted(skip - SKIPPABLE)}; choose from "
                         f"{sorted(SKIPPABLE)}")
    wls = workloads(quick)
    names = [w.name for w in wls]
    if only and set(only) - set(names):
        raise ValueError(f"only: unknown workloads {sorted(set(only) - set(names))}; "
                         f"{'quick runs' if quick else 'choose from'} {names}")
    wls = [w for w in wls if not only or w.name in only]
    os.makedirs(out, exist_ok=True)
    res = dict(quick=quick, repeats=repeats, date=time.strftime("%Y-%m-%d %H:%M UTC",
                                                                 time.gmtime()),
               load_start=_load(), machine=machine(), rows=[])
    log(f"neurosim bench{' --quick' if quick else ''}: load {res['load_start']}")
    for wl in wls:
        log(f"{wl.name}: {wl.label}, {wl.net.n_edges} weights, {len(wl.X)} samples x "
            f"{wl.epochs} epochs")
        res["rows"] += bench_workload(wl, repeats, skip, log)
    ag = [r["agree"] for r in res["rows"] if r.get("agree") is not None
          and r["system"] != "neurosim"]
    res["agreement_ok"] = bool(all(a <= AGREE_TOL for a in ag)) if ag else None
    verdict = {True: "passed", False: "FAILED", None: "nothing to compare"}
    log(f"agreement check: {verdict[res['agreement_ok']]} "
        f"(max {max(ag) if ag else float('nan'):.1e}, tolerance {AGREE_TOL:g})")
    chapter = [w for w in wls if w.name == "chapter"]
    if chapter and "train" not in skip:
        res["train_check"] = train_check(chapter[0], repeats)
        log(f"train(record=None): {res['train_check']}")
    if "slow" not in skip:
        res["slow"] = slow_vs_gd(quick)
        log(f"slow learner vs gradient descent: {res['slow']}")
    if (cold if cold is not None else not quick) and "cold" not in skip:
        res["cold"] = cold_start(2 if quick else 3)
        log(f"cold start: {res['cold']}")
    res["load_end"] = _load()
    res["targets"] = targets(res)
    res["plot"] = "cups.png"
    plot(res["rows"], os.path.join(out, "cups.png"))
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    md = markdown(res)
    with open(os.path.join(out, "RESULTS.md"), "w") as f:
        f.write(md)
    log(md)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python bench/bench.py",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--skip", default="")
    ap.add_argument("--cold", action="store_true")
    a = ap.parse_args(argv)
    if a.repeats < 1:
        ap.error("--repeats must be >= 1")
    only = {s for s in a.only.split(",") if s}
    skip = {s for s in a.skip.split(",") if s}
    out = a.out or (os.path.join(tempfile.gettempdir(), "neurosim-bench-quick") if a.quick
                     else "bench")
    try:
        res = run(quick=a.quick, out=out, repeats=a.repeats, only=only, skip=skip,
                  cold=True if a.cold else None)
    except ValueError as e:
        ap.error(str(e))
    print(f"wrote {os.path.join(out, 'RESULTS.md')}, results.json and cups.png")
    return 0 if res["agreement_ok"] in (True, None) else 1


if __name__ == "__main__":
    sys.exit(main())
