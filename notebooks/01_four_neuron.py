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
# # (a) The four-neuron network, traced step by step
#
# Chapter 14's first network (Figs 14-5, 14-6): inputs X and Y feed hidden neurons A and B,
# which feed the outputs C and D (the predictions P1 and P2). Eight weights, named by their
# endpoints: XA, YA, XB, YB, AC, BC, AD, BD. Identity activations and the quadratic cost
# E = ½Σ(o − t)², as in the text. The sample is the point (1, 1), labelled class 1, so the
# targets are P1 = 1 and P2 = 0.

# %%
import matplotlib.pyplot as plt
import numpy as np

import neurosim as ns
from neurosim import curves, plots

net = ns.presets.four_neuron()
x, t = ns.presets.FOUR_NEURON_SAMPLE
print(net)
print(dict(zip(net.edge_names, net.weights)))

# %% [markdown]
# ## Forward: outputs flow right
# Each neuron adds up its inputs, each scaled by the weight of its edge.

# %%
ns.forward(net, x)
for n in "ABCD":
    print(f"{n}o = {net.output(n):+.4f}")

# %% [markdown]
# ## Backward: deltas flow left
# An output's δ comes from the cost: δ = ∂E/∂o = output − label (the chapter's Fig 14-12
# prints label − output; with its own update rule AC ← AC − η·Ao·Cδ that sign would raise
# the error). A hidden neuron's δ is the sum of the downstream deltas, each scaled by the
# connecting weight: Aδ = AC·Cδ + AD·Dδ (Figs 14-16 to 14-19).

# %%
E = ns.backward(net, t)
print(f"E = {E:.4f}")
for n in "ABCD":
    print(f"{n}δ = {net.delta(n):+.4f}")
assert np.isclose(net.delta("A"), net.weight("AC") * net.delta("C")
                  + net.weight("AD") * net.delta("D"))

# %% [markdown]
# `neurosim.trace` writes every step in the chapter's notation, with the numbers
# (the network itself is not changed):

# %%
tr = ns.trace(net, x, t, lr=0.1)
print(tr.explain())

# %% [markdown]
# The whole state at once, as in Fig 14-6: every neuron's output and delta, every weight.

# %%
fig, ax = plt.subplots(figsize=(7.5, 4), layout="constrained")
plots.plot_network(net, ax, x=x, y=t, digits=3, title="Four-neuron net, sample (1, 1) → (1, 0)")

# %% [markdown]
# ## The perturbation experiment (Figs 14-3, 14-4, 14-7)
# Change A's output by a small m with everything else frozen: the error changes by
# Em ≈ m × Aδ. The prediction is exact up to a term in m² (here the network is linear
# in Ao and the cost quadratic, so the gap is exactly proportional to m²).

# %%
print(tr.perturb("A", 0.01))

# %%
rows = []
for m in (0.001, 0.01, 0.1, 0.5, 1.0):
    p = tr.perturb("A", m)
    rows.append((m, p.predicted, p.measured, p.gap, p.gap / m**2))
print(f"{'m':>6} {'predicted Em':>13} {'measured Em':>12} {'gap':>10} {'gap / m²':>9}")
for r in rows:
    print(f"{r[0]:6g} {r[1]:+13.6f} {r[2]:+12.6f} {r[3]:+10.2e} {r[4]:9.4f}")
ratios = np.array([r[4] for r in rows])
assert np.allclose(ratios, ratios[0])          # the gap is c·m², with one c

# %% [markdown]
# Perturbing a weight works the same way, with ∂E/∂w = Ao·Cδ in place of δ:

# %%
print(tr.perturb("AC", 0.05))

# %% [markdown]
# ## The error curve and its tangent (Figs 14-9, 14-10)
# Sweep Co with everything else frozen: the tangent at the current value has slope Cδ.
# Left: this network's Co; right: the chapter's own curve E = (P1 − 1)² at P1 = −1, where
# the slope is −4 and a step of 0.5 predicts an error change of −2.

# %%
fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.3), layout="constrained")
plots.plot_error_curve(tr.error_curve("C"), a1, step=[0.25, 0.5])
cnet, cx, ct = curves.chapter_example()
plots.plot_error_curve(ns.error_curve(cnet, cx, ct, "P", span=2.0), a2, step=[0.5, 1.0])

# %% [markdown]
# ## The update (Figs 14-13, 14-15, 14-27)
# Every weight moves against its own gradient: AC ← AC − η·Ao·Cδ. After one step the
# error on this sample is lower.

# %%
before = dict(zip(net.edge_names, net.weights.copy()))
ns.update(net, lr=0.1)
for e in net.edge_names:
    print(f"{e}: {before[e]:+.4f} -> {net.weight(e):+.4f}")
ns.forward(net, x)
E1 = ns.backward(net, t)
print(f"error {E:.4f} -> {E1:.4f}")
assert E1 < E and np.isclose(net.weight("AC"), 0.3505)

# %% [markdown]
# ## Is every delta right? Finite differences
# `gradcheck` nudges every weight both ways and compares the error's slope with backprop's.

# %%
print(ns.gradcheck(ns.presets.four_neuron(), x[None], t[None]))

# %% [markdown]
# ## The same arithmetic, as the code that trains
# For a small network `train` does not run a general loop over the edge list: the kernel
# planner writes this network's per-sample SGD out, every edge a literal index and every
# neuron's output (`Ao`), delta (`Ad`) and dE/dz (`Ag`) a local variable, and compiles it
# once per machine. For the four-neuron net it is the chapter's arithmetic line for line:
# `Ad += w[4] * Cg` is Aδ = AC·Cδ + AD·Dδ being summed, `w[4] -= st_ * Ao` is
# AC ← AC − η·Ao·Cδ (`neurosim trace --code` prints the same).

# %%
src = ns.kernel_source(ns.presets.four_neuron())
print(src[src.index("@njit"):])
