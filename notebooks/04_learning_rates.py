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

# %% [markdown]
# ## An error term that adds: the L2 penalty
# The chapter opens by saying the error can have several terms that simply add, and names
# the common one: a term that grows when the weights stray far from a small range, so that
# minimising the error keeps them small. neurosim's is `l2`: E = data term + λ/2·Σw² over
# the non-bias weights (biases are not penalised, as in scikit-learn: a bias only shifts a
# neuron's input and keeping it small does not make the boundary smoother), so every step
# also takes η·λ·w off each of them: `AC ← AC − η·(Ao·Cδ + λ·AC)`.
#
# Below: the η = 0.05 run again from the same weights and seed with λ = 0.001 and 0.01,
# and the η = 0.5 and 0.05 seed sweeps again with each λ (`demo.penalty_study`; the demo
# writes the same figure as `penalty.png`).

# %%
study = demo.penalty_study(d, RUNS, start, ns.presets.MOONS_SEED, range(SEEDS),
                           book={lr: h for lr, (_, h) in runs.items()})
display(Markdown(demo.penalty_table(study.rows)))
for l2, h in study.histories.items():
    print(f"λ = {l2:<6g} final test acc {h.test_acc[-1]:.4f}, data term "
          f"{h.train_data_loss[-1]:.4f} + penalty {h.penalty[-1]:.4f} = {h.train_loss[-1]:.4f}, "
          f"largest non-bias |w| {demo.largest_weight(h.weights, start)[-1]:.2f}")

# %%
demo.penalty_figure(study, start)

# %% [markdown]
# What it did, measured with the full sizes (50 seeds, the book's epochs; `neurosim demo`):
#
# - **λ = 0.01 keeps the weights small**: the book's η = 0.05 run ends with its largest
#   non-bias |w| at 1.3 instead of 4.7, its weight curves nearly flat after epoch 5 — but at
#   a cost: test accuracy 0.906 instead of 1.0, and across the seeds no run ends at 100%
#   (20 of 50 without the penalty). λ = 0.001 barely changes anything in 21 epochs (16 of
#   50 at 100%; the book's run even ends with a larger weight, 5.4).
# - **It does not rescue η = 0.5.** All 50 seeds collapse to a one-class answer with and
#   without the penalty. The collapse happens in the first epoch: after it, every one of
#   the 50 networks has all four ReLUs of its last hidden layer dead on all 1,536 training
#   points (48 of 50 with λ = 0.01), so no gradient reaches the weights any more. The penalty
#   cannot revive them: it only shrinks the dead weights towards zero (the median largest
#   |w| at the end falls from 1.7 to 2e-7 at λ = 0.001). Too large a step is not the same
#   problem as weights that grow large, and the penalty only addresses the second.
