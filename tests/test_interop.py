"""Interop: PyTorch nn.Sequential (gradients against autograd) and networkx DiGraph."""
import networkx as nx
import numpy as np
import pytest

import neurosim as ns
from neurosim.interop import (edge_map, from_networkx, from_torch, layers, to_networkx,
                              to_torch)
from reference import random_dag
from test_io import assert_same_network

LAYERED = [
    ("relu-bce", lambda: ns.presets.moons_net(seed=3, init="he")),
    ("tanh-quadratic", lambda: ns.Network.layered([3, 5, 4, 2], hidden="tanh",
                                                  loss="quadratic", init="glorot", seed=1)),
    ("leaky-softmax", lambda: ns.Network.layered([2, 6, 3], hidden="leaky_relu",
                                                 loss="softmax_ce", init="he", seed=2)),
    ("sigmoid-out-quadratic", lambda: ns.Network.layered([4, 3, 2], hidden="sigmoid",
                                                         output="sigmoid", seed=4,
                                                         init="glorot")),
    ("four-neuron-no-bias", ns.presets.four_neuron),
]


def _torch_loss(torch, name, o, t):
    F = torch.nn.functional
    if name == "quadratic":
        return 0.5 * ((o - t) ** 2).sum()
    if name == "bce":
        return F.binary_cross_entropy(o, t, reduction="sum")
    return -(t * F.log_softmax(o, dim=-1)).sum()


@pytest.mark.parametrize("name,make", LAYERED, ids=[c[0] for c in LAYERED])
def test_gradients_match_autograd(name, make):
    torch = pytest.importorskip("torch")
    net = make()
    rng = np.random.default_rng(0)
    for trial in range(3):
        x = rng.normal(0, 1.5, net.n_inputs)
        m = len(net.output_idx)
        t = np.eye(m)[trial % m] if net.loss_name == "softmax_ce" else rng.uniform(0, 1, m)
        model = to_torch(net)
        # forward layer by layer, keeping every layer's outputs to read their deltas
        h = torch.tensor(x, requires_grad=False)
        outs, mods = [], list(model)
        k = 0
        while k < len(mods):
            h = mods[k](h)
            if k + 1 < len(mods) and not isinstance(mods[k + 1], torch.nn.Linear):
                k += 1
                h = mods[k](h)
            h.retain_grad()
            outs.append(h)
            k += 1
        E_t = _torch_loss(torch, net.loss_name, h, torch.tensor(t))
        E_t.backward()
        E, grad = ns.gradient(net, x, t)
        assert E == pytest.approx(E_t.item(), rel=1e-12)
        params = dict(model.named_parameters())
        emap = edge_map(net)
        assert sorted(emap) == sorted(net.edge_names)         # every edge, once
        for edge, (key, idx) in emap.items():
            assert grad[net.edge(edge)] == pytest.approx(params[key].grad[idx].item(),
                                                         rel=1e-9, abs=1e-13), edge
        # delta = dE/d(output) of every hidden and output neuron
        for layer, o in zip(layers(net)[1:], outs):
            for j, nm in enumerate(layer):
                assert net.delta(nm) == pytest.approx(o.grad[j].item(), rel=1e-9,
                                                      abs=1e-13), nm


@pytest.mark.parametrize("name,make", LAYERED, ids=[c[0] for c in LAYERED])
def test_torch_round_trip(name, make):
    torch = pytest.importorskip("torch")
    net = make()
    model = to_torch(net)
    X = np.random.default_rng(1).normal(size=(7, net.n_inputs))
    np.testing.assert_allclose(model(torch.tensor(X)).detach().numpy(), ns.predict(net, X),
                               rtol=1e-12, atol=1e-15)
    back = from_torch(model, loss=net.loss_name, names=layers(net), bias=net.bias_name)
    assert_same_network(net, back)


def test_from_torch_float32_model_and_default_names():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),
                                torch.nn.Linear(3, 1, bias=False), torch.nn.Sigmoid())
    net = from_torch(model, loss="bce")
    assert net.neuron_names == ["x0", "x1", "bias", "h1_0", "h1_1", "h1_2", "y0"]
    assert net.n_edges == 2 * 3 + 3 + 3
    assert net.weight("h1_2->y0") == float(model[2].weight[0, 2].detach())   # exact
    X = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_allclose(ns.predict(net, X),
                               model(torch.tensor(X, dtype=torch.float32)).detach().numpy(),
                               rtol=1e-6)
    # trains like any network, and the trained weights go back into a model
    d = ns.datasets.moons(n_samples=60)
    ns.train(net, d.X_train, d.y_train, epochs=2)
    np.testing.assert_allclose(to_torch(net)(torch.tensor(d.X_test)).detach().numpy(),
                               ns.predict(net, d.X_test), rtol=1e-12)


def test_torch_rejects():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    for model, match in [
            (nn.Sequential(nn.Linear(2, 3), nn.Dropout(), nn.Linear(3, 1)), "not supported"),
            (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Tanh(), nn.Linear(3, 1)),
             "not supported"),
            (nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2)), "not supported"),
            (nn.Sequential(nn.ReLU(), nn.Linear(2, 3)), "not supported"),
            (nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), "follows a layer of 3"),
            (nn.Sequential(), "no Linear"),
            (nn.Linear(2, 1), "Sequential")]:
        with pytest.raises(ValueError, match=match):
            from_torch(model)
    with pytest.raises(ValueError, match="sigmoid"):
        from_torch(nn.Sequential(nn.Linear(2, 1)), loss="bce")
    with pytest.raises(ValueError, match="names"):
        from_torch(nn.Sequential(nn.Linear(2, 1)), names=[["a"], ["b"]])
    bad = nn.Sequential(nn.Linear(2, 1))
    with torch.no_grad():
        bad[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        from_torch(bad)
    # networks that are not layered
    with pytest.raises(ValueError, match="not by all of layer"):
        to_torch(random_dag(0, n_in=2, n_hidden=4, n_out=1))
    skip = ns.Network.from_edges(["XA", "AC", "XC", "YA"], inputs=["X", "Y"], outputs=["C"])
    with pytest.raises(ValueError, match="not a layered network"):
        to_torch(skip)
    mixed = ns.Network.layered([2, 2, 1], hidden="relu")
    mixed = ns.Network.from_edges(mixed.edges(), inputs=mixed.input_names,
                                  outputs=mixed.output_names, bias="bias",
                                  activation={"h1_0": "relu", "h1_1": "tanh"})
    with pytest.raises(ValueError, match="mixes activations"):
        to_torch(mixed)
    with pytest.raises(ValueError, match="Network"):
        to_torch("net")


def test_layers_and_edge_map_need_a_network():         # no torch needed for these
    for fn in (edge_map, layers):
        with pytest.raises(ValueError, match="Network"):
            fn("net")


# -- networkx -------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [ns.presets.four_neuron, lambda: ns.presets.moons_net(seed=2),
                                  lambda: random_dag(3, n_in=3, n_hidden=7, n_out=2),
                                  lambda: random_dag(4, loss="softmax_ce", n_out=3,
                                                     dtype=np.float32)])
def test_networkx_round_trip(make):
    net = make()
    G = to_networkx(net)
    assert G.number_of_nodes() == net.n_neurons and G.number_of_edges() == net.n_edges
    assert nx.is_directed_acyclic_graph(G)
    for name, (s, d, w) in zip(net.edge_names, net.edges()):
        assert G.edges[s, d] == {"weight": w, "name": name}
    for nm in net.neuron_names:
        assert G.nodes[nm] == {"role": net.role(nm), "activation": net.activation(nm)}
    # the longest path in edges (without the bias) is the network's depth
    no_bias = G.subgraph([n for n in G if n != net.bias_name])
    assert nx.dag_longest_path_length(no_bias, weight="unit") == int(net.level.max())
    assert_same_network(net, from_networkx(G))


def test_build_with_networkx():
    G = nx.DiGraph(loss="bce")
    G.add_nodes_from(["x", "y"], role="input")
    G.add_node("b", role="bias")
    G.add_node("h", activation="tanh")             # role defaults to hidden
    G.add_node("g", activation="relu")
    G.add_node("out", role="output")               # sigmoid: the default for bce
    G.add_weighted_edges_from([("x", "h", 0.5), ("y", "h", -0.5), ("h", "g", 1.0),
                               ("x", "out", 0.25), ("g", "out", 2.0), ("b", "g", 0.1)])
    G.add_edge("b", "out")                          # no weight: initialised (bias -> 0)
    net = from_networkx(G)
    assert net.activation("out") == "sigmoid" and net.activation("h") == "tanh"
    assert net.weight("x->out") == 0.25 and net.weight("b->out") == 0.0
    out = ns.forward(net, [1.0, 2.0])
    h = np.tanh(0.5 - 1.0)
    g = max(h + 0.1, 0.0)
    assert out[0] == pytest.approx(1 / (1 + np.exp(-(0.25 + 2.0 * g))))


def test_networkx_rejects():
    def graph():
        G = nx.DiGraph()
        G.add_node("x", role="input")
        G.add_node("o", role="output")
        G.add_edge("x", "h", weight=1.0)
        G.add_edge("h", "o", weight=1.0)
        return G
    from_networkx(graph())
    for change, match in [
            (lambda G: G.add_edge("o", "h"), "out of an output"),
            (lambda G: (G.add_edge("h", "k"), G.add_edge("k", "h")), "cycle"),
            (lambda G: G.nodes["h"].update(role="boss"), "unknown roles"),
            (lambda G: G.nodes["h"].update(activation="swish"), "unknown activation"),
            (lambda G: G.nodes["x"].update(activation="relu"), "cannot have activation"),
            (lambda G: G.add_node(3), "strings"),
            (lambda G: G.add_nodes_from(["b1", "b2"], role="bias"), "more than one bias"),
            (lambda G: G.add_node("b", role="hidden"), "bias name"),
            (lambda G: G.edges["x", "h"].update(name="hx"), "named 'hx'"),
            (lambda G: G.edges["x", "h"].update(weight=float("inf")), "finite")]:
        G = graph()
        change(G)
        with pytest.raises(ValueError, match=match):
            from_networkx(G)
    with pytest.raises(ValueError, match="DiGraph"):
        from_networkx(nx.Graph())
    with pytest.raises(ValueError, match="Network"):
        to_networkx({})
