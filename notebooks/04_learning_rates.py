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
# # (d) Three learning rates on the two moons, and the distribution behind them
#
# Figs 14-28 to 14-38. The 2-4-4-1 classifier (ReLU, ReLU, sigmoid; 37 weights) trained
# on the book's data with per-sample SGD and binary cross-entropy (as the book's figures
# were made), from **the same initial weights** at η = 0.5 (21 epochs), 0.05 (21) and
# 0.01 (201). Then, beyond the book, the same runs from many initialisations: the book
# shows one draw from each distribution.
#
# `neurosim demo` writes all of these figures to a folder; here they are inline. Set
# `NEUROSIM_SMALL=1` for a quick run (fewer epochs and seeds).

# %%
import os

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import neurosim as ns
from neurosim import demo, plots

SMALL = os.environ.get("NEUROSIM_SMALL") == "1"
RUNS = [(0.5, 4), (0.05, 6), (0.01, 8)] if SMALL else list(demo.BOOK_RUNS)
SEEDS = 3 if SMALL else 50

d = ns.datasets.moons()
start = ns.presets.moons_net()                 # the shared initial weights
print(start)

# %% [markdown]
# ## The data (Fig 14-28)

# %%
fig, ax = plt.subplots(figsize=(5.5, 4.8), layout="constrained")
plots.plot_data(d.X_train, d.y_train, ax, X_test=d.X_test, y_test=d.y_test)

# %% [markdown]
# ## The three runs

# %%
runs = {}
for lr, epochs in RUNS:
    net = start.copy()
    runs[lr] = (net, ns.train(net, d.X_train, d.y_train, lr=lr, epochs=epochs,
                              X_test=d.X_test, y_test=d.y_test))
display(Markdown(demo.runs_table([demo.run_summary(h) for _, h in runs.values()])))


# %%
def show(lr):
    """Boundary, accuracy, loss and every weight of one run (Figs 14-30 to 14-38)."""
    net, h = runs[lr]
    fig = plt.figure(figsize=(15, 8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.1])
    a = top.subplots(1, 3)
    plots.plot_boundary(net, d.X_test, d.y_test, a[0], title=f"η = {lr:g}: boundary")
    plots.plot_accuracy(h, a[1], title=f"η = {lr:g}: accuracy")
    plots.plot_loss(h, a[2], title=f"η = {lr:g}: loss")
    plots.plot_weights(h, bottom.subplots(), title=f"η = {lr:g}: all 37 weights")


# %% [markdown]
# ### η = 0.5 (Figs 14-30 to 14-32)
# Too large a step: in the book everything ends up in one class (accuracy ≈ 0.5) with one
# weight jumping around while the others barely move.

# %%
show(RUNS[0][0])

# %% [markdown]
# ### η = 0.05 (Figs 14-33 to 14-35)

# %%
show(RUNS[1][0])

# %% [markdown]
# ### η = 0.01 (Figs 14-36 to 14-38)
# Small steps: in the book a long plateau near 90% accuracy (a flat region of the error
# surface), then a jump to 100% at about epoch 170.

# %%
show(RUNS[2][0])

# %% [markdown]
# ## The seed sweep
# The same runs from `SEEDS` initialisations (seed s sets the initial weights and the
# shuffling). Per η and epoch: the median test accuracy with its 10th–90th percentile
# band, and the fraction of runs at 100% test accuracy.

# %%
df = demo.seed_sweep(d, RUNS, range(SEEDS))       # one neurosim.sweep per (η, epochs)
display(Markdown(demo.sweep_table(demo.sweep_summary(df))))

# %%
fig, axes = plt.subplots(2, len(RUNS), figsize=(13, 6.5), layout="constrained", squeeze=False)
for c, (lr, epochs) in enumerate(RUNS):
    plots.plot_sweep(df[df["lr"] == lr], ax=[axes[0, c], axes[1, c]])
    axes[0, c].set_title(f"η = {lr:g}: median test accuracy, 10–90% band", fontsize=10)
    axes[1, c].set_title(f"η = {lr:g}: fraction of runs at 100%", fontsize=10)

# %% [markdown]
# ## The trained network (Fig 14-29)
# The η = 0.05 network after training, with the outputs and deltas of the first training
# sample written on it.

# %%
net, h = runs[RUNS[1][0]]
fig, ax = plt.subplots(figsize=(10, 7), layout="constrained")
plots.plot_network(net, ax, x=d.X_train[0], y=d.y_train[:1],
                   title=f"η = {RUNS[1][0]:g} after {h.epochs} epochs")

# %% [markdown]
# Read the table, not the single run: what one seed does at a given η is a draw from the
# distribution above.
