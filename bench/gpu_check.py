"""CPU == GPU checks and a CPU-vs-CUDA timing table, in under five minutes on one GPU.

Usage:
    python bench/gpu_check.py                      # on a machine with an NVIDIA GPU
    python bench/gpu_check.py --out bench/RESULTS_GPU.md
    NUMBA_ENABLE_CUDASIM=1 python bench/gpu_check.py --tiny    # anywhere, on the simulator

(a) Equality: a few random DAGs with skip connections per mode (single sample, per-sample SGD
in one block, per-sample SGD level by level, minibatch level by level, minibatch in one
block, many networks) and dtype, CUDA against the CPU kernels; prints PASS/FAIL with the
largest difference relative to the largest weight.

(b) Timing: CPU kernels vs CUDA kernels per mode and size -- the chapter's moons net
per-sample; 10,000 chapter nets at once; 2-1024-1024-1 per-sample and minibatch 256;
4096-wide layers per-sample and minibatch 256 -- with microseconds per step (a sample for
SGD, a minibatch otherwise), CUPS (edges x samples / second) and the device name. JIT
compile time (the first launch of each mode, on a few samples) is reported separately and
kept out of the timings. CPU baselines run the ``neurosim.kernels.cpu`` kernels directly,
on fewer samples where a full run would be long (the table says how many).

``--tiny`` shrinks every size (and the blocks) so the script finishes on Numba's CUDA
simulator; its timings then only show that the script works.

``--ptx 9.0`` needs no GPU: it records the argument types of every kernel launch on the
simulator (in a subprocess), then compiles each kernel for them to PTX for that compute
capability with NVVM -- the type checking the simulator never does. It needs NVVM and NVRTC
(e.g. ``pip install nvidia-nvvm nvidia-cuda-nvrtc`` and their ``lib`` folder on
``LD_LIBRARY_PATH``), not a driver.
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import neurosim as ns                     # noqa: E402
from neurosim import config               # noqa: E402
from neurosim.backends.cpu import no_record, scratch  # noqa: E402
from neurosim.kernels import cpu          # noqa: E402

FULL = dict(chapter_samples=1536, many_nets=10_000, many_cpu_nets=10_000, mid=1024,
            mid_gpu_samples=1024, mid_cpu_samples=128, wide=4096, wide_in=16,
            wide_gpu_samples=256, wide_cpu_samples=8, batch=256, wide_gpu_batches=4,
            mid_gpu_batches=8, mid_cpu_mb_samples=256, wide_cpu_mb_samples=32)
TINY = dict(chapter_samples=12, many_nets=3, many_cpu_nets=3, mid=6, mid_gpu_samples=6,
            mid_cpu_samples=6, wide=9, wide_in=3, wide_gpu_samples=4, wide_cpu_samples=4,
            batch=4, wide_gpu_batches=1, mid_gpu_batches=1, mid_cpu_mb_samples=4,
            wide_cpu_mb_samples=2)


# -- helpers ------------------------------------------------------------------------------
def random_dag(seed, loss, dtype, n_in=3, n_hidden=6, n_out=2):
    """A random DAG with skip connections and a random activation per hidden neuron."""
    rng = np.random.default_rng(seed)
    acts = ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]
    ins = [f"x{i}" for i in range(n_in)]
    hid = [f"h{i}" for i in range(n_hidden)]
    outs = [f"o{i}" for i in range(n_out)]
    edges, earlier = [], ins + ["bias"]
    for nm in hid + outs:
        srcs = [s for s in earlier if rng.random() < 0.6]
        if not any(s in ins or s in hid for s in srcs):
            srcs.append(ins[rng.integers(n_in)])
        edges += [(s, nm, float(rng.normal(0, 0.8))) for s in srcs]
        if nm in hid:
            earlier = earlier + [nm]
    act = {nm: acts[rng.integers(len(acts))] for nm in hid}
    out_act = {"bce": "sigmoid", "softmax_ce": "identity"}.get(loss, "tanh")
    act.update({nm: out_act for nm in outs})
    return ns.Network.from_edges(edges, inputs=ins, outputs=outs, hidden=hid, activation=act,
                                 loss=loss, bias="bias", dtype=dtype)


def targets(net, n, rng):
    m = len(net.output_idx)
    if net.loss_name == "softmax_ce":
        return np.eye(m)[rng.integers(m, size=n)]
    if net.loss_name == "bce":
        return rng.integers(0, 2, size=(n, m)).astype(float)
    return rng.normal(0, 1, (n, m))


def rel_diff(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def cpu_epoch(net, X, T, perm, lr, batch, w):
    """One epoch of the CPU kernel on weights ``w`` (in place); returns seconds."""
    S, grad = scratch(net), np.zeros(net.n_edges, dtype=net.dtype)
    t0 = time.perf_counter()
    cpu.train_epoch(X, T, perm, net.dtype.type(lr), net.dtype.type(0), batch, False,
                    net.loss, net.topo, w, S, grad, no_record(net))
    return time.perf_counter() - t0


# -- (a) equality -------------------------------------------------------------------------
def check_equality(nc, n_nets, results):
    modes = [("single-sample", None), ("sgd block", (10**9, 1)), ("sgd levels", (0, 1)),
             ("minibatch levels", (0, 3)), ("minibatch block", (10**9, 3)),
             ("many networks", None)]
    ok = True
    for mode, how in modes:
        for dtype in (np.float64, np.float32):
            lim = 1e-10 if dtype == np.float64 else 1e-4
            worst = 0.0
            for s in range(n_nets):
                loss = ("quadratic", "bce", "softmax_ce")[s % 3]
                net = random_dag(100 + s, loss, dtype)
                rng = np.random.default_rng(s)
                X = rng.normal(0, 1, (9, net.n_inputs))
                T = targets(net, 9, rng)
                if mode == "single-sample":
                    a, b = net.copy(), net.copy()
                    d = [rel_diff(ns.forward(b, X[0], device="cuda"), ns.forward(a, X[0]))]
                    Eb, Ea = ns.backward(b, T[0], device="cuda"), ns.backward(a, T[0])
                    d += [rel_diff(Eb, Ea), rel_diff(b.deltas, a.deltas)]
                    ns.update(a, 0.1)
                    ns.update(b, 0.1, device="cuda")
                    d.append(rel_diff(b.weights, a.weights))
                    d.append(rel_diff(ns.predict(b, X, device="cuda"), ns.predict(a, X)))
                    diff = max(d)
                elif mode == "many networks":
                    W = net.weights[None, :] + rng.normal(0, 0.2, (3, net.n_edges))
                    lrs = [0.05, 0.1, 0.2]
                    h = ns.train_many(net, X, T, lr=lrs, epochs=2, weights=W, seed=s, device="cuda")
                    diff = 0.0
                    for k in range(3):
                        c = net.copy()
                        c.weights[:] = W[k]
                        ns.train(c, X, T, lr=lrs[k], epochs=2, seed=s)
                        diff = max(diff, rel_diff(h.weights[k], c.weights))
                else:
                    old = config.SGD_BLOCK_MAX_EDGES
                    config.SGD_BLOCK_MAX_EDGES = how[0]
                    try:
                        a, b = net.copy(), net.copy()
                        ns.train(a, X, T, lr=0.1, epochs=2, batch_size=how[1], seed=s)
                        ns.train(b, X, T, lr=0.1, epochs=2, batch_size=how[1], seed=s,
                                 device="cuda")
                    finally:
                        config.SGD_BLOCK_MAX_EDGES = old
                    diff = rel_diff(b.weights, a.weights)
                worst = max(worst, diff)
            good = worst <= lim
            ok &= good
            line = (f"{'PASS' if good else 'FAIL'}  {mode:<17} {np.dtype(dtype).name:<8} "
                    f"{n_nets} nets  max rel diff {worst:.2e} (limit {lim:.0e})")
            print(line, flush=True)
            results["checks"].append(line)
    return ok


# -- (b) timing ---------------------------------------------------------------------------
def time_gpu_epoch(nc, net, X, T, batch, compile_X):
    """(compile seconds, epoch seconds) of TrainState on X; compile measured on compile_X."""
    Tc = T[:len(compile_X)]
    t0 = time.perf_counter()
    warm = nc.Trainer(net, compile_X, Tc, batch)
    warm.epoch(np.arange(len(compile_X)), 0.01)
    compile_s = time.perf_counter() - t0
    st = nc.Trainer(net, X, T, batch)
    st.epoch(np.arange(len(X)), 0.01)              # first run on this data: allocations
    st = nc.Trainer(net, X, T, batch)
    t0 = time.perf_counter()
    st.epoch(np.arange(len(X)), 0.01)
    return compile_s, time.perf_counter() - t0, st.mode


def timing(nc, S, dtype, results):
    rows, compiles = [], []
    rng = np.random.default_rng(0)

    def row(label, edges, steps_gpu, samples_gpu, t_gpu, steps_cpu, samples_cpu, t_cpu, nets=1,
            note=""):
        r = dict(label=label, edges=edges, nets=nets,
                 cpu_us=1e6 * t_cpu / steps_cpu, gpu_us=1e6 * t_gpu / steps_gpu,
                 cpu_cups=nets * edges * samples_cpu / t_cpu,
                 gpu_cups=nets * edges * samples_gpu / t_gpu, note=note)
        rows.append(r)
        print(f"  {label:<34} CPU {r['cpu_us']:>11.1f} us/step {r['cpu_cups']:9.3g} CUPS | "
              f"CUDA {r['gpu_us']:>11.1f} us/step {r['gpu_cups']:9.3g} CUPS  {note}",
              flush=True)

    # chapter net per-sample
    d = ns.datasets.moons()
    X = d.X_train[:S["chapter_samples"]].astype(dtype)
    T = d.y_train[:S["chapter_samples"]].astype(dtype)[:, None]
    net = ns.presets.moons_net(dtype=dtype)
    n = len(X)
    cpu_epoch(net, X[:2], T[:2], np.arange(2), 0.05, 1, net.weights.copy())   # compile
    t_cpu = cpu_epoch(net, X, T, np.arange(n), 0.05, 1, net.weights.copy())
    c, t_gpu, mode = time_gpu_epoch(nc, net, X, T, 1, X[:4])
    compiles.append(("per-sample SGD, one block (" + mode + ")", c))
    row("chapter net, per-sample", net.n_edges, n, n, t_gpu, n, n, t_cpu, note=f"[{mode}]")

    # many chapter nets at once
    k = S["many_nets"]
    W = net.weights[None, :] + rng.normal(0, 0.05, (k, net.n_edges))
    lrs = np.geomspace(0.005, 0.5, k)
    t0 = time.perf_counter()
    ns.train_many(net, X[:4], T[:4], lr=lrs[:2], weights=W[:2], epochs=1, shuffle=False,
                  device="cuda")
    compiles.append(("many networks (train + evaluate kernels)", time.perf_counter() - t0))
    h = ns.train_many(net, X, T, lr=lrs, weights=W, epochs=1, shuffle=False, device="cuda")
    t_gpu = h.train_time
    kc = S["many_cpu_nets"]
    t_cpu = sum(cpu_epoch(net, X, T, np.arange(n), lrs[i], 1, W[i].astype(dtype))
                for i in range(kc))
    row(f"{k:,} chapter nets at once", net.n_edges, n, n * k, t_gpu, n, n * kc, t_cpu,
        note=f"(CPU: {kc:,} nets one after another)")

    # 2-1024-1024-1 and 4096-wide, per-sample and minibatch
    for tag, sizes, g_s, c_s, g_b, c_mb in (
            ("2-{m}-{m}-1".format(m=S["mid"]), [2, S["mid"], S["mid"], 1],
             S["mid_gpu_samples"], S["mid_cpu_samples"], S["mid_gpu_batches"],
             S["mid_cpu_mb_samples"]),
            ("wide {i}-{m}-{m}-1".format(i=S["wide_in"], m=S["wide"]),
             [S["wide_in"], S["wide"], S["wide"], 1], S["wide_gpu_samples"],
             S["wide_cpu_samples"], S["wide_gpu_batches"], S["wide_cpu_mb_samples"])):
        big = ns.Network.layered(sizes, hidden="relu", output="sigmoid", loss="bce",
                                 init="he", seed=0, dtype=dtype)
        B = S["batch"]
        N = max(g_s, g_b * B, c_s, B)
        Xb = rng.normal(0, 1, (N, sizes[0])).astype(dtype)
        Tb = (rng.random((N, 1)) < 0.5).astype(dtype)
        cpu_epoch(big, Xb[:2], Tb[:2], np.arange(2), 0.01, 1, big.weights.copy())
        cpu_epoch(big, Xb[:2], Tb[:2], np.arange(2), 0.01, 2, big.weights.copy())
        t_cpu = cpu_epoch(big, Xb[:c_s], Tb[:c_s], np.arange(c_s), 0.01, 1,
                          big.weights.copy())
        c, t_gpu, mode = time_gpu_epoch(nc, big, Xb[:g_s], Tb[:g_s], 1, Xb[:2])
        compiles.append((f"per-sample SGD, {mode} ({tag})", c))
        row(f"{tag} per-sample", big.n_edges, g_s, g_s, t_gpu, c_s, c_s, t_cpu,
            note=f"[{mode}] CPU on {c_s} samples")
        # the CPU's cost per sample does not depend on the batch: time c_mb samples of
        # one batch and count the step as B / c_mb of them
        t_cpu = cpu_epoch(big, Xb[:c_mb], Tb[:c_mb], np.arange(c_mb), 0.01, B,
                          big.weights.copy())
        c, t_gpu, mode = time_gpu_epoch(nc, big, Xb[:g_b * B], Tb[:g_b * B], B, Xb[:B])
        compiles.append((f"minibatch, {mode} ({tag})", c))
        row(f"{tag} minibatch {B}", big.n_edges, g_b, g_b * B, t_gpu, c_mb / B, c_mb, t_cpu,
            note=f"[{mode}] CPU on {c_mb} samples of one batch")
    print("JIT compile (first launch of each mode, seconds, not in the timings):")
    for lab, c in compiles:
        print(f"  compile {lab:<48} {c:8.2f} s")
    results["rows"], results["compiles"] = rows, compiles


def write_markdown(path, results, args):
    lines = [f"# CUDA check and timings ({results['device']})", "",
             f"Command: `python bench/gpu_check.py {' '.join(args)}`  ",
             f"Device: **{results['device']}**; dtype of the timings: {results['dtype']}; "
             f"total {results['total']:.0f} s.", "", "## CPU == GPU", "", "```",
             *results["checks"], "```", "", "## Timings", "",
             "| mode and size | edges | CPU µs/step | CUDA µs/step | CPU CUPS | CUDA CUPS | "
             "speed-up | note |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in results["rows"]:
        lines.append(f"| {r['label']} | {r['edges']:,} | {r['cpu_us']:.1f} | "
                     f"{r['gpu_us']:.1f} | {r['cpu_cups']:.3g} | {r['gpu_cups']:.3g} | "
                     f"{r['gpu_cups'] / r['cpu_cups']:.3g}x | {r['note']} |")
    lines += ["", "JIT compile time (first launch, excluded above):", ""]
    lines += [f"- {lab}: {c:.2f} s" for lab, c in results["compiles"]]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# -- (c) PTX without a GPU ------------------------------------------------------------------
KERNELS = ("forward", "output_layer", "backward", "gradient", "update", "sgd_update",
           "batch_update", "train_epoch", "evaluate", "predict")


def record_signatures(path):
    """On the simulator: run every driver path, both dtypes, and write the argument types of
    every kernel launch to ``path`` (JSON)."""
    import json
    import neurosim.backends.cuda as nc
    from neurosim.kernels import cuda as K
    sys.setswitchinterval(5e-5)
    sigs = {}

    def describe(a):
        arr = getattr(a, "_ary", a)                    # the simulator's device arrays
        if isinstance(arr, np.ndarray):
            return ["array", arr.dtype.name, arr.ndim, "C" if arr.flags.c_contiguous else "A"]
        if isinstance(a, (bool, np.bool_)):
            return ["boolean"]
        if isinstance(a, (int, np.integer)):
            return ["int64"]
        return [np.dtype(type(a)).name if isinstance(a, np.floating) else "float64"]

    class Recorder:
        def __init__(self, name, kernel):
            self.name, self.kernel = name, kernel

        def __getitem__(self, launch_config):
            launch = self.kernel[launch_config]

            def call(*args):
                sigs.setdefault(self.name, set()).add(json.dumps([describe(a) for a in args]))
                return launch(*args)
            return call

    for name in KERNELS:
        setattr(K, name, Recorder(name, getattr(K, name)))
    config.THREADS_PER_BLOCK = config.BLOCK_THREADS = 4
    for dtype in (np.float64, np.float32):
        for loss in ("quadratic", "bce", "softmax_ce"):
            net = random_dag(1, loss, dtype)
            rng = np.random.default_rng(0)
            X, T = rng.normal(0, 1, (5, net.n_inputs)), targets(net, 5, rng)
            c = net.copy()
            ns.forward(c, X[0], device="cuda")
            ns.backward(c, T[0], device="cuda")
            nc.gradient(c)
            ns.update(c, 0.1, device="cuda")
            ns.predict(c, X, device="cuda")
            for max_edges in (10**9, 0):
                config.SGD_BLOCK_MAX_EDGES = max_edges
                for batch in (1, 2):
                    for skip in (False, True):
                        ns.train(net.copy(), X, T, lr=0.1, epochs=1, batch_size=batch,
                                 skip_zero_error=skip, device="cuda")
            ns.train_many(net, X, T, lr=[0.1, 0.2], epochs=1, X_test=X, y_test=T, device="cuda")
    with open(path, "w") as f:
        json.dump({k: sorted(v) for k, v in sigs.items()}, f)
    missing = [k for k in KERNELS if k not in sigs]
    if missing:
        raise SystemExit(f"kernels never launched: {missing}")


def ptx_check(cc):
    """Compile every kernel for every recorded signature to PTX for compute capability
    ``cc`` (NVVM only, no GPU or driver needed). Returns the number of failures."""
    import json
    import subprocess
    import tempfile
    import numba
    if numba.config.ENABLE_CUDASIM:
        raise SystemExit("--ptx compiles for the real target: run it without "
                         "NUMBA_ENABLE_CUDASIM")
    from numba import cuda, types
    from neurosim.kernels import cuda as K
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sigs.json")
        env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
        subprocess.run([sys.executable, os.path.abspath(__file__), "--record-signatures",
                        path], check=True, env=env)
        with open(path) as f:
            sigs = json.load(f)

    def ty(d):
        return types.Array(getattr(types, d[1]), d[2], d[3]) if d[0] == "array" \
            else getattr(types, d[0])

    bad = 0
    for name in KERNELS:
        for sig in sigs[name]:
            args = tuple(ty(d) for d in json.loads(sig))
            t0 = time.perf_counter()
            try:
                ptx, _ = cuda.compile_ptx(getattr(K, name).py_func, args, cc=cc)
                dt = [str(a.dtype) for a in args if isinstance(a, types.Array)
                      and a.dtype in (types.float32, types.float64)]
                print(f"PASS  ptx sm_{cc[0]}{cc[1]}  {name:<13} "
                      f"{'/'.join(sorted(set(dt))):<16} {len(ptx):>7} chars "
                      f"{time.perf_counter() - t0:5.1f} s", flush=True)
            except Exception as e:             # report every kernel, then fail
                bad += 1
                print(f"FAIL  ptx {name} {args}: {type(e).__name__}: {e}", flush=True)
    return bad


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tiny", action="store_true",
                   help="tiny sizes and blocks (for Numba's CUDA simulator)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="dtype of the timing runs (the checks use both)")
    p.add_argument("--check-nets", type=int, default=None,
                   help="random networks per mode and dtype in the checks (default 3, tiny 1)")
    p.add_argument("--no-timing", action="store_true", help="only the CPU == GPU checks")
    p.add_argument("--out", default=None, help="also write the results as Markdown here")
    p.add_argument("--ptx", metavar="CC", default=None,
                   help="no GPU needed: compile every kernel, with the argument types the "
                        "drivers pass, to PTX for compute capability CC (e.g. 9.0) with "
                        "NVVM, and exit")
    p.add_argument("--record-signatures", metavar="PATH", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.record_signatures:
        record_signatures(args.record_signatures)
        return 0
    if args.ptx:
        bad = ptx_check(tuple(int(v) for v in args.ptx.split(".")))
        print(f"ptx: {'all kernels compiled' if not bad else f'{bad} FAILED'}")
        return 1 if bad else 0
    t_start = time.perf_counter()
    import neurosim.backends.cuda as nc
    if args.tiny:
        config.THREADS_PER_BLOCK = 4
        config.BLOCK_THREADS = 4
        config.SGD_BLOCK_MAX_EDGES = 40  # the chapter net in one block, the others by levels
        sys.setswitchinterval(5e-5)      # the simulator polls threads waiting at barriers
    dev = nc.device_name()
    print(f"device: {dev}")
    print(f"neurosim {ns.__version__}, numpy {np.__version__}, "
          f"numba {__import__('numba').__version__}", flush=True)
    results = dict(device=dev, dtype=args.dtype, checks=[], rows=[], compiles=[])
    print("== CPU == GPU ==")
    ok = check_equality(nc, args.check_nets or (1 if args.tiny else 3), results)
    if not args.no_timing:
        print(f"== timings ({args.dtype}; CUPS = edges x samples / s; one step = one sample "
              "for SGD, one minibatch otherwise) ==")
        timing(nc, TINY if args.tiny else FULL, np.dtype(args.dtype), results)
    results["total"] = time.perf_counter() - t_start
    print(f"total {results['total']:.1f} s; checks {'all passed' if ok else 'FAILED'}")
    if args.out:
        write_markdown(args.out, results, sys.argv[1:] if argv is None else argv)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
