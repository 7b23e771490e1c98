"""The chapter's slow learner: the kernel against a plain-Python version, its History, and
the comparison with gradient descent by forward passes."""
import numpy as np
import pytest

import neurosim as ns
from neurosim.backends.cpu import scratch
from neurosim.kernels.slow import slow_epoch
from neurosim.training import passes, passes_to_reach, progress
from reference import forward_backward, random_dag, random_targets


def python_slow_epoch(net, X, T, perm, edges, steps):
    """The algorithm as the chapter states it, on the reference forward pass."""
    net = net.copy()
    tries = len(edges) // len(perm)
    kept = 0
    for s, i in enumerate(perm):
        E = forward_backward(net, X[i], T[i])[0]
        for q in range(s * tries, (s + 1) * tries):
            old = net.weights[edges[q]]
            net.weights[edges[q]] = old + steps[q]
            E2 = forward_backward(net, X[i], T[i])[0]
            if E2 < E:
                E, kept = E2, kept + 1
            else:
                net.weights[edges[q]] = old
    return net.weights, kept


@pytest.mark.parametrize("loss", ["quadratic", "bce", "softmax_ce"])
def test_kernel_matches_the_plain_algorithm(loss):
    net = random_dag(4, n_in=2, n_hidden=4, n_out=2, loss=loss, activation="tanh")
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (6, 2))
    T = random_targets(net, 6, 0)
    perm = rng.permutation(6)
    tries = 7
    edges = rng.integers(0, net.n_edges, 6 * tries)
    steps = rng.normal(0, 0.3, 6 * tries)
    ref_w, ref_kept = python_slow_epoch(net, X, T, perm, edges, steps)
    w = net.weights.copy()
    kept, n_passes = slow_epoch(X, T.astype(float), perm, edges, steps, net.loss, net.topo,
                                w, scratch(net))
    assert kept == ref_kept and 0 < kept < 6 * tries
    assert n_passes == 6 * (1 + tries)
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-14)


def linear_data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n, 2))
    return X, np.c_[X @ [0.7, -0.3], X @ [0.2, 0.5]]


def test_history_and_seeding():
    X, T = linear_data()
    a, b, c = (ns.presets.four_neuron() for _ in range(3))
    ha = ns.slow_learn(a, X, T, epochs=4, tries=6, scale=0.05, seed=3)
    hb = ns.slow_learn(b, X, T, epochs=4, tries=6, scale=0.05, seed=3)
    hc = ns.slow_learn(c, X, T, epochs=4, tries=6, scale=0.05, seed=4)
    assert isinstance(ha, ns.History) and ha.method == "slow"
    assert ha.forward_passes == 4 * 24 * (1 + 6) and ha.samples == 4 * 24
    assert ha.weights.shape == (5, 8) and ha.train_loss.shape == (5,)
    np.testing.assert_array_equal(ha.weights, hb.weights)
    np.testing.assert_array_equal(a.weights, ha.weights[-1])
    assert not np.array_equal(ha.weights, hc.weights)
    assert list(passes(ha)) == [0, 168, 336, 504, 672]
    p, sec, loss = progress(ha)
    assert list(p) == list(passes(ha)) and sec[0] == 0 and np.all(np.diff(sec) >= 0)
    assert sec[-1] == pytest.approx(ha.train_time) and np.array_equal(loss, ha.train_loss)
    assert "History(slow" in repr(ha)


def test_bad_input_raises_before_any_change():
    X, T = linear_data()
    for bad in (dict(epochs=-1), dict(tries=0), dict(scale=0.0), dict(scale=np.nan),
                dict(X=X[:, :1]), dict(y=T[:5]), dict(X_test=X), dict(shuffle="no"),
                dict(seed="x"), dict(seed=-1)):
        net = ns.presets.four_neuron()
        w0 = net.weights.copy()
        kw = dict(X=X, y=T)
        kw.update(bad)
        with pytest.raises(ValueError):
            ns.slow_learn(net, kw.pop("X"), kw.pop("y"), **kw)
        np.testing.assert_array_equal(net.weights, w0)


def test_passes_to_reach_rejects_bad_arguments():
    from neurosim.training import passes_to_reach
    X, T = linear_data()
    h = ns.slow_learn(ns.presets.four_neuron(), X, T, epochs=1)
    for hist, err in (("history", 0.1), (h, "low")):
        with pytest.raises(ValueError):
            passes_to_reach(hist, err)


def test_slow_learner_lowers_the_error_on_four_neuron_and_gd_is_faster():
    X, T = linear_data()
    ratios = []
    for seed in range(3):
        slow = ns.slow_learn(ns.presets.four_neuron(), X, T, epochs=15, tries=10,
                             scale=0.05, seed=seed)
        assert slow.train_loss[-1] < 0.1 * slow.train_loss[0]
        gd = ns.train(ns.presets.four_neuron(), X, T, lr=0.1, epochs=15, seed=seed)
        target = 0.01 * slow.train_loss[0]             # 1% of the starting error
        p_slow, p_gd = passes_to_reach(slow, target), passes_to_reach(gd, target)
        assert p_gd is not None and p_slow is not None
        assert p_gd < p_slow
        ratios.append(p_slow / p_gd)
    # 8 weights only: the slow learner is a few times slower here (far more on moons)
    print(f"four-neuron: forward passes to 1% of the starting error, slow / gradient "
          f"descent: {', '.join(f'{r:.1f}x' for r in ratios)}")


def test_slow_learner_lowers_the_error_on_moons_and_gd_is_faster():
    d = ns.datasets.moons(n_samples=400)
    slow = ns.slow_learn(ns.presets.moons_net(), d.X_train, d.y_train, epochs=10, tries=5,
                         scale=0.01, X_test=d.X_test, y_test=d.y_test)
    assert slow.train_loss[-1] < 0.8 * slow.train_loss[0]
    assert slow.train_acc[-1] > 0.8 and slow.test_acc.shape == (11,)
    gd = ns.train(ns.presets.moons_net(), d.X_train, d.y_train, lr=0.05, epochs=10)
    target = slow.train_loss[-1]
    p_slow, p_gd = passes_to_reach(slow, target), passes_to_reach(gd, target)
    assert p_gd is not None
    print(f"moons: error {target:.4g} after {p_slow} forward passes (slow) vs {p_gd} "
          f"(gradient descent): {p_slow / p_gd:.1f}x; wall {slow.train_time:.3g} s vs "
          f"{gd.train_time:.3g} s")
    assert p_gd < p_slow / 4
