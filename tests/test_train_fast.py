"""train's CPU loop: every epoch's orders drawn by the compiled copy of NumPy's shuffle,
the epochs back to back, then every epoch evaluated in one call -- the same History, bit
for bit, as evaluating after each epoch; and train_loss="running"."""
import sys
import warnings

import numpy as np
import pytest

import neurosim as ns
from neurosim.backends import cpu
from neurosim.kernels import cpu as K
from neurosim.kernels import planner
from neurosim.kernels.rng import draw
from neurosim.training import loop
from reference import random_dag, random_targets

_train_mod = sys.modules["neurosim.training.train"]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 1000, 4097])
def test_draw_is_numpys_permutation_and_leaves_the_same_state(n):
    for seed in range(6):
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        a.random(seed)
        b.random(seed)                          # start anywhere in the stream
        if seed % 2:
            a.integers(0, 9, 1)                 # a buffered 32-bit half pending
            b.integers(0, 9, 1)
        got = draw(a, n, 3)
        want = np.stack([b.permutation(n) for _ in range(3)])
        np.testing.assert_array_equal(got, want)
        assert a.bit_generator.state == b.bit_generator.state
        assert a.random() == b.random()


def test_draw_falls_back_to_numpy_for_other_bit_generators():
    a, b = np.random.Generator(np.random.MT19937(3)), np.random.Generator(np.random.MT19937(3))
    np.testing.assert_array_equal(draw(a, 50, 2), np.stack([b.permutation(50),
                                                           b.permutation(50)]))


def _per_epoch(monkeypatch):
    """Make train evaluate after every epoch through loop.run_epochs (the loop behind
    progress bars and CUDA), with the same orders."""
    def old(net, state, sets, epochs, orders, lr, skip, running):
        it = iter(list(orders))
        return loop.run_epochs(
            epochs, lambda ep: next(it), lambda p: state.epoch(p, lr, skip),
            lambda: [cpu.evaluate(net, sX, sT) for sX, sT in sets], lambda: net.weights)
    monkeypatch.setattr(_train_mod, "_run_cpu", old)


FIELDS = ("train_loss", "train_acc", "test_loss", "test_acc", "weights", "penalty")


def _histories(monkeypatch, net, X, y, **kw):
    a, b = net.copy(), net.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h1 = ns.train(a, X, y, **kw)
        with monkeypatch.context() as m:
            _per_epoch(m)
            h2 = ns.train(b, X, y, **kw)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert h1.diverged_epoch == h2.diverged_epoch and h1.epochs == h2.epochs
    for f in FIELDS:
        x1, x2 = getattr(h1, f), getattr(h2, f)
        assert (x1 is None) == (x2 is None), f
        if x1 is not None:
            np.testing.assert_array_equal(x1, x2, err_msg=f)
    return h1


@pytest.mark.parametrize("case", ["chapter", "general", "penalised", "minibatch", "float32"])
def test_batched_evaluation_is_evaluating_after_every_epoch(monkeypatch, case):
    d = ns.datasets.moons()
    net = ns.presets.moons_net()
    kw = dict(lr=0.05, epochs=4, X_test=d.X_test, y_test=d.y_test)
    if case == "general":
        net = ns.Network.layered([2, 12, 12, 1], hidden="tanh", output="sigmoid", loss="bce")
    elif case == "penalised":
        kw["l2"] = 0.01
    elif case == "minibatch":
        kw["batch_size"] = 7
    elif case == "float32":
        net = net.astype(np.float32)
    h = _histories(monkeypatch, net, d.X_train, d.y_train, **kw)
    assert h.epochs == 4 and len(h.epoch_time) == 4 and np.all(h.epoch_time > 0)


def test_divergence_stops_at_the_same_epoch(monkeypatch):
    net = random_dag(3, loss="quadratic", activation="identity")
    X = np.random.default_rng(0).normal(0, 3, (40, 2))
    T = random_targets(net, 40, 0) * 100
    h = _histories(monkeypatch, net, X, T, lr=0.5, epochs=50)
    assert h.diverged_epoch is not None and h.epochs == h.diverged_epoch


def test_running_loss_is_the_epochs_mean_error_before_each_step():
    net = random_dag(4, loss="bce", activation="tanh", n_out=1)
    X = np.random.default_rng(1).normal(0, 1, (30, 2))
    T = random_targets(net, 30, 2)
    n0 = net.copy()
    h = ns.train(net, X, T, lr=0.1, epochs=3, train_loss="running", seed=5)
    ev = ns.train(n0.copy(), X, T, lr=0.1, epochs=3, seed=5)
    np.testing.assert_array_equal(h.weights, ev.weights)        # the same training
    assert h.train_loss[0] == ev.train_loss[0]                  # row 0 evaluated
    # by hand: each sample's error and classification before its step
    w = n0.weights.copy()
    rng = np.random.default_rng(5)
    for ep in range(1, 4):
        perm = rng.permutation(30)
        E, right = 0.0, 0
        for i in perm:
            m = n0.copy()
            m.weights[:] = w
            right += int(round(ns.evaluate(m, X[i:i + 1], T[i:i + 1])[1]))
            E += ns.evaluate(m, X[i:i + 1], T[i:i + 1])[0]
            K.train_epoch(X, np.ascontiguousarray(T), np.array([i]), 0.1, 0.0, 1, False,
                          m.loss, m.topo, w, cpu.scratch(m), np.zeros(m.n_edges),
                          cpu.no_record(m))
        assert h.train_loss[ep] == pytest.approx(E / 30, rel=1e-12)
        assert h.train_acc[ep] == right / 30


def test_running_kernels_agree_bit_for_bit():
    for seed, loss in enumerate(("quadratic", "bce", "softmax_ce")):
        net = random_dag(seed, loss=loss, n_hidden=6)
        X = np.random.default_rng(seed).normal(0, 1, (20, 2))
        T = random_targets(net, 20, seed)
        perm = np.random.default_rng(seed).permutation(20)
        mod = planner.kernels(net)
        for l2 in (0.0, 0.01):
            w1, w2 = net.weights.copy(), net.weights.copy()
            r1 = K.running_epoch(X, T, perm, 0.1, 0.1 * l2, 1, False, net.loss, net.topo, w1,
                                 cpu.scratch(net), np.zeros(net.n_edges), cpu.no_record(net))
            r2 = (mod.sgd_running_l2(X, T, perm, 0.1, 0.1 * l2, False, w2) if l2 else
                  mod.sgd_running(X, T, perm, 0.1, False, w2))
            np.testing.assert_array_equal(w1, w2)
            assert r1 == r2 and r1[2] > 0
            plain = net.weights.copy()
            K.train_epoch(X, T, perm, 0.1, 0.1 * l2, 1, False, net.loss, net.topo, plain,
                          cpu.scratch(net), np.zeros(net.n_edges), cpu.no_record(net))
            np.testing.assert_array_equal(w1, plain)


def test_running_is_refused_where_it_is_not_computed():
    net = ns.presets.moons_net()
    X, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(ValueError, match="train_loss"):
        ns.train(net, X, y, train_loss="runing")
    with pytest.raises(ValueError, match="record"):
        ns.train(net, X, y, train_loss="running", record="all")
