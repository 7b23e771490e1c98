"""The chapter's networks, by name.

================== =================================================================
``four_neuron``    Fig 14-5: X, Y -> A, B -> C, D; weights XA, YA, XB, YB, AC, BC, AD,
                   BD; identity activations, quadratic loss, no biases (the chapter
                   leaves them out while explaining).
``net_22432``      Fig 14-22: 2 inputs, hidden layers of 2, 4 and 3, 2 outputs.
``moons_net``      Fig 14-29: the two-moons classifier 2-4-4-1, ReLU, ReLU, sigmoid,
                   binary cross-entropy, N(0, 0.05) weights and zero biases: 28 weights
                   + 9 biases = 37 edges.
``five_class_net`` Fig 14-1: a five-class softmax classifier 2-8-5: inputs X, Y; ReLU
                   hidden A-H; identity outputs c0-c4 (class k's logit) with
                   ``softmax_ce``; He-normal weights, zero biases: 69 edges. For
                   :func:`neurosim.datasets.blobs`.
================== =================================================================

:class:`Preset` and :class:`Layered` are picklable ``seed -> Network`` builders (for
sweeps, worker processes and the command line).
"""
import inspect

import numpy as np

from .graph import Network

#: Illustrative weights for the four-neuron net. With the sample FOUR_NEURON_SAMPLE they
#: give Ao = 0.5, Bo = 0.8, Co = 0.3*0.5 + (-0.2)*0.8 = -0.01, Do = 0.4*0.5 + 0.1*0.8 = 0.28.
FOUR_NEURON_WEIGHTS = {"XA": 0.2, "YA": 0.3, "XB": 0.5, "YB": 0.3,
                       "AC": 0.3, "BC": -0.2, "AD": 0.4, "BD": 0.1}
#: (x, target): the point (1, 1) labelled class 1, i.e. P1 = 1, P2 = 0.
FOUR_NEURON_SAMPLE = (np.array([1.0, 1.0]), np.array([1.0, 0.0]))

#: Default seed of :func:`moons_net` (the initial weights of ``neurosim demo``).
MOONS_SEED = 1
#: Default seed of :func:`five_class_net`.
FIVE_CLASS_SEED = 0


def four_neuron(weights=None, dtype=np.float64):
    """The four-neuron network of Fig 14-5 (weights default to FOUR_NEURON_WEIGHTS)."""
    if weights is None:
        weights = FOUR_NEURON_WEIGHTS
    elif not isinstance(weights, dict):
        raise ValueError(f"four_neuron weights must be a dict {{edge name: weight}}, e.g. "
                         f"{{'XA': 0.2, ...}}, got {type(weights).__name__}")
    weights = dict(weights)
    bad = [k for k in weights if not isinstance(k, str)]
    if bad:
        raise ValueError(f"four_neuron weights: edge names must be strings, got {bad[:5]}")
    missing = sorted(set(FOUR_NEURON_WEIGHTS) - set(weights))
    extra = sorted(set(weights) - set(FOUR_NEURON_WEIGHTS))
    if missing or extra:
        raise ValueError(f"four_neuron weights: missing {missing}, unknown {extra}")
    edges = [(e[0], e[1], weights[e]) for e in FOUR_NEURON_WEIGHTS]
    return Network.from_edges(edges, inputs=["X", "Y"], outputs=["C", "D"],
                              hidden=["A", "B"], loss="quadratic", bias="b", dtype=dtype)


def net_22432(activation="identity", output="identity", loss="quadratic", biases=False,
              seed=0, init="normal", scale=0.5, dtype=np.float64):
    """The 2-2-4-3-2 network of Fig 14-22: inputs X, Y; hidden A B | C D E F | G H I;
    outputs P, Q (P1, P2). Without biases by default, as drawn in the chapter."""
    layers = [["X", "Y"], ["A", "B"], ["C", "D", "E", "F"], ["G", "H", "I"], ["P", "Q"]]
    if biases:
        return Network.layered([2, 2, 4, 3, 2], hidden=activation, output=output, loss=loss,
                               init=init, scale=scale, seed=seed, dtype=dtype, names=layers,
                               bias="b")
    edges = [(s, d) for a, b in zip(layers[:-1], layers[1:]) for d in b for s in a]
    return Network.from_edges(edges, inputs=layers[0], outputs=layers[-1],
                              activation=activation, output_activation=output, loss=loss,
                              bias="b", init=init, scale=scale, seed=seed, dtype=dtype)


def moons_net(seed=MOONS_SEED, init="normal", loss="bce", dtype=np.float64):
    """The 2-4-4-1 two-moons classifier of Fig 14-29 (37 edges).

    Inputs X, Y; hidden A B C D (ReLU) and E F G H (ReLU); output P (sigmoid); bias b.
    ``loss="quadratic"`` keeps the sigmoid output with the text's quadratic cost.
    """
    layers = [["X", "Y"], ["A", "B", "C", "D"], ["E", "F", "G", "H"], ["P"]]
    return Network.layered([2, 4, 4, 1], hidden="relu", output="sigmoid", loss=loss,
                           init=init, seed=seed, dtype=dtype, names=layers, bias="b")


def five_class_net(seed=FIVE_CLASS_SEED, init="he", dtype=np.float64):
    """A five-class softmax classifier like Fig 14-1's: 2-8-5 (69 edges).

    Inputs X, Y; hidden A .. H (ReLU); outputs c0 .. c4 (identity: output ck is class k's
    logit, the softmax is part of the ``softmax_ce`` loss); bias b. He-normal weights by
    default, so that even untrained its class probabilities differ visibly (with the moons
    net's N(0, 0.05) they would all be about 0.2).
    """
    layers = [["X", "Y"], list("ABCDEFGH"), [f"c{k}" for k in range(5)]]
    return Network.layered([2, 8, 5], hidden="relu", output="identity", loss="softmax_ce",
                           init=init, seed=seed, dtype=dtype, names=layers, bias="b")


PRESETS = {"four-neuron": four_neuron, "22432": net_22432, "moons": moons_net,
           "five-class": five_class_net}


def preset(name, **kw):
    """A preset network by name: ``four-neuron``, ``22432``, ``moons`` or ``five-class``."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name](**kw)


class Preset:
    """A picklable ``seed -> Network`` for a preset name."""

    def __init__(self, name):
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
        self.name = name

    def __call__(self, seed):
        fn = PRESETS[self.name]
        if "seed" in inspect.signature(fn).parameters:
            return fn(seed=seed)
        return fn()          # fixed weights (four-neuron): the seed only shuffles


class Layered:
    """A picklable ``seed -> Network.layered(sizes, seed=seed)``.

    One output: ReLU hidden layers, a sigmoid output and binary cross-entropy (the moons
    net's recipe). Several outputs: identity outputs with ``softmax_ce``.
    """

    def __init__(self, sizes):
        self.sizes = [int(s) for s in sizes]
        Network.layered(self.sizes, seed=0, **self._kw())     # validates the sizes

    def _kw(self):
        if self.sizes[-1] == 1:
            return dict(hidden="relu", output="sigmoid", loss="bce")
        return dict(hidden="relu", output="identity", loss="softmax_ce")

    def __call__(self, seed):
        return Network.layered(self.sizes, seed=seed, **self._kw())
