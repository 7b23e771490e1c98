"""Many networks at once: neurosim's ``train_many`` beside one network at a time, JAX
``vmap`` and ``torch.func.vmap``, on the chapter's 2-4-4-1 moons net.

Usage:
    python bench/many.py                 # 1, 64, 512, 4096 nets; about 5 minutes on 2 cores
    python bench/many.py --quick         # tiny sizes (what the tests run)
    python bench/many.py --nets 64,512 --repeats 3 --out DIR --skip torch,jax

Every system trains k copies of the net, each from its own initial weights
(``moons_net(seed=s)``) with its own shuffle (``default_rng(s)`` permutations, the order
``neurosim.train`` uses), by per-sample SGD at eta = 0.05 for 4 epochs in float64, and
evaluates the training and test sets (loss and accuracy) after every epoch. Aggregate
CUPS = k x 37 weights x sample steps / wall seconds of the whole call (compilation
reported apart: every system runs once untimed first; the timed repeats go round robin
over the systems, so each sees the same load, torch's after the others: its OpenMP
threads keep spinning for a while after a call). Also timed: one network through
``train_many`` beside ``neurosim.train``, and the demo's whole seed sweep. Peers:

* ``neurosim train_many`` -- the CPU many-networks kernel (the default device).
* ``neurosim one at a time`` -- ``neurosim.train`` per network (what ``sweep`` did before
  ``train_many``); timed on up to 32 networks and scaled.
* ``jax vmap`` -- ``jax.vmap`` over networks of a jitted ``lax.scan`` over the samples
  (``jax.grad`` of the bce loss from the logit), one jitted call per epoch with the
  evaluation inside, float64.
* ``torch.func.vmap`` -- ``vmap(grad(loss))`` over stacked parameters per sample step
  (``torch.func.functional_call``), float64; timed on one epoch and scaled.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neurosim as ns                                   # noqa: E402
from bench import Dense, _load, machine                 # noqa: E402

LR, EPOCHS = 0.05, 4


def setup(k, n_train=None):
    d = ns.datasets.moons() if n_train is None else ns.datasets.moons(n_samples=n_train)
    nets = [ns.presets.moons_net(seed=s) for s in range(k)]
    n = len(d.X_train)
    perms = np.stack([np.stack([rng.permutation(n) for _ in range(EPOCHS)])
                      for rng in (np.random.default_rng(s) for s in range(k))])
    return d, nets, perms


def run_neurosim(d, nets, perms):
    nets = [n.copy() for n in nets]
    k = len(nets)
    t0 = time.perf_counter()
    h = ns.train_many(nets, d.X_train, d.y_train, lr=LR, seed=list(range(k)), epochs=EPOCHS,
                      X_test=d.X_test, y_test=d.y_test)
    return time.perf_counter() - t0, h.weights, h.test_acc[:, -1]


def run_alone(d, nets, perms, limit=32):
    m = min(limit, len(nets))
    W = []
    t0 = time.perf_counter()
    for s in range(m):
        net = nets[s].copy()
        ns.train(net, d.X_train, d.y_train, lr=LR, seed=s, epochs=EPOCHS, X_test=d.X_test,
                 y_test=d.y_test)
        W.append(net.weights.copy())
    return (time.perf_counter() - t0) * len(nets) / m, np.array(W), None


def _dense_params(nets):
    Ds = [Dense(n) for n in nets]
    return [np.stack([D.W[l] for D in Ds]) for l in range(3)], \
        [np.stack([D.b[l] for D in Ds]) for l in range(3)], Ds[0]


def jax_runner():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)

    def logit(p, x):
        W, b = p
        h = jax.nn.relu(W[0] @ x + b[0])          # relu'(0) = 0, as neurosim
        h = jax.nn.relu(W[1] @ h + b[1])
        return (W[2] @ h + b[2])[0]

    def loss(p, x, t):
        z = logit(p, x)
        return jax.nn.softplus(z) - t * z

    g = jax.grad(loss)

    def epoch_one(p, perm, X, y, Xt, yt):
        def step(p, i):
            gr = g(p, X[i], y[i])
            return jax.tree_util.tree_map(lambda a, b: a - LR * b, p, gr), None
        p, _ = jax.lax.scan(step, p, perm)

        def ev(Xs, ys):
            z = jax.vmap(lambda x: logit(p, x))(Xs)
            return (jnp.mean(jax.nn.softplus(z) - ys * z),
                    jnp.mean((z >= 0.0) == (ys >= 0.5)))
        return p, ev(X, y), ev(Xt, yt)

    epoch = jax.jit(jax.vmap(epoch_one, in_axes=(0, 0, None, None, None, None)))

    def run(d, nets, perms):
        W, b, D0 = _dense_params(nets)
        p = (tuple(jnp.asarray(w) for w in W), tuple(jnp.asarray(x) for x in b))
        args = [jnp.asarray(a) for a in (d.X_train, d.y_train, d.X_test, d.y_test)]
        t0 = time.perf_counter()
        for e in range(EPOCHS):
            p, tr, te = epoch(p, jnp.asarray(perms[:, e]), *args)
        jax.block_until_ready(p)
        t = time.perf_counter() - t0
        Wn = [np.asarray(w) for w in p[0]]
        bn = [np.asarray(x) for x in p[1]]
        out = np.array([D0.edges([w[i] for w in Wn], [x[i] for x in bn])
                        for i in range(len(nets))])
        return t, out, np.asarray(te[1])
    return run, jax.__version__


def torch_runner():
    import torch
    from torch.func import functional_call, grad, vmap

    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 4),
                                torch.nn.ReLU(), torch.nn.Linear(4, 1)).double()
    names = [n for n, _ in model.named_parameters()]

    def loss(params, x, t):
        z = functional_call(model, dict(zip(names, params)), (x,))[0]
        return torch.nn.functional.softplus(z) - t * z

    gfn = vmap(grad(loss), in_dims=(0, 0, 0))

    def run(d, nets, perms, epochs=1):
        W, b, D0 = _dense_params(nets)
        params = [torch.tensor(a) for pair in zip(W, b) for a in pair]
        X, y = torch.tensor(d.X_train), torch.tensor(d.y_train)
        idx = torch.tensor(perms)
        t0 = time.perf_counter()
        with torch.no_grad():
            for e in range(epochs):
                for s in range(idx.shape[2]):
                    rows = idx[:, e, s]
                    grads = gfn(params, X[rows], y[rows])
                    for p, gr in zip(params, grads):
                        p -= LR * gr
                for Xs, ys in ((X, y), (torch.tensor(d.X_test), torch.tensor(d.y_test))):
                    z = vmap(lambda *ps: functional_call(
                        model, dict(zip(names, ps)), (Xs,)))(*params)[..., 0]
                    _ = ((torch.nn.functional.softplus(z) - ys * z).mean(1),
                         ((z >= 0) == (ys >= 0.5)).double().mean(1))
        t = (time.perf_counter() - t0) * EPOCHS / epochs
        return t, None, None
    return run, torch.__version__


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python bench/many.py",
                                 description="many chapter nets at once: neurosim beside "
                                             "one-at-a-time, JAX vmap and torch.func.vmap")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, seconds")
    ap.add_argument("--nets", default=None, help="comma-separated numbers of networks")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats (median)")
    ap.add_argument("--skip", default="", help="comma-separated: alone, jax, torch")
    ap.add_argument("--out", default=None, help="folder for RESULTS_MANY.md and .json "
                                                "(default: bench/, nothing with --quick)")
    a = ap.parse_args(argv)
    sizes = [int(x) for x in (a.nets or ("1,8" if a.quick else "1,64,512,4096")).split(",")]
    skip = set(filter(None, a.skip.split(",")))
    n_train = 64 if a.quick else None
    warnings.simplefilter("ignore", RuntimeWarning)
    systems = [("neurosim train_many", run_neurosim)]
    if "alone" not in skip:
        systems.append(("neurosim one at a time", run_alone))
    notes = []
    for key, name, make in (("jax", "jax vmap", jax_runner),
                            ("torch", "torch.func.vmap", torch_runner)):
        if key in skip:
            continue
        try:
            fn, ver = make()
            systems.append((name, fn))
            notes.append(f"{name}: {name.split()[0]} {ver}")
        except ImportError as e:
            notes.append(f"{name}: skipped ({e})")
    info = machine()
    res = dict(machine=info, load_start=_load(), notes=notes, rows=[])
    print(f"{info['cpu']}, {info['cores']} cores; load {res['load_start']}")
    for k in sizes:
        d, nets, perms = setup(k, n_train)
        steps = k * len(d.X_train) * EPOCHS
        here = [(name, fn) for name, fn in systems
                if not (name == "torch.func.vmap" and k > 512)]
        first, times, out = {}, {name: [] for name, _ in here}, {}
        for name, fn in here:
            t0 = time.perf_counter()
            fn(d, nets, perms)                       # compile / warm-up, untimed
            first[name] = time.perf_counter() - t0
        load = _load()
        # round robin, the same load for all; torch after the others, as its OpenMP
        # threads go on spinning for a while after each call and would slow the next
        robin = [(nm, fn) for nm, fn in here if nm != "torch.func.vmap"]
        rest = [(nm, fn) for nm, fn in here if nm == "torch.func.vmap"]
        for group in (robin, rest):
            for _ in range(a.repeats):
                for name, fn in group:
                    t, W, acc = fn(d, nets, perms)
                    times[name].append(t)
                    out[name] = W
        ref = out["neurosim train_many"]
        jax_t = float(np.median(times["jax vmap"])) if "jax vmap" in times else None
        for name, _ in here:
            t = float(np.median(times[name]))
            row = dict(nets=k, system=name, seconds=t, cups=37 * steps / t,
                       first_call=first[name], min=min(times[name]), max=max(times[name]),
                       load=load)
            W = out[name]
            if name != "neurosim train_many" and W is not None:
                row["max_weight_diff_vs_neurosim"] = float(np.max(np.abs(W - ref[:len(W)])))
            if jax_t is not None:
                row["x_jax"] = jax_t / t
            res["rows"].append(row)
            print(f"{k:5d} nets  {name:24s} {t:8.3f} s  {row['cups']:10.3g} CUPS  "
                  f"(first call {first[name]:.2f} s)"
                  + (f"  {row['x_jax']:.2f}x jax" if "x_jax" in row else "")
                  + (f"  max |w - neurosim| {row['max_weight_diff_vs_neurosim']:.1e}"
                     if "max_weight_diff_vs_neurosim" in row else "") + f"  load {load}")
    res["one_network"] = one_network(n_train, max(3, a.repeats))
    o = res["one_network"]
    print(f"one network: train_many {o['train_many']:.4f} s, ns.train {o['train']:.4f} s "
          f"(ratio {o['ratio']:.2f}; load {o['load']})")
    if not a.quick:
        res["demo_sweep"] = demo_sweep(a.repeats)
        o = res["demo_sweep"]
        print(f"demo seed sweep (3 lr x 50 seeds; 21, 21, 201 epochs, test set every epoch): "
              f"{o['seconds']:.3f} s after compilation (first call {o['first_call']:.2f} s; "
              f"load {o['load']})")
        res["compile"] = compile_time()
        print(f"generated chapter-net kernel from an empty cache: {res['compile']:.1f} s")
    res["threads"] = threads_speedup(n_train, a.repeats)
    t = res["threads"]
    print(f"two threads each training a 2-64-64-1 net: {t['two_threads']:.3f} s vs one after the "
          f"other {t['sequential']:.3f} s: speed-up {t['speedup']:.2f}x")
    res["load_end"] = _load()
    mem = 37 * 8 * 2 + 6 * 8 + 8 + 8
    res["bytes_per_network"] = mem
    print(f"memory per network in train_many: ~{mem} bytes (weights, a copy out, generator "
          "state, flags), plus its history rows; per thread one chunk's scratch")
    if a.out or not a.quick:
        out = a.out or os.path.dirname(os.path.abspath(__file__))
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "results_many.json"), "w") as f:
            json.dump(res, f, indent=1)
        with open(os.path.join(out, "RESULTS_MANY.md"), "w") as f:
            f.write(markdown(res))
    return res


def one_network(n_train, repeats):
    """Seconds of ``train_many([net])`` and ``neurosim.train(net)`` on one chapter net, 4
    epochs with the test set, alternating (median of ``repeats``)."""
    d = ns.datasets.moons() if n_train is None else ns.datasets.moons(n_samples=n_train)
    net = ns.presets.moons_net(seed=0)
    kw = dict(lr=LR, epochs=EPOCHS, X_test=d.X_test, y_test=d.y_test)

    def many():
        ns.train_many([net.copy()], d.X_train, d.y_train, seed=[0], **kw)

    def one():
        ns.train(net.copy(), d.X_train, d.y_train, seed=0, **kw)

    many()
    one()
    tm, to = [], []
    load = _load()
    for _ in range(repeats * 3):
        for f, ts in ((many, tm), (one, to)):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
    m, o = float(np.median(tm)), float(np.median(to))
    return dict(train_many=m, train=o, ratio=m / o, load=load)


def demo_sweep(repeats):
    """Seconds of the demo's whole seed sweep (``demo.seed_sweep``: the book's three runs
    from 50 initialisations, test set every epoch, the table built), after compilation."""
    from neurosim import demo
    data = ns.datasets.moons()
    t0 = time.perf_counter()
    demo.seed_sweep(data, demo.BOOK_RUNS, list(range(50)))
    first = time.perf_counter() - t0
    load = _load()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        demo.seed_sweep(data, demo.BOOK_RUNS, list(range(50)))
        ts.append(time.perf_counter() - t0)
    return dict(seconds=float(np.median(ts)), first_call=first, min=min(ts), load=load)


def compile_time():
    """Seconds a fresh process takes to generate and compile the chapter net's
    many-networks kernel into an empty cache (the rest of neurosim's cache kept)."""
    import subprocess
    import tempfile
    code = ("import time, neurosim as ns\n"
            "from neurosim.kernels import plan_many\n"
            "d = ns.datasets.moons(n_samples=40)\n"
            "t = time.perf_counter()\n"
            "plan_many.MIN_STEPS = 0\n"
            "ns.train_many([ns.presets.moons_net(seed=s) for s in range(2)], d.X_train, "
            "d.y_train, seed=[0, 1], epochs=1, X_test=d.X_test, y_test=d.y_test)\n"
            "print(time.perf_counter() - t)\n")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NEUROSIM_CACHE_DIR=tmp)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
    return float(out.stdout.split()[-1])


def threads_speedup(n_train, repeats, epochs=5):
    """Seconds for two ``neurosim.train`` calls in two threads vs one after the other (the
    kernels release the GIL), on a 2-64-64-1 net: enough work per epoch that the Python
    between epochs (which holds the GIL) is small beside it."""
    import threading
    d = ns.datasets.moons() if n_train is None else ns.datasets.moons(n_samples=n_train)

    def one(s):
        net = ns.Network.layered([2, 64, 64, 1], hidden="relu", output="sigmoid", loss="bce",
                                 init="he", seed=s)
        ns.train(net, d.X_train, d.y_train, lr=0.01, epochs=epochs, seed=s, X_test=d.X_test,
                 y_test=d.y_test)

    one(0)
    seq, par = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        one(1)
        one(2)
        seq.append(time.perf_counter() - t0)
        ts = [threading.Thread(target=one, args=(s,)) for s in (1, 2)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        par.append(time.perf_counter() - t0)
    s, p = float(np.median(seq)), float(np.median(par))
    return dict(sequential=s, two_threads=p, speedup=s / p, epochs=epochs)


def markdown(res):
    m = res["machine"]
    lines = ["# Many networks at once", "",
             f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, NumPy {m['numpy']}, "
             f"Numba {m['numba']}; load average {res['load_start']} at start, "
             f"{res['load_end']} at end. " + "; ".join(res["notes"]) + ".", "",
             "Chapter 2-4-4-1 moons net, per-sample SGD, 4 epochs, train and test sets "
             "evaluated every epoch, float64. Wall time of the whole call, median of the "
             "repeats (compilation apart).", "",
             "| networks | system | seconds | aggregate CUPS | × one at a time | × JAX vmap "
             "| first call s | load |",
             "|---:|---|---:|---:|---:|---:|---:|---|"]
    for k in sorted({r["nets"] for r in res["rows"]}):
        rows = [r for r in res["rows"] if r["nets"] == k]
        base = next((r["cups"] for r in rows if r["system"] == "neurosim one at a time"), None)
        for r in rows:
            ratio = f"{r['cups'] / base:.1f}" if base else "–"
            xj = f"{r['x_jax']:.2f}" if "x_jax" in r else "–"
            lines.append(f"| {k} | {r['system']} | {r['seconds']:.3f} | {r['cups']:.3g} | "
                         f"{ratio} | {xj} | {r['first_call']:.2f} | {r.get('load')} |")
    o = res["one_network"]
    lines += ["", f"One network (4 epochs, test set every epoch), alternating calls: "
              f"`train_many([net])` {o['train_many'] * 1e3:.2f} ms, `neurosim.train` "
              f"{o['train'] * 1e3:.2f} ms (ratio {o['ratio']:.2f}; load {o['load']})."]
    if "demo_sweep" in res:
        o = res["demo_sweep"]
        lines += ["", f"The demo's whole seed sweep (`demo.seed_sweep`: η = 0.5, 0.05, 0.01 × "
                  f"50 seeds; 21, 21 and 201 epochs; test set every epoch; the table built): "
                  f"**{o['seconds']:.3f} s** after compilation, median (first call "
                  f"{o['first_call']:.2f} s; load {o['load']})."]
    if "compile" in res:
        lines += ["", f"Compiling the chapter net's generated many-networks kernel into an "
                  f"empty cache (a fresh process): {res['compile']:.1f} s, once per machine."]
    t = res["threads"]
    lines += ["", f"Memory per network in `train_many`: about {res['bytes_per_network']} "
              "bytes plus its history rows; per thread one chunk's scratch (16 networks' "
              "neuron values and data orders, about 16 × 8 bytes × samples).", "",
              f"Threads: two `neurosim.train` calls (2-64-64-1 net, {t['epochs']} epochs each, "
              f"test set every epoch) in two threads took {t['two_threads']:.3f} s against "
              f"{t['sequential']:.3f} s one after the other: **{t['speedup']:.2f}×** (the "
              "kernels release the GIL)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
