"""The exception contract (issue 14, part 3): bad values raise ValueError, unknown names
KeyError, nothing else, and nothing changes. Every case the issue lists, then a property
test throwing random Python objects at each public entry point."""
import copy
import os
import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurosim as ns
from neurosim import presets
from neurosim.io import load, save
from neurosim.sklearn import NeuronNetClassifier

X = np.array([[0.5, -1.0], [1.0, 1.0], [-0.3, 0.2], [2.0, 0.1]])
Y = np.array([0.0, 1.0, 1.0, 0.0])
HUGE = 10 ** 400                                     # an int no float can hold


def live_net():
    net = presets.moons_net(seed=2)
    ns.forward(net, [0.3, -0.7])
    ns.backward(net, [1.0])
    return net


def snapshot(obj):
    return copy.deepcopy(dict(vars(obj)))           # one deepcopy: topo keeps its arrays


def assert_same(before, obj):
    after = vars(obj)
    assert before.keys() == after.keys()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, after[k], err_msg=k, strict=True)
        elif k == "topo":
            for a, b in zip(v, after[k]):
                np.testing.assert_array_equal(a, b, strict=True)
        elif v is None or after[k] is None:
            assert v is after[k], k
        else:
            assert v == after[k], k


def rejects(fn, *args, exc=ValueError, **kw):
    """``fn(*args, **kw)`` raises ``exc`` (exactly: not a subclass such as KeyError for
    ValueError) and leaves the network it was given unchanged."""
    nets = [a for a in list(args) + list(kw.values()) if isinstance(a, ns.Network)]
    before = [snapshot(n) for n in nets]
    with pytest.raises(Exception) as e:
        fn(*args, **kw)
    assert type(e.value) is exc or (exc is ValueError and type(e.value).__name__ == "_Bad"), \
        f"{type(e.value).__name__}: {e.value}"
    for b, n in zip(before, nets):
        assert_same(b, n)
    return e.value


# -- names given as lists (TypeError "unhashable" before) -------------------------------
@pytest.mark.parametrize("kw", [dict(hidden=["relu"]), dict(output=["sigmoid"]),
                                dict(loss=["bce"]), dict(init=["he"]), dict(dtype=[1]),
                                dict(dtype=None), dict(dtype="foo"), dict(dtype=object()),
                                dict(names=5), dict(names="ab"), dict(names=[5, 6]),
                                dict(scale=None), dict(scale=HUGE), dict(scale="1"),
                                dict(bias=["b"]), dict(seed=[1])])
def test_layered_rejects(kw):
    rejects(ns.Network.layered, [2, 2, 1], **kw)


@pytest.mark.parametrize("kw", [dict(activation=["relu"]), dict(activation={"A": ["relu"]}),
                                dict(output_activation=["sigmoid"]), dict(loss=["bce"]),
                                dict(scale=None), dict(dtype=None), dict(inputs=5),
                                dict(inputs=[["X"]]), dict(bias=None)])
def test_from_edges_rejects(kw):
    args = dict(inputs=["X"], outputs=["C"])
    args.update(kw)
    rejects(ns.Network.from_edges, [("X", "A"), ("A", "C")], **args)


@pytest.mark.parametrize("w", [HUGE, [1, 2], 1j, "0.5", True])   # None: "initialise it"
def test_edge_weights_reject(w):
    rejects(ns.Network.from_edges, [("X", "C", w)], inputs=["X"], outputs=["C"])


def test_trailing_newline_is_not_a_name(tmp_path):
    for bad in ("A\n", "A\r", "\nA", "C\t", "A B"):
        rejects(ns.Network.from_edges, [("X", bad), (bad, "C")], inputs=["X"], outputs=["C"])
    # and a file carrying one is refused
    net = presets.four_neuron()
    p = save(net, tmp_path / "n.json")
    doc = json.loads(p.read_text())
    doc["hidden"] = [h + "\n" if h == "A" else h for h in doc["hidden"]]
    doc["neurons"] = [h + "\n" if h == "A" else h for h in doc["neurons"]]
    doc["activations"]["A\n"] = doc["activations"].pop("A")
    p.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="bad neuron name"):
        load(p)


# -- numbers too large for a float (OverflowError before) -------------------------------
def test_huge_python_ints_everywhere():
    net = live_net()
    rejects(ns.forward, net, [HUGE, 0])
    rejects(ns.train, net, [[HUGE, 0]] * 2, [0, 1], epochs=1)
    rejects(ns.train, net, X, [HUGE, 0, 0, 0], epochs=1)
    rejects(ns.train, net, X, Y, lr=HUGE, epochs=1)
    rejects(ns.update, net, HUGE)
    rejects(net.set_weight, net.edge_names[0], HUGE)
    rejects(ns.gradcheck, net, X, Y, eps=HUGE)
    rejects(ns.slow_learn, net, X, Y, epochs=1, scale=HUGE)
    rejects(ns.Network.layered, [2, HUGE, 1])
    rejects(ns.train, net, X, Y, epochs=HUGE)
    rejects(ns.error_curve, net, X[0], Y[0], "P", span=HUGE)


def test_networkx_weights_and_attributes():
    nx = pytest.importorskip("networkx")
    from neurosim.interop import from_networkx, to_networkx
    for attr, value in (("weight", HUGE), ("weight", "x")):
        G = to_networkx(presets.four_neuron())
        u, v = next(iter(G.edges))
        G.edges[u, v][attr] = value
        rejects(from_networkx, G)
    G = to_networkx(presets.four_neuron())
    G.nodes["A"]["activation"] = ["relu"]
    rejects(from_networkx, G)
    G = to_networkx(presets.four_neuron())
    G.nodes["A"]["role"] = ["hidden"]
    rejects(from_networkx, G)
    G = to_networkx(presets.four_neuron())
    rejects(from_networkx, G, loss=["bce"])


def test_from_torch_loss_list():
    torch = pytest.importorskip("torch")
    from neurosim.interop import from_torch
    model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())
    rejects(from_torch, model, loss=["bce"])
    rejects(from_torch, model, loss="bce", dtype=None)


@pytest.mark.parametrize("params", [dict(activation=["relu"]), dict(lr=HUGE),
                                    dict(lr="0.1"), dict(batch_size=2 ** 64)])
def test_estimators_reject(params):
    est = NeuronNetClassifier(epochs=1, **params)
    with pytest.raises(ValueError):
        est.fit(X, Y)
    assert not hasattr(est, "network_")


# -- TypeErrors and silent acceptances ----------------------------------------------------
def test_set_weight_and_astype():
    net = live_net()
    e = net.edge_names[0]
    for v in (None, [1, 2], 1j, "0.5", True, np.array([1.0, 2.0])):
        rejects(net.set_weight, e, v)
    for d in ("foo", object(), None, "float16", np.int64, [np.float32]):
        rejects(net.astype, d)
    rejects(net.set_weight, "typo", 1.0, exc=KeyError)


def test_update_without_a_backward_pass():
    net = presets.moons_net(seed=2)
    rejects(ns.update, net, 0.1)                     # no pass at all
    ns.forward(net, [0.3, -0.7])
    rejects(ns.update, net, 0.1)                     # a forward, no backward
    ns.backward(net, [1.0])
    ns.forward(net, [0.1, 0.2])                      # a second forward: a new pass
    rejects(ns.update, net, 0.1)
    ns.backward(net, [0.0])
    c = net.copy()                                   # a copy carries the pass
    ns.update(c, 0.1)
    ns.update(net, 0.1)
    np.testing.assert_array_equal(c.weights, net.weights)


def test_huge_batch_sizes_and_counts():
    net = live_net()
    for b in (2 ** 63, 2 ** 64, -1, 0, 1.5, True):
        rejects(ns.train, net, X, Y, epochs=1, batch_size=b)
    rejects(ns.error_curve, net, X[0], Y[0], "P", num=10 ** 12)
    ns.train(net, X, Y, epochs=1, batch_size=2 ** 62)        # bounded, and runs
    e = rejects(ns.train, net, X, Y, epochs=1, batch_size=2 ** 64)
    assert len(str(e)) < 200


def test_complex_strings_and_objects_are_refused_not_converted():
    net = live_net()
    rejects(ns.forward, net, np.array([1 + 2j, 0]))
    rejects(ns.train, net, X.astype(complex), Y, epochs=1)
    rejects(ns.train, net, X, Y, lr="0.1", epochs=1)
    rejects(ns.train, net, pd.DataFrame(X.astype(str)), Y, epochs=1)
    rejects(ns.train, net, X, pd.Series(Y.astype(str)), epochs=1)
    rejects(ns.predict, net, [["1", "2"]])
    rejects(ns.predict, net, [[None, 1]])
    rejects(ns.predict, net, [[1, 2], [3]])
    # numbers in other forms still work
    assert ns.predict(net, pd.DataFrame(X)).shape == (4, 1)
    assert ns.predict(net, np.array(X.tolist(), dtype=object)).shape == (4, 1)
    assert ns.predict(net, X.astype(np.float32)).shape == (4, 1)


def test_presets_and_history():
    for w in ([1, 2], 5, "XA", {1: 0.5}):
        rejects(presets.four_neuron, weights=w)
    h = ns.train(presets.four_neuron(), [[1.0, 1.0]], [[1.0, 0.0]], epochs=1)
    for name in (5, None, ("A", "C"), "typo"):
        rejects(h.weight, name, exc=KeyError)
    assert h.weight("AC").shape == (2,) and np.array_equal(h.weight("A->C"), h.weight("AC"))


def test_zero_d_epoch_time_in_a_file(tmp_path):
    net = presets.four_neuron()
    h = ns.train(net, [[1.0, 1.0]], [[1.0, 0.0]], epochs=2)
    p = save(net, tmp_path / "h.npz", history=h)
    with zipfile.ZipFile(p) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    import io
    buf = io.BytesIO()
    np.save(buf, np.float64(1.0))
    members["history.epoch_time.npy"] = buf.getvalue()
    q = tmp_path / "zero_d.npz"
    with zipfile.ZipFile(q, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    with pytest.raises(ValueError, match="epoch_time"):
        load(q, with_history=True)
    p = save(net, tmp_path / "h.json", history=h)
    doc = json.loads(p.read_text())
    doc["arrays"]["history.epoch_time"].update(shape=[], data=[1.0])
    p.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="epoch_time"):
        load(p, with_history=True)


def test_nan_in_a_stored_state(tmp_path):
    net = live_net()
    p = save(net, tmp_path / "n.json")
    doc = json.loads(p.read_text())
    doc["arrays"]["z"]["data"][3] = "nan"
    p.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="holds NaN"):
        load(p)
    net.z[3] = np.nan
    rejects(save, net, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_float32_learning_rates_that_round_away():
    net = presets.moons_net(seed=2, dtype=np.float32)
    for lr in (1e-50, 1e39):
        e = rejects(ns.train, net, X, Y, lr=lr, epochs=1)
        assert "float32" in str(e)
    ns.train(presets.moons_net(seed=2), X, Y, lr=1e-50, epochs=1)   # fine in float64


def test_training_a_network_holding_nan_is_refused_up_front():
    net = live_net()
    net.weights[3] = np.nan
    rejects(ns.train, net, X, Y, epochs=1)


def test_predict_warns_when_outputs_overflow():
    net = ns.Network.from_edges([("X", "C", 1e300), ("b", "C", 0.0)], inputs=["X"],
                                outputs=["C"], bias="b")
    with pytest.warns(RuntimeWarning, match="overflowed"):
        Y_ = ns.predict(net, [[1e10], [1.0]])
    assert np.isinf(Y_[0, 0]) and np.isfinite(Y_[1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ns.predict(net, [[1.0]])                     # no warning when all is finite


def test_unknown_names_are_key_errors_with_short_messages():
    big = ns.Network.layered([2, 300, 300, 1])
    for fn in (big.weight, big.edge, big.neuron, big.output, big.delta, big.activation):
        e = rejects(fn, "typo", exc=KeyError)
        assert len(str(e)) < 500


# -- the property test ---------------------------------------------------------------------
_objects = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10 ** 30, max_value=10 ** 30)
    | st.just(HUGE) | st.just(-HUGE) | st.floats(allow_nan=True, allow_infinity=True)
    | st.complex_numbers(allow_nan=True) | st.text(max_size=5) | st.binary(max_size=5)
    | st.just(object()) | st.just(np.array([1 + 1j])) | st.just(np.array(["1"]))
    | st.just(pd.DataFrame({"a": ["1", "x"]})),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3)
    | st.tuples(inner, inner),
    max_leaves=6)

_NET = live_net()
_ENTRY = {
    "forward x": lambda o: ns.forward(_NET, o),
    "backward y": lambda o: ns.backward(_NET, o),
    "gradient x": lambda o: ns.gradient(_NET, o, [1.0]),
    "gradient y": lambda o: ns.gradient(_NET, [0.1, 0.2], o),
    "update lr": lambda o: ns.update(_NET, o),
    "step lr": lambda o: ns.step(_NET, [0.1, 0.2], [1.0], o),
    "predict X": lambda o: ns.predict(_NET, o),
    "evaluate y": lambda o: ns.evaluate(_NET, X, o),
    "train X": lambda o: ns.train(_NET, o, Y, epochs=1),
    "train y": lambda o: ns.train(_NET, X, o, epochs=1),
    "train lr": lambda o: ns.train(_NET, X, Y, lr=o, epochs=1),
    "train epochs": lambda o: ns.train(_NET, X, Y, epochs=o),
    "train batch_size": lambda o: ns.train(_NET, X, Y, epochs=1, batch_size=o),
    "train seed": lambda o: ns.train(_NET, X, Y, epochs=1, seed=o),
    "train shuffle": lambda o: ns.train(_NET, X, Y, epochs=1, shuffle=o),
    "set_weight value": lambda o: _NET.set_weight("A->E", o),
    "astype": lambda o: _NET.astype(o),
    "layered sizes": lambda o: ns.Network.layered(o),
    "layered hidden": lambda o: ns.Network.layered([2, 2, 1], hidden=o),
    "layered loss": lambda o: ns.Network.layered([2, 2, 1], loss=o),
    "layered dtype": lambda o: ns.Network.layered([2, 2, 1], dtype=o),
    "layered names": lambda o: ns.Network.layered([2, 2, 1], names=o),
    "from_edges edges": lambda o: ns.Network.from_edges(o, inputs=["X"], outputs=["C"]),
    "from_edges scale": lambda o: ns.Network.from_edges([("X", "C")], inputs=["X"],
                                                        outputs=["C"], scale=o),
    "four_neuron weights": lambda o: presets.four_neuron(weights=o),
    "error_curve num": lambda o: ns.error_curve(_NET, X[0], Y[0], "P", num=o),
    "gradcheck eps": lambda o: ns.gradcheck(_NET, X, Y, eps=o),
    "trace lr": lambda o: ns.trace(_NET, X[0], Y[0], lr=o),
}
_NAMES = {
    "weight": lambda o: _NET.weight(o),
    "neuron": lambda o: _NET.neuron(o),
    "edge": lambda o: _NET.edge(o),
}


@settings(max_examples=int(os.environ.get("NEUROSIM_CONTRACT_EXAMPLES", 40)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(entry=st.sampled_from(sorted(_ENTRY)), obj=_objects)
def test_random_objects_at_every_entry_point(entry, obj):
    before = snapshot(_NET)
    try:
        _ENTRY[entry](obj)
    except ValueError:
        pass
    except Exception as e:                          # anything else breaks the contract
        raise AssertionError(f"{entry}({obj!r:.80}) raised {type(e).__name__}: {e}") from e
    else:
        if entry.startswith(("train", "update", "step", "set_weight", "forward",
                             "backward", "gradient")):
            # accepted: it was a valid value; put the network back for the next example
            vars(_NET).clear()
            vars(_NET).update(copy.deepcopy(before))
        return
    assert_same(before, _NET)


@settings(max_examples=int(os.environ.get("NEUROSIM_CONTRACT_EXAMPLES", 30)), deadline=None)
@given(name=st.sampled_from(sorted(_NAMES)), obj=_objects)
def test_random_objects_as_names(name, obj):
    before = snapshot(_NET)
    try:
        _NAMES[name](obj)
    except KeyError:
        pass
    except Exception as e:
        raise AssertionError(f"{name}({obj!r:.80}) raised {type(e).__name__}: {e}") from e
    assert_same(before, _NET)
