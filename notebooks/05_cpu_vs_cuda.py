# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # (e) CPU against CUDA
#
# The chapter ends by noting that the neurons of one layer don't depend on each other, so
# a whole layer can be computed at once — on a GPU, for instance. neurosim has a Numba CPU
# path and a CUDA path with the same API (`device="cuda"`), plus `neurosim.train_many(..., device="cuda")`
# that trains many networks side by side, one CUDA block each.
#
# This notebook times the CPU here and now. The CUDA part runs only where a real NVIDIA GPU
# is present; elsewhere it shows the benchmark results stored in the repository
# (`bench/RESULTS.md`, `bench/RESULTS_GPU.md`). Set `NEUROSIM_SMALL=1` for a quick run.

# %%
import os
import pathlib
import time

import numpy as np
from IPython.display import Markdown, display

import neurosim as ns

SMALL = os.environ.get("NEUROSIM_SMALL") == "1"
d = ns.datasets.moons()

# only a real GPU counts: Numba's CUDA simulator runs the kernels, but its timings mean
# nothing
why_not = ns.backends.real_gpu()
GPU = why_not is None
print("real GPU present:", GPU, "" if GPU else f"({why_not})")

# %% [markdown]
# ## CPU: connection updates per second (CUPS)
# One connection update is the forward, backward and weight-change work of one edge for one
# sample. Per-sample SGD on the moons net, and on wider layered nets.

# %%
NETS = {"moons 2-4-4-1": lambda: ns.presets.moons_net(),
        "2-64-64-1": lambda: ns.Network.layered([2, 64, 64, 1], hidden="relu",
                                                output="sigmoid", loss="bce", seed=0),
        "2-256-256-1": lambda: ns.Network.layered([2, 256, 256, 1], hidden="relu",
                                                  output="sigmoid", loss="bce", seed=0)}
n = 256 if SMALL else len(d.X_train)
epochs = 1 if SMALL else 3


def timing(device):
    rows = []
    for name, make in NETS.items():
        net = make()
        h = ns.train(net, d.X_train[:n], d.y_train[:n], lr=0.01, epochs=epochs, device=device)
        rows.append((name, net.n_edges, h.train_time, h.cups, h.compile_time))
    return rows


def table(rows, device):
    lines = [f"| net ({device}) | edges | training time (s) | CUPS | compile/load (s) |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {r[0]} | {r[1]:,} | {r[2]:.3f} | {r[3]:.3g} | {r[4]:.2f} |" for r in rows]
    return "\n".join(lines)


cpu_rows = timing("cpu")
display(Markdown(f"{n} samples x {epochs} epochs, per-sample SGD\n\n" + table(cpu_rows, "cpu")))

# %% [markdown]
# ## CUDA

# %%
if GPU:
    from neurosim.backends import cuda
    print("device:", cuda.device_name())
    gpu_rows = timing("cuda")
    display(Markdown(table(gpu_rows, "cuda")))
    # many networks at once: a seed sweep of the moons net, one block per network
    k = 8 if SMALL else 256
    nets = [ns.presets.moons_net(seed=s) for s in range(k)]
    t0 = time.perf_counter()
    mh = ns.train_many(nets, d.X_train, d.y_train, lr=0.05, epochs=epochs,
                       seed=list(range(k)), device="cuda")
    t_gpu = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in range(min(k, 8)):
        ns.train(ns.presets.moons_net(seed=s), d.X_train, d.y_train, lr=0.05,
                 epochs=epochs, seed=s)
    t_cpu = (time.perf_counter() - t0) * k / min(k, 8)
    print(f"{k} moons nets x {epochs} epochs: train_many {t_gpu:.2f} s on the GPU; "
          f"one after another on the CPU ≈ {t_cpu:.2f} s (extrapolated from 8)")
else:
    print("No GPU here: the stored benchmark results follow.")

# %% [markdown]
# ## Stored benchmark results
# Written by `bench/` (see the README's Performance section). Each file says on which
# machine its numbers were measured.

# %%
def find_bench():
    roots = [pathlib.Path(ns.__file__).resolve().parents[1], pathlib.Path.cwd(),
             pathlib.Path.cwd().parent]
    for r in roots:
        if (r / "bench").is_dir():
            return r / "bench"
    return None


bench = find_bench()
shown = 0
for fname in ("RESULTS.md", "RESULTS_GPU.md"):
    p = bench / fname if bench is not None else None
    if p is not None and p.is_file():
        display(Markdown(f"### {fname}\n\n" + p.read_text(encoding="utf-8")))
        shown += 1
    else:
        print(f"{fname}: not found (no benchmark results stored yet)")
print(f"{shown} result file(s) shown")
