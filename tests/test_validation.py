"""Bad input everywhere: every public entry point raises ValueError, and changes nothing.

Each case runs against a network with a live state (a forward and backward pass done),
snapshots every attribute of it, calls the entry point with one bad argument, and checks
both that a ValueError came out and that the network (weights, state, indexes) is exactly
as before. Files and fitted estimators are checked the same way.
"""
import copy

import numpy as np
import pandas as pd
import pytest

import neurosim as ns
from neurosim import datasets, presets
from neurosim.io import load, save
from neurosim.sklearn import NeuronNetClassifier, NeuronNetRegressor
from neurosim.plots import plot_sweep
from neurosim.sweeps import per_run, summarize

X = np.array([[0.5, -1.0], [1.0, 1.0], [-0.3, 0.2], [2.0, 0.1]])
Y = np.array([0.0, 1.0, 1.0, 0.0])


def _net():
    net = presets.moons_net(seed=2)
    ns.forward(net, [0.3, -0.7])
    ns.backward(net, [1.0])
    return net


def _snapshot(obj):
    return {k: copy.deepcopy(v) for k, v in vars(obj).items()}


def _assert_same(before, obj):
    after = vars(obj)
    assert before.keys() == after.keys()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, after[k], err_msg=k, strict=True)
        elif isinstance(v, tuple):                    # Network.topo: a bundle of arrays
            assert len(v) == len(after[k]), k
            for a, b in zip(v, after[k]):
                np.testing.assert_array_equal(a, b, err_msg=k, strict=True)
        else:
            assert v == after[k], k


NAN = float("nan")
NET_CASES = {
    # train
    "train X NaN": lambda n: ns.train(n, X * NAN, Y),
    "train X shape": lambda n: ns.train(n, np.zeros((4, 3)), Y),
    "train X empty": lambda n: ns.train(n, np.zeros((0, 2)), Y[:0]),
    "train X text": lambda n: ns.train(n, [["a", "b"]] * 4, Y),
    "train y length": lambda n: ns.train(n, X, Y[:3]),
    "train y outside [0,1] for bce": lambda n: ns.train(n, X, Y * 2),
    "train y inf": lambda n: ns.train(n, X, Y + np.inf),
    "train lr 0": lambda n: ns.train(n, X, Y, lr=0),
    "train lr negative": lambda n: ns.train(n, X, Y, lr=-0.1),
    "train lr NaN": lambda n: ns.train(n, X, Y, lr=NAN),
    "train lr text": lambda n: ns.train(n, X, Y, lr="fast"),
    "train epochs -1": lambda n: ns.train(n, X, Y, epochs=-1),
    "train epochs 1.5": lambda n: ns.train(n, X, Y, epochs=1.5),
    "train epochs True": lambda n: ns.train(n, X, Y, epochs=True),
    "train batch_size 0": lambda n: ns.train(n, X, Y, batch_size=0),
    "train on_divergence": lambda n: ns.train(n, X, Y, on_divergence="ignore"),
    "train shuffle text": lambda n: ns.train(n, X, Y, shuffle="no"),
    "train skip_zero_error": lambda n: ns.train(n, X, Y, skip_zero_error=1),
    "train progress": lambda n: ns.train(n, X, Y, progress="yes"),
    "train seed -1": lambda n: ns.train(n, X, Y, seed=-1),
    "train seed text": lambda n: ns.train(n, X, Y, seed="x"),
    "train X_test alone": lambda n: ns.train(n, X, Y, X_test=X),
    "train X_test shape": lambda n: ns.train(n, X, Y, X_test=X[:, :1], y_test=Y),
    "train y_test bad": lambda n: ns.train(n, X, Y, X_test=X, y_test=Y * 5),
    "train device": lambda n: ns.train(n, X, Y, device="tpu"),
    # one sample
    "forward x length": lambda n: ns.forward(n, [1.0]),
    "forward two samples": lambda n: ns.forward(n, X),
    "forward NaN": lambda n: ns.forward(n, [NAN, 1.0]),
    "forward device": lambda n: ns.forward(n, [1.0, 1.0], device="gpu"),
    "backward y size": lambda n: ns.backward(n, [1.0, 0.0]),
    "backward bce target 3": lambda n: ns.backward(n, [3.0]),
    "backward NaN": lambda n: ns.backward(n, [NAN]),
    "backward device": lambda n: ns.backward(n, [1.0], device="gpu"),
    "gradient x": lambda n: ns.gradient(n, [1.0], [1.0]),
    "gradient y (before the forward pass)": lambda n: ns.gradient(n, [1.0, 1.0], [2.0]),
    "update lr 0": lambda n: ns.update(n, lr=0),
    "update lr NaN": lambda n: ns.update(n, lr=NAN),
    "update lr inf": lambda n: ns.update(n, lr=np.inf),
    "update device": lambda n: ns.update(n, lr=0.1, device="gpu"),
    "step lr": lambda n: ns.step(n, [1.0, 1.0], [1.0], lr=-1),
    "step y (before the forward pass)": lambda n: ns.step(n, [1.0, 1.0], [7.0], lr=0.1),
    "step x": lambda n: ns.step(n, [1.0], [1.0], lr=0.1),
    # many samples
    "predict shape": lambda n: ns.predict(n, np.zeros((3, 3))),
    "predict empty": lambda n: ns.predict(n, np.zeros((0, 2))),
    "predict inf": lambda n: ns.predict(n, [[np.inf, 0.0]]),
    "predict text": lambda n: ns.predict(n, "abc"),
    "predict_proba shape": lambda n: ns.predict_proba(n, np.zeros((2, 5))),
    "evaluate y length": lambda n: ns.evaluate(n, X, Y[:2]),
    "evaluate X NaN": lambda n: ns.evaluate(n, X * NAN, Y),
    # the network's own methods
    "set_weight NaN": lambda n: n.set_weight("AE", NAN),
    "set_weight inf": lambda n: n.set_weight("AE", -np.inf),
    "set_weight text": lambda n: n.set_weight("AE", "heavy"),
    "astype int": lambda n: n.astype(int),
    "astype float16": lambda n: n.astype("float16"),
    # save, sklearn and interop on this network
    "save NaN weights": lambda n: save(_nan_copy(n), "never-written.npz"),
    "save history mismatch": lambda n: save(n, "never-written.npz", history=_four_history()),
    "estimator network misfit": lambda n: NeuronNetClassifier(network=n).fit(
        np.zeros((4, 3)), Y),
}


def _nan_copy(net):
    bad = net.copy()
    bad.weights[0] = NAN
    return bad


def _four_history():
    return ns.train(presets.four_neuron(), [[1.0, 1.0]], [[1.0, 0.0]], epochs=1)


@pytest.mark.parametrize("case", sorted(NET_CASES))
def test_entry_point_rejects_and_changes_nothing(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    net = _net()
    before = _snapshot(net)
    with pytest.raises(ValueError):
        NET_CASES[case](net)
    _assert_same(before, net)
    assert list(tmp_path.iterdir()) == []            # no file written either


@pytest.mark.parametrize("fn", [ns.forward, ns.predict, ns.predict_proba, ns.backward,
                                lambda n, _: ns.update(n, 0.1), ns.train,
                                lambda n, x: ns.evaluate(n, x, [1.0]),
                                lambda n, x: ns.gradient(n, x, [1.0]),
                                lambda n, x: ns.step(n, x, [1.0], 0.1)])
def test_not_a_network(fn):
    with pytest.raises(ValueError, match="Network"):
        fn("moons", [1.0, 1.0]) if fn is not ns.train else fn("moons", X, Y)


def test_unknown_names_are_key_errors():
    # looking a name up is a mapping access: KeyError, naming the known ones
    net = _net()
    before = _snapshot(net)
    for call in (lambda: net.weight("QQ"), lambda: net.set_weight("QQ", 1.0),
                 lambda: net.output("nobody"), lambda: net.delta("nobody")):
        with pytest.raises(KeyError, match="QQ|nobody"):
            call()
    _assert_same(before, net)


# -- constructors: nothing to change, but every bad input is a ValueError --------------
def _fe(edges, **kw):
    args = dict(inputs=["X"], outputs=["C"])
    args.update(kw)
    return ns.Network.from_edges(edges, **args)


BUILD_CASES = {
    "from_edges cycle": lambda: _fe(["XA", "AB", "BA", "BC"]),
    "from_edges duplicate": lambda: _fe(["XC", "XC"]),
    "from_edges into input": lambda: _fe(["XC", "AX", "XA"]),
    "from_edges out of output": lambda: _fe(["XC", "CA", "AD"], outputs=["C", "D"]),
    "from_edges unreachable output": lambda: _fe(["XC", "bD"], outputs=["C", "D"]),
    "from_edges NaN weight": lambda: _fe([("X", "C", NAN)]),
    "from_edges inf weight": lambda: _fe([("X", "C", np.inf)]),
    "from_edges text weight": lambda: _fe([("X", "C", "w")]),
    "from_edges bad edge": lambda: _fe(["XYZ"]),
    "from_edges name type": lambda: _fe([("X", 3)]),
    "from_edges edges None": lambda: _fe(None),
    "from_edges inputs None": lambda: _fe(["XC"], inputs=None),
    "from_edges no outputs": lambda: _fe(["XC"], outputs=[]),
    "from_edges bias empty": lambda: _fe(["XC"], bias=""),
    "from_edges name with space": lambda: _fe([("X", "a b")], outputs=["a b"]),
    "from_edges unknown activation": lambda: _fe(["XC"], activation="swish"),
    "from_edges unknown loss": lambda: _fe(["XC"], loss="hinge"),
    "from_edges unknown init": lambda: _fe(["XC"], init="zeros"),
    "from_edges bce needs sigmoid": lambda: _fe(["XC"], loss="bce",
                                                output_activation="relu"),
    "from_edges softmax needs identity": lambda: _fe(["XC"], loss="softmax_ce",
                                                     output_activation="tanh"),
    "from_edges seed": lambda: _fe(["XC"], seed="x"),
    "from_edges dtype": lambda: _fe(["XC"], dtype=int),
    "from_edges hidden unknown": lambda: _fe(["XA", "AC"], hidden=["B"]),
    "layered one layer": lambda: ns.Network.layered([2]),
    "layered zero": lambda: ns.Network.layered([2, 0, 1]),
    "layered float": lambda: ns.Network.layered([2, 1.5, 1]),
    "layered None": lambda: ns.Network.layered(None),
    "layered activation": lambda: ns.Network.layered([2, 1], hidden="swish"),
    "layered names": lambda: ns.Network.layered([2, 1], names=[["a"], ["b"]]),
    "layered names clash": lambda: ns.Network.layered([1, 1], names=[["a"], ["a"]]),
    "layered seed": lambda: ns.Network.layered([2, 1], seed=-3),
    "preset unknown": lambda: presets.preset("lenet"),
    "four_neuron missing weight": lambda: presets.four_neuron(weights={"XA": 1.0}),
    "four_neuron NaN weight": lambda: presets.four_neuron(
        weights={**presets.FOUR_NEURON_WEIGHTS, "XA": NAN}),
    "moons_net loss": lambda: presets.moons_net(loss="softmax_ce"),
    "moons_net seed": lambda: presets.moons_net(seed="x"),
    "net_22432 activation": lambda: presets.net_22432(activation="swish"),
}
for _name, _fn in datasets.DATASETS.items():
    for _bad in (dict(n_samples=2), dict(n_samples=10.5), dict(noise=-1), dict(noise="a"),
                 dict(noise=NAN), dict(test_size=0), dict(test_size=1), dict(test_size="a"),
                 dict(seed=-1), dict(seed="x"), dict(scale="yes")):
        BUILD_CASES[f"datasets.{_name} {_bad}"] = (lambda f, b: lambda: f(**b))(_fn, _bad)
BUILD_CASES["datasets.spirals turns 0"] = lambda: datasets.spirals(turns=0)
BUILD_CASES["datasets.spirals turns NaN"] = lambda: datasets.spirals(turns=NAN)


@pytest.mark.parametrize("case", sorted(BUILD_CASES))
def test_constructor_rejects(case):
    with pytest.raises(ValueError):
        BUILD_CASES[case]()


# -- sweeps --------------------------------------------------------------------------------
def _sw(**kw):
    args = dict(build="moons", X=X, y=Y, lrs=[0.1], seeds=[0], epochs=1)
    args.update(kw)
    return ns.sweep(args.pop("build"), args.pop("X"), args.pop("y"), **args)


SWEEP_CASES = {
    "lrs empty": dict(lrs=[]), "lrs negative": dict(lrs=[0.1, -1]),
    "lrs duplicate": dict(lrs=[0.1, 0.1]), "lrs text": dict(lrs=["a"]),
    "seeds negative": dict(seeds=[-1]), "seeds duplicate": dict(seeds=[1, 1]),
    "seeds float": dict(seeds=[0.5]), "seeds empty": dict(seeds=[]),
    "epochs 0": dict(epochs=0), "epochs text": dict(epochs="3"),
    "batch_size 0": dict(batch_size=0), "n_jobs 0": dict(n_jobs=0),
    "n_jobs float": dict(n_jobs=1.5), "backend type": dict(backend=3),
    "backend unknown": dict(backend="carrier-pigeon", n_jobs=2),
    "device": dict(device="tpu"), "progress": dict(progress="yes"),
    "build unknown preset": dict(build="lenet"),
    "build not a network": dict(build=lambda s: "net"),
    "build object": dict(build=3.5), "build empty dict": dict(build={}),
    "build bad sizes": dict(build=[2, 0, 1]),
    "dict and topology_name": dict(build={"a": "moons"}, topology_name="b"),
    "topology_name empty": dict(topology_name=""),
    "X shape": dict(X=np.zeros((4, 3))), "y labels": dict(y=Y * 3),
    "X_test alone": dict(X_test=X), "y_test bad": dict(X_test=X, y_test=Y[:2]),
    "X for one topology only": dict(build={"moons": "moons", "three": [3, 2, 1]}),
}


@pytest.mark.parametrize("case", sorted(SWEEP_CASES))
def test_sweep_rejects(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []
    kw = dict(SWEEP_CASES[case])
    if "build" not in kw:
        kw["build"] = lambda s: calls.append(s) or presets.moons_net(seed=s)
    with pytest.raises(ValueError):
        _sw(**kw)
    assert len(calls) <= 1            # at most the one validation build, no training run
    assert list(tmp_path.iterdir()) == []


def test_summaries_reject():
    df = _sw(seeds=[0, 1])
    before = df.copy()
    for call in (lambda: summarize("table"), lambda: summarize(df.drop(columns="test_acc")),
                 lambda: summarize(df.iloc[:0]), lambda: summarize(df, acc=1.5),
                 lambda: summarize(df, acc="all"), lambda: summarize(df, which="val"),
                 lambda: summarize(df),                            # no test set in df
                 lambda: summarize(df, which="train", band=(90, 10)),
                 lambda: summarize(df, which="train", band=5),
                 lambda: per_run(df, acc=-0.1, which="train"),
                 lambda: plot_sweep(df, which="train", ax="axes")):
        with pytest.raises(ValueError):
            call()
    pd.testing.assert_frame_equal(df, before)


# -- files -----------------------------------------------------------------------------------
def test_save_load_reject(tmp_path):
    net = _net()
    path = save(net, tmp_path / "n.npz")
    data = path.read_bytes()
    before = _snapshot(net)
    for call in (lambda: save("net", tmp_path / "x.npz"), lambda: save(net, None),
                 lambda: save(net, tmp_path), lambda: save(net, tmp_path / "a" / "b.npz"),
                 lambda: save(net, path, history="h"),
                 lambda: save(_nan_copy(net), path),
                 lambda: load(tmp_path / "missing.npz"), lambda: load(None),
                 lambda: load(path, max_bytes=0), lambda: load(path, max_bytes=10),
                 lambda: load(path, with_history="yes")):
        with pytest.raises(ValueError):
            call()
    _assert_same(before, net)
    assert path.read_bytes() == data and sorted(p.name for p in tmp_path.iterdir()) == ["n.npz"]


# -- estimators ------------------------------------------------------------------------------
EST_PARAMS = [dict(lr=0), dict(lr="fast"), dict(epochs=-1), dict(epochs=2.5),
              dict(batch_size=0), dict(hidden_layer_sizes=(0,)),
              dict(hidden_layer_sizes="big"), dict(activation="swish"), dict(init="zeros"),
              dict(scale=0), dict(dtype="float16"), dict(network="moons"),
              dict(shuffle="yes")]


@pytest.mark.parametrize("cls", [NeuronNetClassifier, NeuronNetRegressor])
@pytest.mark.parametrize("params", EST_PARAMS, ids=[str(p) for p in EST_PARAMS])
def test_estimator_rejects_and_keeps_its_fit(cls, params):
    est = cls(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, Y)
    net, weights = est.network_, est.network_.weights.copy()
    est.set_params(**params)
    with pytest.raises(ValueError):
        est.fit(X, Y)
    with pytest.raises(ValueError):
        est.partial_fit(X, Y)
    assert est.network_ is net
    np.testing.assert_array_equal(net.weights, weights)


@pytest.mark.parametrize("cls", [NeuronNetClassifier, NeuronNetRegressor])
def test_estimator_bad_data(cls):
    est = cls(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, Y)
    weights = est.network_.weights.copy()
    for call in (lambda: est.predict(np.zeros((2, 3))), lambda: est.predict(X * NAN),
                 lambda: est.fit(X, Y[:3]), lambda: est.partial_fit(np.zeros((4, 3)), Y),
                 lambda: est.score(X, Y[:2])):
        with pytest.raises(ValueError):
            call()
    np.testing.assert_array_equal(est.network_.weights, weights)


@pytest.mark.parametrize("cls, call", [
    (NeuronNetClassifier, lambda e: e.fit(X, np.zeros(4))),                 # one class
    (NeuronNetClassifier, lambda e: e.set_params(network=presets.four_neuron()).fit(X, Y)),
    (NeuronNetClassifier, lambda e: e.partial_fit(X, Y + 5)),               # unknown labels
    (NeuronNetRegressor, lambda e: e.set_params(network=presets.moons_net()).fit(
        X, np.c_[Y, Y])),                                                   # 2 targets
    (NeuronNetClassifier, lambda e: e.set_params(network=presets.moons_net()).fit(
        np.zeros((4, 3)), Y)),                                              # 3 features
])
def test_failed_fit_keeps_the_fitted_estimator(cls, call):
    # fit assigns n_features_in_, classes_, n_outputs_ ... before its last checks: a fit
    # that fails must leave all of them (and so predict) as they were
    est = cls(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, Y)
    before = _snapshot(est)
    pred = est.predict(X)
    with pytest.raises(ValueError):
        call(est)
    est.set_params(network=None)
    assert vars(est).keys() == before.keys()
    for k in ("n_features_in_", "n_iter_", "_y_1d", "n_outputs_", "classes_"):
        if k in before:
            np.testing.assert_array_equal(getattr(est, k), before[k], err_msg=k)
    np.testing.assert_array_equal(est.predict(X), pred)


def test_the_unchanged_check_can_fail():
    # negative control: a call that does change the network is caught by _assert_same
    net = _net()
    before = _snapshot(net)
    ns.train(net, X, Y, epochs=1)
    with pytest.raises(AssertionError):
        _assert_same(before, net)
    net = _net()
    before = _snapshot(net)
    ns.forward(net, [2.0, 2.0])                      # state only
    with pytest.raises(AssertionError):
        _assert_same(before, net)
