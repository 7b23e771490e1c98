"""A slow, obviously-correct reference: one loop per neuron, float64, plain Python/NumPy.

It reads only the network's names, roles, activations, loss and edge list (by name), and
shares no code with neurosim's kernels.
"""
import math

import numpy as np

ACT = {
    "identity": (lambda z: z, lambda z, o: 1.0),
    "relu": (lambda z: max(z, 0.0), lambda z, o: 1.0 if z > 0 else 0.0),
    "leaky_relu": (lambda z: z if z > 0 else 0.01 * z, lambda z, o: 1.0 if z > 0 else 0.01),
    "sigmoid": (lambda z: 1.0 / (1.0 + math.exp(-z)), lambda z, o: o * (1.0 - o)),
    "tanh": (math.tanh, lambda z, o: 1.0 - o * o),
}


def spec(net):
    """The network as plain Python: names, edges [(src, dst)], weights {edge: w}."""
    names = net.neuron_names
    edges = [(names[s], names[d]) for s, d in zip(net.src, net.dst)]
    w = {e: float(v) for e, v in zip(edges, net.weights)}
    acts = {nm: net.activation(nm) for nm in names}
    return names, edges, w, acts


def topo(names, edges, inputs, bias):
    done = set(inputs) | {bias}
    order = []
    while len(done) < len(names):
        for nm in names:
            if nm in done:
                continue
            if all(s in done for s, d in edges if d == nm):
                order.append(nm)
                done.add(nm)
    return order


def loss_and_output_delta(net, o, z, t):
    """E and dE/do for each output; for softmax_ce the outputs are logits."""
    outs = net.output_names
    name = net.loss_name
    if name == "quadratic":
        E = sum(0.5 * (o[k] - t[i]) ** 2 for i, k in enumerate(outs))
        return E, {k: o[k] - t[i] for i, k in enumerate(outs)}
    if name == "bce":
        E, d = 0.0, {}
        for i, k in enumerate(outs):
            p = o[k]
            E += -(t[i] * math.log(p) + (1 - t[i]) * math.log(1 - p))
            d[k] = (p - t[i]) / (p * (1 - p))
        return E, d
    logits = np.array([o[k] for k in outs])
    p = np.exp(logits - logits.max())
    p /= p.sum()
    E = -sum(t[i] * math.log(p[i]) for i in range(len(outs)))
    return E, {k: p[i] - t[i] for i, k in enumerate(outs)}


def forward_backward(net, x, t):
    """Outputs, deltas (dE/do), and gradients {edge: dE/dw} for one sample."""
    names, edges, w, acts = spec(net)
    inputs, bias = net.input_names, net.bias_name
    o, z = {bias: 1.0}, {bias: 1.0}
    for nm, v in zip(inputs, x):
        o[nm] = z[nm] = float(v)
    order = topo(names, edges, inputs, bias)
    for nm in order:
        z[nm] = sum(w[(s, d)] * o[s] for s, d in edges if d == nm)
        o[nm] = ACT[acts[nm]][0](z[nm])
    E, delta = loss_and_output_delta(net, o, z, t)
    for nm in reversed(inputs + [bias] + order):
        if nm in delta:
            continue
        delta[nm] = sum(w[(s, d)] * ACT[acts[d]][1](z[d], o[d]) * delta[d]
                        for s, d in edges if s == nm)
    grad = {(s, d): o[s] * ACT[acts[d]][1](z[d], o[d]) * delta[d] for s, d in edges}
    return E, o, delta, grad


def sgd(net, X, T, lr, order, l2=0.0):
    """Per-sample SGD over samples in ``order``; returns final weights in net's edge order.

    ``l2``: the error gains the L2 penalty l2/2 * sum of the squares of the non-bias
    weights, so each step is AC <- AC - lr*(Ao*Cd + l2*AC), with AC before the step."""
    names, edges, w, acts = spec(net)
    net = net.copy()
    for i in order:
        _, _, _, grad = forward_backward(net, X[i], T[i])
        w = net.weights.copy()
        for k, (s, d) in enumerate(edges):
            pen = l2 * w[k] if l2 and s != net.bias_name else 0.0
            net.weights[k] = w[k] - lr * (grad[(s, d)] + pen)
    return net.weights.copy()


ACTS = list(ACT)
LOSSES = ["quadratic", "bce", "softmax_ce"]


def random_dag(seed, n_in=2, n_hidden=5, n_out=2, loss="quadratic", activation=None,
               p_edge=0.6, dtype=np.float64, scale=0.8):
    """A random DAG with skip connections: hidden neurons in a random order, each edge
    i -> j with i earlier (inputs, bias, or a hidden neuron) kept with probability p_edge;
    every hidden and output neuron gets at least one edge from an input or earlier neuron.
    Activations are drawn per neuron unless ``activation`` is given.
    """
    from neurosim import Network
    rng = np.random.default_rng(seed)
    ins = [f"x{i}" for i in range(n_in)]
    hid = [f"h{i}" for i in range(n_hidden)]
    outs = [f"o{i}" for i in range(n_out)]
    edges = []
    earlier = ins + ["bias"]
    for nm in hid + outs:
        srcs = [s for s in earlier if rng.random() < p_edge]
        if not any(s in ins or s in hid for s in srcs):
            srcs.append(ins[rng.integers(n_in)])
        for s in srcs:
            edges.append((s, nm, float(rng.normal(0, scale))))
        if nm in hid:
            earlier = earlier + [nm]
    perm = rng.permutation(len(edges))
    edges = [edges[k] for k in perm]
    acts = {nm: (activation or ACTS[rng.integers(len(ACTS))]) for nm in hid}
    out_act = {"bce": "sigmoid", "softmax_ce": "identity"}.get(
        loss, ACTS[rng.integers(len(ACTS))])
    acts.update({nm: out_act for nm in outs})
    return Network.from_edges(edges, inputs=ins, outputs=outs, hidden=hid, activation=acts,
                              loss=loss, bias="bias", dtype=dtype)


def random_targets(net, n, seed):
    rng = np.random.default_rng(seed)
    m = len(net.output_idx)
    if net.loss_name == "softmax_ce":
        return np.eye(m)[rng.integers(m, size=n)]
    if net.loss_name == "bce":
        return rng.integers(0, 2, size=(n, m)).astype(float)
    return rng.normal(0, 1, (n, m))
