"""Interop: networks to and from PyTorch ``nn.Sequential`` and networkx ``DiGraph``.

PyTorch (optional; ``pip install torch``)
    :func:`to_torch` turns a *layered* network (every neuron of a layer fed by every
    neuron of the layer before, one activation per layer) into ``nn.Sequential`` of
    ``Linear`` layers and activation modules; :func:`from_torch` does the reverse for
    ``Linear`` layers with ``ReLU``, ``LeakyReLU(0.01)``, ``Sigmoid``, ``Tanh`` or
    ``Identity`` between them. :func:`edge_map` says where each edge's weight lives:
    ``{"h1_0->h2_3": ("2.weight", (3, 0)), "bias->h2_3": ("2.bias", (3,)), ...}``, keys of
    ``model.state_dict()`` and an index into that tensor.

networkx
    :func:`to_networkx` gives a ``DiGraph`` with node attributes ``role`` (input, bias,
    hidden, output) and ``activation``, edge attributes ``weight`` and ``name``, and graph
    attributes ``loss``, ``bias`` and ``dtype``; :func:`from_networkx` builds a network
    from such a graph (any DAG), checked like :meth:`Network.from_edges`.
"""
from __future__ import annotations

import numpy as np

from .checks import as_float
from .graph import Network
from .inputs import check_net
from .kernels.neuron import ACTIVATIONS, LOSSES

_TORCH_ACT = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "sigmoid": "Sigmoid",
              "tanh": "Tanh"}


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch interop needs torch: pip install torch") from None
    return torch


# =======================================================================================
# PyTorch
def layers(net):
    """The layers of a layered network as lists of neuron names, inputs first.

    Raises
    ------
    ValueError
        If the network is not layered: a neuron not fed by every neuron of the layer
        before (or fed from further back), outputs not forming the last layer, mixed
        activations within a layer, or bias edges on some neurons of a layer only.
    """
    check_net(net)
    names, lvl = net.neuron_names, net.level
    depth = int(lvl.max(initial=0))
    out = [[names[j] for j in range(net.n_neurons) if lvl[j] == l and j != net.bias]
           for l in range(depth + 1)]
    if out[0] != net.input_names:
        raise ValueError("not a layered network: neurons fed by the bias only "
                         f"({sorted(set(out[0]) - set(net.input_names))})")
    if depth == 0 or sorted(out[-1]) != sorted(net.output_names):
        raise ValueError("not a layered network: the outputs are not exactly the last "
                         f"layer ({out[-1]} vs outputs {net.output_names})")
    for l in range(1, depth + 1):
        prev = set(out[l - 1])
        has_bias = set()
        for nm in out[l]:
            srcs = [names[net.src[e]] for e in net.incoming(nm)]
            if net.bias_name in srcs:
                has_bias.add(nm)
            srcs = set(srcs) - {net.bias_name}
            if srcs != prev:
                raise ValueError(f"not a layered network: {nm} is fed by "
                                 f"{sorted(srcs)}, not by all of layer {l - 1} "
                                 f"{sorted(prev)}")
        if has_bias and has_bias != set(out[l]):
            raise ValueError(f"layer {l}: bias edges into {sorted(has_bias)} only; a "
                             "Linear layer has biases for all its neurons or none")
        acts = {net.activation(nm) for nm in out[l]}
        if len(acts) > 1:
            raise ValueError(f"layer {l} mixes activations {sorted(acts)}")
    return out


def _plan(net):
    """[(layer names, has_bias, activation, linear index)] for layers 1..L."""
    ls = layers(net)
    plan, pos = [], 0
    for l in range(1, len(ls)):
        has_bias = any(net.bias_name == net.neuron_names[net.src[e]]
                       for e in net.incoming(ls[l][0]))
        act = net.activation(ls[l][0])
        plan.append((ls[l - 1], ls[l], has_bias, act, pos))
        pos += 1 if act == "identity" else 2
    return plan


def edge_map(net):
    """Where each edge's weight lives in :func:`to_torch`'s model.

    Returns
    -------
    dict
        ``{edge name: (state_dict key, index)}``, e.g. ``("0.weight", (j, i))`` for the
        edge from neuron i of a layer to neuron j of the next, ``("0.bias", (j,))`` for
        its bias.
    """
    plan = _plan(net)
    out = {}
    sep = "" if net.edge_names and "->" not in net.edge_names[0] else "->"
    for prev, cur, has_bias, _, pos in plan:
        for j, d in enumerate(cur):
            for i, s in enumerate(prev):
                out[f"{s}{sep}{d}"] = (f"{pos}.weight", (j, i))
            if has_bias:
                out[f"{net.bias_name}{sep}{d}"] = (f"{pos}.bias", (j,))
    return out


def to_torch(net):
    """A layered network as ``torch.nn.Sequential`` (float64 or float32 like the net).

    The model's output is the output neurons' outputs (sigmoid included for ``bce``;
    logits for ``softmax_ce``), the same numbers as :func:`neurosim.predict`.
    """
    check_net(net)
    plan = _plan(net)
    torch = _torch()
    nn = torch.nn
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    mods = []
    for prev, cur, has_bias, act, _ in plan:
        mods.append(nn.Linear(len(prev), len(cur), bias=has_bias, dtype=dtype))
        if act == "leaky_relu":
            from .kernels.neuron import LEAKY_SLOPE
            mods.append(nn.LeakyReLU(LEAKY_SLOPE))
        elif act != "identity":
            mods.append(getattr(nn, _TORCH_ACT[act])())
    model = nn.Sequential(*mods)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    for name, (key, idx) in edge_map(net).items():
        state[key][idx] = float(net.weights[net.edge(name)])
    model.load_state_dict(state)
    return model


def from_torch(model, *, loss="quadratic", names=None, bias="bias", dtype=np.float64):
    """A network from ``nn.Sequential`` of ``Linear`` layers and activations.

    Parameters
    ----------
    model : torch.nn.Sequential
        ``Linear`` layers, each optionally followed by one of ``ReLU``,
        ``LeakyReLU(negative_slope=0.01)``, ``Sigmoid``, ``Tanh``, ``Identity``.
    loss : {"quadratic", "bce", "softmax_ce"}
        ``bce`` needs a final ``Sigmoid``; ``softmax_ce`` needs none (logits).
    names : list of list of str, optional
        Neuron names per layer (default ``x0..``, ``h1_0..``, ``y0..`` as
        :meth:`Network.layered`).
    bias : str
        Name of the bias neuron.
    dtype : float64 or float32

    Raises
    ------
    ValueError
        For any other module, sizes that don't chain, or non-finite weights.
    """
    torch = _torch()
    nn = torch.nn
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"expected torch.nn.Sequential, got {type(model).__name__}")
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
    linears, acts = [], []
    for k, m in enumerate(model):
        if isinstance(m, nn.Linear):
            if linears and m.in_features != linears[-1].out_features:
                raise ValueError(f"module {k}: Linear({m.in_features}, ...) follows a "
                                 f"layer of {linears[-1].out_features}")
            linears.append(m)
            acts.append("identity")
            continue
        if not linears or acts[-1] != "identity" or _act_of(m, nn) is None:
            raise ValueError(f"module {k} ({m!r}) is not supported here: use Linear "
                             f"layers, each followed by at most one of ReLU, "
                             f"LeakyReLU(0.01), Sigmoid, Tanh, Identity")
        acts[-1] = _act_of(m, nn)
    if not linears:
        raise ValueError("the model has no Linear layer")
    sizes = [linears[0].in_features] + [m.out_features for m in linears]
    if names is None:
        names = [[f"x{i}" for i in range(sizes[0])]]
        names += [[f"h{l}_{i}" for i in range(s)] for l, s in enumerate(sizes[1:-1], 1)]
        names += [[f"y{i}" for i in range(sizes[-1])]]
    elif not isinstance(names, (list, tuple)) or [len(l) for l in names] != sizes:
        raise ValueError(f"names must be one list of names per layer, sizes {sizes}")
    edges = []
    for l, m in enumerate(linears):
        W = m.weight.detach().cpu().double().numpy()
        b = None if m.bias is None else m.bias.detach().cpu().double().numpy()
        if not np.all(np.isfinite(W)) or (b is not None and not np.all(np.isfinite(b))):
            raise ValueError(f"Linear layer {l}: weights must be finite")
        for j, d in enumerate(names[l + 1]):
            for i, s in enumerate(names[l]):
                edges.append((s, d, float(W[j, i])))
            if b is not None:
                edges.append((bias, d, float(b[j])))
    act = {nm: a for layer, a in zip(names[1:], acts) for nm in layer}
    hidden = [nm for layer in names[1:-1] for nm in layer]
    return Network.from_edges(edges, inputs=list(names[0]), outputs=list(names[-1]),
                              hidden=hidden, activation=act, loss=loss, bias=bias,
                              dtype=dtype)


def _act_of(m, nn):
    if isinstance(m, nn.ReLU):
        return "relu"
    if isinstance(m, nn.LeakyReLU):
        from .kernels.neuron import LEAKY_SLOPE
        return "leaky_relu" if m.negative_slope == LEAKY_SLOPE else None
    if isinstance(m, nn.Sigmoid):
        return "sigmoid"
    if isinstance(m, nn.Tanh):
        return "tanh"
    if isinstance(m, nn.Identity):
        return "identity"
    return None


# =======================================================================================
# networkx
def to_networkx(net):
    """The network as a ``networkx.DiGraph``.

    Nodes (in the network's internal order) carry ``role`` and ``activation``; edges
    carry ``weight`` and ``name``; ``G.graph`` holds ``loss``, ``bias`` and ``dtype``.
    """
    import networkx as nx
    check_net(net)
    G = nx.DiGraph(loss=net.loss_name, bias=net.bias_name, dtype=net.dtype.name)
    for nm in net.neuron_names:
        G.add_node(nm, role=net.role(nm), activation=net.activation(nm))
    for (s, d, w), name in zip(net.edges(), net.edge_names):
        G.add_edge(s, d, weight=w, name=name)
    return G


def from_networkx(G, *, loss=None, dtype=None, init="normal", scale=0.05, seed=None):
    """A network from a ``networkx.DiGraph`` (any DAG).

    Parameters
    ----------
    G : networkx.DiGraph
        Node names are strings. Node attribute ``role``: ``input`` and ``output`` are
        required on the inputs and outputs (in node order), at most one node may be the
        ``bias``; other nodes are hidden. Node attribute ``activation`` (optional; hidden
        default ``identity``, outputs as :meth:`Network.from_edges`). Edge attribute
        ``weight`` (optional: missing weights are drawn by ``init``); an edge's ``name``,
        if present, must be the one neurosim gives it.
    loss : str, optional
        Default ``G.graph["loss"]``, else ``quadratic``.
    dtype : optional
        Default ``G.graph["dtype"]``, else float64.
    init, scale, seed
        As :meth:`Network.from_edges`, for edges without a weight.
    """
    import networkx as nx
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise ValueError(f"expected a networkx.DiGraph, got {type(G).__name__}")
    bad = [n for n in G.nodes if not isinstance(n, str)]
    if bad:
        raise ValueError(f"node names must be strings, got {bad[:5]}")
    roles = {n: G.nodes[n].get("role", "hidden") for n in G.nodes}
    unknown = {n: r for n, r in roles.items() if r not in ("input", "bias", "hidden", "output")}
    if unknown:
        raise ValueError(f"unknown roles {unknown}; use input, bias, hidden or output")
    inputs = [n for n in G.nodes if roles[n] == "input"]
    outputs = [n for n in G.nodes if roles[n] == "output"]
    hidden = [n for n in G.nodes if roles[n] == "hidden"]
    biases = [n for n in G.nodes if roles[n] == "bias"]
    if len(biases) > 1:
        raise ValueError(f"more than one bias node: {biases}")
    bias = biases[0] if biases else G.graph.get("bias", "b")
    if not biases and bias in G.nodes:
        raise ValueError(f"the bias name {bias!r} is taken by a {roles[bias]} node")
    act = {}
    for n in hidden + outputs:
        a = G.nodes[n].get("activation")
        if a is not None:
            if not isinstance(a, str) or a not in ACTIVATIONS:
                raise ValueError(f"unknown activation {a!r} for {n}; choose one of "
                                 f"{sorted(ACTIVATIONS)}")
            act[n] = a
    for n in inputs + biases:
        a = G.nodes[n].get("activation", "identity")
        if a != "identity":
            raise ValueError(f"{roles[n]} neuron {n} cannot have activation {a!r}")
    if loss is None:
        loss = G.graph.get("loss", "quadratic")
    if dtype is None:
        dtype = G.graph.get("dtype", "float64")
    edges = []
    for s, d, data in G.edges(data=True):
        w = data.get("weight")
        if w is not None:
            w = as_float(w, f"edge {s}->{d}: weight")
            if not np.isfinite(w):
                raise ValueError(f"edge {s}->{d}: weight must be finite, got {w}")
        edges.append((s, d) if w is None else (s, d, w))
    net = Network.from_edges(edges, inputs=inputs, outputs=outputs, hidden=hidden,
                             activation=act, loss=loss, bias=bias, init=init, scale=scale,
                             seed=seed, dtype=dtype)
    for s, d, data in G.edges(data=True):
        name = data.get("name")
        if name is not None and net.edge_names[net.edge(f"{s}->{d}")] != name:
            raise ValueError(f"edge {s}->{d} is named {name!r}; neurosim names it "
                             f"{net.edge_names[net.edge(f'{s}->{d}')]!r}")
    return net
