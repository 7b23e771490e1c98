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
# # (c) The slow learner against gradient descent
#
# The chapter's "slow way to learn": pick one weight at random, freeze the rest, add a small
# random change m, run the same sample again; keep the change if the error fell, undo it if
# not; repeat, then the next sample, epoch after epoch. It works, eventually. Backprop
# instead gets, from one forward and one backward pass, the direction in which to move
# *every* weight at once.
#
# Both learners here start from the same weights of the moons net (37 weights) on the same
# data, with the chapter's quadratic cost; we compare the training error against the work
# done (forward passes) and against the wall-clock time. Set `NEUROSIM_SMALL=1` for a
# quick run.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import neurosim as ns
from neurosim import training as slow

SMALL = os.environ.get("NEUROSIM_SMALL") == "1"
EPOCHS = 4 if SMALL else 30
TRIES = 10                                   # random changes tried per sample

d = ns.datasets.moons()
X, y = (d.X_train[:256], d.y_train[:256]) if SMALL else (d.X_train, d.y_train)
start = ns.presets.moons_net(loss="quadratic")
print(f"{len(X)} training samples, {EPOCHS} epochs; {start}")

# %%
net_slow, net_gd = start.copy(), start.copy()
h_slow = ns.slow_learn(net_slow, X, y, epochs=EPOCHS, tries=TRIES, scale=0.05,
                       X_test=d.X_test, y_test=d.y_test)
h_gd = ns.train(net_gd, X, y, lr=0.05, epochs=EPOCHS, X_test=d.X_test, y_test=d.y_test)
print(h_slow)
print(h_gd)
print(f"forward passes: slow {h_slow.forward_passes:,}, gradient descent "
      f"{h_gd.forward_passes:,}")

# %% [markdown]
# ## Error against work and against time
# Gradient descent does one forward and one backward pass per sample; the slow learner
# one forward pass per try (plus one to know the error it starts from).

# %%
fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
for h, name, c in ((h_slow, f"slow learner ({TRIES} tries/sample)", "C1"),
                   (h_gd, "gradient descent, η = 0.05", "C0")):
    a1.plot(h.train_loss, color=c, label=name)
    a2.plot(slow.passes(h), h.train_loss, color=c, label=name)
    a3.plot(np.r_[0, np.cumsum(h.epoch_time)], h.train_loss, color=c, label=name)
a1.set(xlabel="epoch", ylabel="training error (mean per sample)", title="per epoch")
a2.set(xlabel="forward passes", ylabel="training error", title="per forward pass")
a3.set(xlabel="seconds in the training kernel", ylabel="training error", title="per second")
for a in (a1, a2, a3):
    a.grid(alpha=0.3)
    a.legend(fontsize=8)

# %% [markdown]
# ## How much work to reach the same error?
# The slow learner's best training error, and the forward passes each learner needed to
# first get there. (Its error need not keep falling: a change is kept when it helps the
# *current* sample, which can hurt the others.)

# %%
target = h_slow.train_loss[1:].min()
ps, pg = slow.passes_to_reach(h_slow, target), slow.passes_to_reach(h_gd, target)
fmt = lambda p: "never" if p is None else f"{p:,}"
print(f"training error <= {target:.4f} (the slow learner's best): slow learner after "
      f"{fmt(ps)} forward passes, gradient descent after {fmt(pg)}")
print(f"lowest training error: slow {h_slow.train_loss.min():.4f}, gradient descent "
      f"{h_gd.train_loss.min():.4f}")
print(f"final test accuracy: slow {h_slow.test_acc[-1]:.3f}, gradient descent "
      f"{h_gd.test_acc[-1]:.3f}")

# %% [markdown]
# The slow learner has to guess: each try moves one of 37 weights, and about half the
# guesses are thrown away. Gradient descent moves all 37 in a useful direction at every
# sample. With millions of weights, guessing one at a time is hopeless — the chapter's
# point.

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for a, net, h, name in ((ax[0], net_slow, h_slow, "slow learner"),
                        (ax[1], net_gd, h_gd, "gradient descent")):
    ns.plots.plot_boundary(net, d.X_test, d.y_test, a,
                           title=f"{name}, {EPOCHS} epochs: test acc {h.test_acc[-1]:.3f}")
