"""Core simulator: the edge list, the kernels against the reference, training; the tests
that take ``device`` run once per device (tests/conftest.py)."""
import numpy as np
import pytest

import neurosim as ns
from neurosim.kernels import cpu
from reference import ACTS, LOSSES, forward_backward, random_dag, random_targets, sgd


# -- the four-neuron network worked by hand (Fig 14-5) ------------------------------------
def test_four_neuron_by_hand(device):
    net = ns.presets.four_neuron()
    x, t = ns.presets.FOUR_NEURON_SAMPLE          # x = (1, 1), t = (1, 0)
    out = ns.forward(net, x, device=device)
    # Ao = XA*X + YA*Y = 0.2*1 + 0.3*1 = 0.5 ; Bo = 0.5*1 + 0.3*1 = 0.8
    assert net.output("A") == pytest.approx(0.5)
    assert net.output("B") == pytest.approx(0.8)
    # Co = AC*Ao + BC*Bo = 0.3*0.5 + (-0.2)*0.8 = -0.01 ; Do = 0.4*0.5 + 0.1*0.8 = 0.28
    np.testing.assert_allclose(out, [-0.01, 0.28])
    E = ns.backward(net, t, device=device)
    # E = 1/2 ((-0.01 - 1)^2 + (0.28 - 0)^2) = 1/2 (1.0201 + 0.0784) = 0.54925
    assert E == pytest.approx(0.54925)
    # Cd = Co - t1 = -1.01 ; Dd = Do - t2 = 0.28   (output minus label, not Fig 14-12's sign)
    assert net.delta("C") == pytest.approx(-1.01)
    assert net.delta("D") == pytest.approx(0.28)
    # Ad = AC*Cd + AD*Dd = 0.3*(-1.01) + 0.4*0.28 = -0.303 + 0.112 = -0.191
    # Bd = BC*Cd + BD*Dd = -0.2*(-1.01) + 0.1*0.28 = 0.202 + 0.028 = 0.23
    assert net.delta("A") == pytest.approx(-0.191)
    assert net.delta("B") == pytest.approx(0.23)
    ns.update(net, lr=0.1, device=device)
    # AC <- AC - lr*Ao*Cd = 0.3 - 0.1*0.5*(-1.01) = 0.3505
    # BD <- BD - lr*Bo*Dd = 0.1 - 0.1*0.8*0.28 = 0.0776
    # XA <- XA - lr*Xo*Ad = 0.2 - 0.1*1*(-0.191) = 0.2191
    # YB <- YB - lr*Yo*Bd = 0.3 - 0.1*1*0.23 = 0.277
    assert net.weight("AC") == pytest.approx(0.3505)
    assert net.weight("BD") == pytest.approx(0.0776)
    assert net.weight("XA") == pytest.approx(0.2191)
    assert net.weight("YB") == pytest.approx(0.277)
    # and the error fell
    ns.forward(net, x, device=device)
    assert ns.backward(net, t, device=device) < E


# -- against the reference on random DAGs with skip connections ---------------------------
CASES = [(seed, loss) for loss in LOSSES for seed in range(6)]


@pytest.mark.parametrize("seed,loss", CASES)
def test_kernels_match_reference(seed, loss, device):
    net = random_dag(seed, n_in=3, n_hidden=6, n_out=2 if loss != "bce" else 1 + seed % 2,
                     loss=loss)
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, 3)
    t = random_targets(net, 1, seed)[0]
    E_ref, o_ref, d_ref, g_ref = forward_backward(net, x, t)
    E, grad = ns.gradient(net, x, t, device=device)
    assert E == pytest.approx(E_ref, rel=1e-12, abs=1e-14)
    for nm in net.neuron_names:
        assert net.output(nm) == pytest.approx(o_ref[nm], rel=1e-12, abs=1e-14)
        assert net.delta(nm) == pytest.approx(d_ref[nm], rel=1e-9, abs=1e-12)
    ref = np.array([g_ref[(s, d)] for s, d, _ in net.edges()])
    np.testing.assert_allclose(grad, ref, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("loss", LOSSES)
def test_sgd_epoch_matches_reference(activation, loss, device):
    net = random_dag(7, n_in=2, n_hidden=5, n_out=2, loss=loss, activation=activation)
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (12, 2))
    T = random_targets(net, 12, 2)
    order = np.arange(12)
    ref = sgd(net, X, T, 0.1, order)
    h = ns.train(net, X, T, lr=0.1, epochs=1, shuffle=False, device=device)
    np.testing.assert_allclose(net.weights, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.weights[-1], ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_sgd_on_wide_layers_matches_reference(activation):
    # dense layers of 9 and 7 neurons take the kernel's grouped path (four rows at a time,
    # then two, then one; relu rows with g = 0 drop out), skip edges and a neuron fed by
    # no edge do not
    base = ns.Network.layered([3, 9, 7, 2], hidden=activation, seed=1, scale=0.8)
    rng = np.random.default_rng(2)
    edges = base.edges()
    edges += [("x0", "y0", 0.4), ("x2", "y1", -0.3), ("h1_3", "y1", 0.5), ("free", "y0", 0.7)]
    net = ns.Network.from_edges(edges, inputs=base.input_names, outputs=base.output_names,
                                activation=activation, bias="bias")
    assert net.n_edges == base.n_edges + 4
    X = rng.normal(0, 1, (10, 3))
    T = rng.normal(0, 1, (10, 2))
    ref = sgd(net, X, T, 0.05, np.arange(10))
    ns.train(net, X, T, lr=0.05, epochs=1, shuffle=False)
    np.testing.assert_allclose(net.weights, ref, rtol=1e-10, atol=1e-12)


def test_minibatch_matches_mean_gradient():
    net = random_dag(3, n_in=2, n_hidden=4, n_out=1, loss="bce")
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (10, 2))
    T = random_targets(net, 10, 0)
    w = net.weights.copy()
    for batch in ([0, 1, 2, 3], [4, 5, 6, 7], [8, 9]):
        gsum = np.zeros_like(w)
        for i in batch:
            gsum += np.array(list(forward_backward(net_with(net, w), X[i], T[i])[3].values()))
        w = w - 0.2 * gsum / len(batch)
    ns.train(net, X, T, lr=0.2, epochs=1, batch_size=4, shuffle=False)
    np.testing.assert_allclose(net.weights, w, rtol=1e-10, atol=1e-12)


def net_with(net, w):
    c = net.copy()
    c.weights[:] = w
    return c


# -- finite differences --------------------------------------------------------------------
def central_difference(net, x, t, h=1e-6):
    num = np.empty(net.n_edges)
    for k in range(net.n_edges):
        c = net.copy()
        c.weights[k] += h
        ns.forward(c, x)
        ep = ns.backward(c, t)
        c.weights[k] -= 2 * h
        ns.forward(c, x)
        em = ns.backward(c, t)
        num[k] = (ep - em) / (2 * h)
    return num


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_finite_differences(activation, loss):
    net = random_dag(11, n_in=3, n_hidden=6, n_out=2, loss=loss, activation=activation)
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, 3)
    t = random_targets(net, 1, 5)[0]
    _, grad = ns.gradient(net, x, t)
    num = central_difference(net, x, t)
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-7)


def test_finite_difference_check_catches_a_wrong_gradient():
    # negative control: the same comparison must fail when one gradient is wrong
    net = random_dag(11, n_in=3, n_hidden=6, n_out=2, loss="quadratic", activation="tanh")
    x, t = np.array([0.3, -0.2, 0.9]), np.array([0.5, -1.0])
    _, grad = ns.gradient(net, x, t)
    num = central_difference(net, x, t)
    k = int(np.argmax(np.abs(grad)))
    wrong = grad.copy()
    wrong[k] *= 1.01
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(wrong, num, rtol=1e-5, atol=1e-7)
    # and a sign error like Fig 14-12's "label minus output" is caught too
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(-grad, num, rtol=1e-5, atol=1e-7)


# -- properties -------------------------------------------------------------------------------
def test_edge_order_does_not_matter():
    a = random_dag(4, loss="quadratic")
    edges = a.edges()
    rng = np.random.default_rng(0)
    b = ns.Network.from_edges([edges[k] for k in rng.permutation(len(edges))],
                              inputs=a.input_names, outputs=a.output_names,
                              activation={n: a.activation(n) for n in a.neuron_names[a.first:]},
                              bias="bias")
    X = rng.normal(0, 1, (20, 2))
    T = random_targets(a, 20, 1)
    ha = ns.train(a, X, T, lr=0.05, epochs=3, seed=3)
    hb = ns.train(b, X, T, lr=0.05, epochs=3, seed=3)
    wb = dict(zip(b.edge_names, b.weights))
    np.testing.assert_array_equal(a.weights, [wb[n] for n in a.edge_names])
    np.testing.assert_array_equal(ha.train_loss, hb.train_loss)


def test_zero_learning_rate_changes_nothing():
    net = ns.presets.moons_net()
    d = ns.datasets.moons(n_samples=200)
    X = np.ascontiguousarray(d.X_train)
    T = np.ascontiguousarray(d.y_train[:, None])
    w0 = net.weights.copy()
    S = ns.backends.cpu.scratch(net)
    cpu.train_epoch(X, T, np.arange(len(X)), 0.0, 0.0, 1, False, net.loss, net.topo, net.weights,
                    S, np.zeros(net.n_edges), ns.backends.cpu.no_record(net))
    np.testing.assert_array_equal(net.weights, w0)


def test_fixed_seed_gives_identical_histories():
    d = ns.datasets.moons(n_samples=300)
    h1 = ns.train(ns.presets.moons_net(seed=3), d.X_train, d.y_train, epochs=4, seed=9)
    h2 = ns.train(ns.presets.moons_net(seed=3), d.X_train, d.y_train, epochs=4, seed=9)
    np.testing.assert_array_equal(h1.weights, h2.weights)
    np.testing.assert_array_equal(h1.train_loss, h2.train_loss)
    h3 = ns.train(ns.presets.moons_net(seed=3), d.X_train, d.y_train, epochs=4, seed=10)
    assert not np.array_equal(h1.weights, h3.weights)


def test_skip_zero_error():
    # a sample the net already gets exactly right makes no update when asked
    net = ns.Network.from_edges([("x", "y", 2.0)], inputs=["x"], outputs=["y"])
    X = np.array([[1.0], [1.0]])
    ns.train(net, X, [2.0, 2.0], lr=0.1, epochs=1, skip_zero_error=True)
    assert net.weight("x->y") == 2.0
    ns.train(net, X, [3.0, 2.0], lr=0.1, epochs=1, skip_zero_error=True, shuffle=False)
    assert net.weight("x->y") != 2.0


def test_float32():
    d = ns.datasets.moons(n_samples=400)
    n64 = ns.presets.moons_net()
    n32 = ns.presets.moons_net(dtype=np.float32)
    assert n32.weights.dtype == np.float32
    h64 = ns.train(n64, d.X_train, d.y_train, epochs=2, shuffle=False)
    h32 = ns.train(n32, d.X_train, d.y_train, epochs=2, shuffle=False)
    np.testing.assert_allclose(n32.weights, n64.weights, rtol=1e-3, atol=1e-4)
    assert h32.weights.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_recording_trains_bit_for_bit_like_the_fast_kernel(dtype):
    # the recorder runs _backward_update, per-sample training _backward_grouped: in float32
    # too they must round g the same way (a dense 8-wide layer takes the 4-row path)
    d = ns.datasets.moons(n_samples=200)
    a = ns.Network.layered([2, 8, 8, 1], hidden="sigmoid", loss="bce", seed=0, scale=1.0,
                           dtype=dtype)
    b = a.copy()
    ns.train(a, d.X_train, d.y_train, epochs=2)
    ns.train(b, d.X_train, d.y_train, epochs=2, record=["y0"])
    np.testing.assert_array_equal(a.weights, b.weights)


# -- the chapter's classifier ---------------------------------------------------------------
def test_moons_net_has_37_weights():
    net = ns.presets.moons_net()
    assert net.n_edges == 37
    assert sum(n.startswith("b") for n in net.edge_names) == 9
    assert {"AE", "XA", "bP", "HP"} <= set(net.edge_names)
    w = net.weights
    assert np.all(w[[net.edge(n) for n in net.edge_names if n.startswith("b")]] == 0)
    assert 0.02 < np.std(w[w != 0]) < 0.09       # N(0, 0.05)


def test_moons_at_005_reaches_99_percent():
    d = ns.datasets.moons()
    assert (len(d.X_train), len(d.X_test)) == (1536, 512)
    net = ns.presets.moons_net()                  # documented default seed
    h = ns.train(net, d.X_train, d.y_train, lr=0.05, epochs=21, X_test=d.X_test,
                 y_test=d.y_test)
    assert h.test_acc.max() >= 0.99
    assert h.weights.shape == (22, 37) and h.test_acc.shape == (22,)
    assert h.cups > 0
    first = h.first_epoch_at(0.99)
    assert h.test_acc[first] >= 0.99 and np.all(h.test_acc[:first] < 0.99)
    assert h.first_epoch_at(0.99, "train") is not None
    with pytest.raises(ValueError, match="which"):
        h.first_epoch_at(0.99, "tset")          # a typo used to read the train accuracy


def test_moons_data_is_the_books():
    # the book: np.random.seed(42); make_moons(2048, noise=.08); train_test_split(test_size=.25)
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    state = np.random.get_state()
    try:
        np.random.seed(42)
        X, y = make_moons(2048, noise=0.08)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25)
    finally:
        np.random.set_state(state)
    sc = StandardScaler().fit(Xtr)
    d = ns.datasets.moons()
    np.testing.assert_array_equal(d.X_train, sc.transform(Xtr))
    np.testing.assert_array_equal(d.y_test, yte)


@pytest.mark.parametrize("name", sorted(ns.datasets.DATASETS))
def test_datasets_shapes(name):
    d = ns.datasets.DATASETS[name](seed=1) if name != "moons" else ns.datasets.moons()
    classes = set(map(float, range(5))) if name == "blobs" else {0.0, 1.0}
    assert d.X_train.shape[1] == 2 and set(np.unique(d.y_train)) == classes
    assert abs(d.X_train.mean()) < 0.1


# -- divergence and bad input ---------------------------------------------------------------
def test_divergence_is_detected():
    net = ns.Network.layered([1, 3, 1], hidden="identity", init="normal", scale=1.0, seed=0)
    X = np.linspace(-3, 3, 20)[:, None]
    with pytest.warns(RuntimeWarning, match="diverged at epoch"):
        h = ns.train(net, X, 10 * X[:, 0], lr=5.0, epochs=50)
    assert h.diverged and 1 <= h.diverged_epoch < 50
    assert h.epochs == h.diverged_epoch and len(h.train_loss) == h.epochs + 1
    net = ns.Network.layered([1, 3, 1], hidden="identity", scale=1.0, seed=0)
    with pytest.raises(ns.DivergenceError):
        ns.train(net, X, 10 * X[:, 0], lr=5.0, epochs=50, on_divergence="raise")


@pytest.mark.parametrize("bad", [
    dict(X=np.array([[np.nan, 0.0]] * 4)),
    dict(X=np.zeros((4, 3))),
    dict(y=np.array([0, 1, 2, 1.0])),
    dict(y=np.zeros(3)),
    dict(lr=0.0), dict(lr=-1.0), dict(lr=np.inf),
    dict(epochs=-1), dict(batch_size=0),
    dict(X_test=np.zeros((2, 2))),
    dict(on_divergence="ignore"),
])
def test_bad_input_raises_before_any_change(bad):
    net = ns.presets.moons_net()
    w0 = net.weights.copy()
    args = dict(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1.0]))
    args.update(bad)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(ValueError):
        ns.train(net, X, y, **args)
    np.testing.assert_array_equal(net.weights, w0)


def test_values_too_large_for_float32_raise_before_any_change():
    net = ns.Network.layered([2, 3, 1], hidden="tanh", seed=0, dtype=np.float32)
    w0 = net.weights.copy()
    X, y = np.zeros((4, 2)), np.zeros(4)
    for bad in (dict(X=np.full((4, 2), 1e39)), dict(y=np.full(4, -1e39))):
        args = {"X": X, "y": y, **bad}
        with pytest.raises(ValueError, match="too large for float32"):
            ns.train(net, args["X"], args["y"], epochs=1)
    np.testing.assert_array_equal(net.weights, w0)
    with pytest.raises(ValueError, match="too large for float32"):
        net.set_weight("x0->h1_0", 1e39)
    np.testing.assert_array_equal(net.weights, w0)
    with pytest.raises(ValueError, match="too large for float32"):
        ns.Network.from_edges([("x", "y", 1e39)], inputs=["x"], outputs=["y"],
                              dtype=np.float32)


@pytest.mark.parametrize("edges,kw,match", [
    ([("X", "A"), ("A", "B"), ("B", "A"), ("B", "P")], {}, "cycle"),
    ([("X", "A"), ("X", "A"), ("A", "P")], {}, "duplicate edges: X->A"),
    ([("X", "A"), ("A", "P"), ("Q", "P")], dict(hidden=["A"]), "unknown neurons: \\['Q'\\]"),
    ([("X", "A"), ("A", "X"), ("A", "P")], {}, "into an input.*A->X"),
    ([("X", "A"), ("A", "b"), ("A", "P")], {}, "into an input or the bias.*A->b"),
    ([("X", "A"), ("b", "P")], {}, "no path from any input: \\['P'\\]"),
    ([("X", "P"), ("P", "A")], {}, "out of an output.*P->A"),
    ([("X", "A"), ("A", "P")], dict(activation="swish"), "unknown activation"),
    ([("X", "A"), ("A", "P")], dict(loss="hinge"), "unknown loss"),
    ([("X", "A"), ("A", "P")], dict(loss="bce", output_activation="relu"), "sigmoid"),
    ([("X", "A"), ("A", "P")], dict(hidden=5), "hidden must be a list"),
    ([("X", "A"), ("A", "P")], dict(loss="softmax_ce"), "two or more output neurons"),
])
def test_from_edges_errors(edges, kw, match):
    with pytest.raises(ValueError, match=match):
        ns.Network.from_edges(edges, inputs=["X"], outputs=["P"], **kw)


def test_layered_sizes_are_integers():
    with pytest.raises(ValueError, match="positive integers"):
        ns.Network.layered([2, True, 1])


def test_names_and_access():
    net = ns.Network.layered([2, 3, 1], seed=0)
    assert net.edge_names[0] == "x0->h1_0"          # by destination, then source
    assert net.weight("bias->h1_0") == 0.0
    net.set_weight("x0->h1_0", 0.5)
    assert net.weight("x0->h1_0") == 0.5
    with pytest.raises(KeyError, match="no edge"):
        net.weight("x0->y0")
    with pytest.raises(ValueError):
        net.set_weight("x0->h1_0", float("nan"))
    assert "2 inputs, 3 hidden, 1 output; 13 edges (4 biases)" in repr(net)
    four = ns.presets.four_neuron()
    assert four.weight("AC") == four.weight("A->C") == 0.3
    assert four.edge_names == ["XA", "YA", "XB", "YB", "AC", "BC", "AD", "BD"]


def test_copies_share_no_array():
    a = ns.presets.moons_net()
    b = a.copy()
    for name, v in vars(a).items():
        if isinstance(v, np.ndarray):
            assert not np.shares_memory(v, getattr(b, name)), name


def test_initialisers():
    for init in ("normal", "glorot", "he"):
        a = ns.Network.layered([2, 50, 1], init=init, seed=1)
        b = ns.Network.layered([2, 50, 1], init=init, seed=1)
        np.testing.assert_array_equal(a.weights, b.weights)
        assert np.all(a.weights[a.src == a.bias] == 0)
    he = ns.Network.layered([100, 100, 1], init="he", seed=0)
    w = he.weights[(he.src != he.bias) & (he.dst < he.output_idx[0])]
    assert np.std(w) == pytest.approx(np.sqrt(2 / 100), rel=0.05)
    # glorot uniform: U(-lim, lim), lim = sqrt(6 / (fan_in + fan_out)) of each layer
    gl = ns.Network.layered([20, 30, 10], init="glorot", seed=0)
    layer2 = gl.dst >= gl.output_idx[0]
    for in_layer, fans in ((~layer2, 20 + 30), (layer2, 30 + 10)):
        w = gl.weights[in_layer & (gl.src != gl.bias)]
        lim = np.sqrt(6 / fans)
        assert 0.95 * lim < np.abs(w).max() <= lim


def test_layered_2_2_4_3_2_and_softmax():
    net = ns.presets.net_22432()
    assert net.n_edges == 2 * 2 + 2 * 4 + 4 * 3 + 3 * 2
    assert net.output_names == ["P", "Q"]
    clf = ns.Network.layered([2, 5, 3], hidden="tanh", loss="softmax_ce", seed=0)
    d = ns.datasets.gaussians(n_samples=90, seed=0)
    y = d.y_train.astype(int) + (d.X_train[:, 0] > 1)
    h = ns.train(clf, d.X_train, y, lr=0.1, epochs=20)
    assert h.train_acc[-1] > h.train_acc[0]
    p = ns.predict_proba(clf, d.X_test)
    np.testing.assert_allclose(p.sum(1), 1.0)
