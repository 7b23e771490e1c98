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
# # (b) The 2-2-4-3-2 network: deltas layer by layer
#
# Figs 14-22 to 14-26: two inputs, hidden layers of 2, 4 and 3 neurons, two outputs.
# The deltas are found one layer at a time, from the outputs back to the first hidden
# layer; each hidden neuron needs only the deltas of the layer to its right and the
# weights that connect them. neurosim groups neurons by *level* (neurons of one level
# never feed each other), which for this network are exactly the layers.

# %%
import matplotlib.pyplot as plt
import numpy as np

import neurosim as ns
from neurosim import plots

net = ns.presets.net_22432()          # identity activations, no biases, as drawn
x, t = np.array([1.0, 1.0]), np.array([1.0, 0.0])
print(net)
levels = {}
for j, name in enumerate(net.neuron_names):
    if j != net.bias:
        levels.setdefault(int(net.level[j]), []).append(name)
print(levels)

# %% [markdown]
# ## Forward, then the deltas of the outputs

# %%
tr = ns.trace(net, x, t)
print(f"E = {tr.error:.4f}")
for name in levels[max(levels)]:
    n = tr.neuron(name)
    print(f"{name}o = {n.output:+.4f}   {name}δ = {name}o − t{name} = {n.delta:+.4f}")

# %% [markdown]
# ## Then one layer at a time, right to left
# Each line is the chapter's rule: a neuron's δ is the sum over the neurons it feeds of
# (connecting weight × their δ).

# %%
for level in sorted(levels, reverse=True)[1:]:
    if level == 0:
        break
    print(f"level {level}: {levels[level]}")
    for name in levels[level]:
        n = tr.neuron(name)
        terms = " + ".join(f"{b.edge}·{b.neuron}δ" for b in n.backward)
        nums = " + ".join(f"({b.weight:+.3f})·({b.value:+.3f})" for b in n.backward)
        total = sum(b.weight * b.slope * b.value for b in n.backward)
        assert np.isclose(total, n.delta)
        print(f"  {name}δ = {terms}\n      = {nums} = {n.delta:+.4f}")

# %% [markdown]
# The same deltas from the compiled backward pass (`neurosim.backward`), which does all
# of this in one sweep over the edge list:

# %%
ns.forward(net, x)
ns.backward(net, t)
for name in net.neuron_names[net.first:]:
    assert np.isclose(net.delta(name), tr.neuron(name).delta)
print({name: round(net.delta(name), 4) for name in net.neuron_names[net.first:]})

# %%
fig, ax = plt.subplots(figsize=(12, 6.5), layout="constrained")
plots.plot_network(net, ax, x=x, y=t, title="2-2-4-3-2 net: outputs flow right, deltas flow left")

# %% [markdown]
# ## With activation functions
# The chapter leaves activations out while explaining, then says real networks include
# them: each term then carries the derivative of the downstream neuron's activation,
# Aδ = Σ AC·f′(zC)·Cδ. Here: tanh hidden layers, sigmoid outputs, biases. (tanh is
# smooth, so the finite-difference check below is exact to rounding; with ReLU a neuron
# sitting exactly at z = 0 has no derivative to check.)

# %%
smooth = ns.presets.net_22432(activation="tanh", output="sigmoid", biases=True, seed=3)
tr2 = ns.trace(smooth, x, t)
print(tr2.explain("B"))
check = ns.gradcheck(smooth, x[None], t[None])
print(check)
assert not check.bad
