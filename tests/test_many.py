"""train_many on the CPU: every network exactly what ns.train does on it alone (bit for bit
in float64), against the naive reference, and bad input refused before anything trains."""
import contextlib
import warnings

import numpy as np
import pytest

import neurosim as ns
from reference import ACTS, LOSSES, random_dag, random_targets, sgd


def _data(net, n=12, seed=0):
    X = np.random.default_rng(seed).normal(0, 1, (n, net.n_inputs))
    return X, random_targets(net, n, seed + 1)


def _nets(seed, k, **kw):
    """k networks of one random topology with different initial weights."""
    base = random_dag(seed, **kw)
    rng = np.random.default_rng(seed + 100)
    nets = []
    for _ in range(k):
        c = base.copy()
        c.weights[:] = rng.normal(0, 0.8, base.n_edges).astype(base.dtype)
        nets.append(c)
    return nets


def _alone(nets, X, T, lrs, seeds, **kw):
    out = []
    for net, lr, s in zip(nets, lrs, seeds):
        c = net.copy()
        with np.errstate(all="ignore"), _quiet():
            h = ns.train(c, X, T, lr=lr, seed=s, **kw)
        out.append((c, h))
    return out


@contextlib.contextmanager
def _quiet():
    """Divergence warnings off: the tests compare where runs diverge instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _check_same(nets_after, h, alone):
    for i, (c, hi) in enumerate(alone):
        np.testing.assert_array_equal(nets_after[i].weights, c.weights, err_msg=f"net {i}")
        rows = hi.epochs + 1
        np.testing.assert_array_equal(h.train_loss[i, :rows], hi.train_loss)
        np.testing.assert_array_equal(h.train_acc[i, :rows], hi.train_acc)
        if hi.test_loss is not None:
            np.testing.assert_array_equal(h.test_loss[i, :rows], hi.test_loss)
            np.testing.assert_array_equal(h.test_acc[i, :rows], hi.test_acc)
        assert (h.diverged_epoch[i] >= 0) == hi.diverged
        if hi.diverged:
            assert h.diverged_epoch[i] == hi.diverged_epoch


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTS)
def test_every_network_is_bit_identical_to_training_it_alone(act, loss):
    seed = ACTS.index(act) * 10 + LOSSES.index(loss)
    nets = _nets(seed, 5, loss=loss, activation=act, n_hidden=6)
    X, T = _data(nets[0], 14, seed)
    Xt, Tt = _data(nets[0], 5, seed + 7)
    lrs, seeds = [0.05, 0.2, 0.01, 0.1, 0.3], [3, 1, 4, 1, 5]
    alone = _alone(nets, X, T, lrs, seeds, epochs=3, X_test=Xt, y_test=Tt)
    with _quiet():
        h = ns.train_many(nets, X, T, lr=lrs, seed=seeds, epochs=3, X_test=Xt, y_test=Tt)
    _check_same(nets, h, alone)
    assert h.device == ns.backends.cpu.device_name()


@pytest.mark.parametrize("batch,skip", [(3, False), (1, True), (4, True)])
def test_minibatch_and_skip_zero_error_match_train(batch, skip):
    nets = _nets(7, 6, loss="quadratic", activation="relu")
    X, T = _data(nets[0], 13, 2)
    T[::3] = 0.0                                 # relu nets often output exactly 0 there
    lrs, seeds = [0.1] * 3 + [0.02] * 3, list(range(6))
    alone = _alone(nets, X, T, lrs, seeds, epochs=3, batch_size=batch, skip_zero_error=skip)
    h = ns.train_many(nets, X, T, lr=lrs, seed=seeds, epochs=3, batch_size=batch,
                      skip_zero_error=skip)
    _check_same(nets, h, alone)


def test_float32_matches_train_and_one_shared_seed():
    nets = _nets(3, 4, loss="bce", dtype=np.float32)
    X, T = _data(nets[0], 10, 1)
    alone = _alone(nets, X, T, [0.1] * 4, [9] * 4, epochs=2)
    h = ns.train_many(nets, X, T, lr=0.1, seed=9, epochs=2, keep_weights=True)
    _check_same(nets, h, alone)
    assert h.weights_history.shape == (3, 4, nets[0].n_edges)
    np.testing.assert_array_equal(h.weights_history[-1], h.weights)


def test_many_chunks_over_threads_and_the_reference():
    """More networks than one chunk: every chunk does the same; and the naive reference."""
    base = random_dag(11, loss="quadratic", activation="tanh")
    X, T = _data(base, 8, 4)
    W = np.random.default_rng(0).normal(0, 0.5, (150, base.n_edges))
    h = ns.train_many(base, X, T, weights=W, lr=0.05, epochs=2, shuffle=False)
    for i in (0, 77, 149):
        ref = base.copy()
        ref.weights[:] = W[i]
        for _ in range(2):
            ref.weights[:] = sgd(ref, X, T, 0.05, np.arange(len(X)))
        np.testing.assert_allclose(h.weights[i], ref.weights, rtol=1e-10, atol=1e-12)


def test_a_diverged_network_stops_and_the_others_go_on():
    nets = [ns.presets.four_neuron() for _ in range(3)]
    X = np.random.default_rng(0).normal(0, 3, (20, 2))
    T = np.c_[X.sum(1), X[:, 0]]
    alone = _alone(nets, X, T, [0.01, 50.0, 0.02], [0, 1, 2], epochs=6)
    with _quiet():
        h = ns.train_many(nets, X, T, lr=[0.01, 50.0, 0.02], seed=[0, 1, 2], epochs=6)
    assert list(h.diverged) == [False, True, False]
    _check_same(nets, h, alone)
    d = h.diverged_epoch[1]
    assert np.all(h.train_loss[1, d:] == h.train_loss[1, d]) or np.isnan(h.train_loss[1, d])


def test_one_network_goes_through_the_single_network_trainer():
    net = ns.presets.moons_net(seed=4)
    d = ns.datasets.moons(n_samples=200)
    c = net.copy()
    h1 = ns.train(c, d.X_train, d.y_train, lr=0.05, epochs=3, seed=2)
    h = ns.train_many([net], d.X_train, d.y_train, lr=0.05, epochs=3, seed=[2])
    np.testing.assert_array_equal(net.weights, c.weights)
    np.testing.assert_array_equal(h.train_loss[0], h1.train_loss)


@pytest.mark.parametrize("kw,match", [
    (dict(lr=[0.1, 0.2]), "learning rates"),
    (dict(lr=[0.1, float("nan"), 0.1]), "learning rate"),
    (dict(lr=[0.1, -1.0, 0.1]), "learning rate"),
    (dict(seed=[1, 2]), "seed"),
    (dict(epochs=-1), "epochs"),
    (dict(batch_size=0), "batch_size"),
])
def test_bad_input_changes_nothing(kw, match):
    nets = _nets(1, 3)
    X, T = _data(nets[0])
    before = [n.weights.copy() for n in nets]
    with pytest.raises(ValueError, match=match):
        ns.train_many(nets, X, T, **kw)
    for n, w in zip(nets, before):
        np.testing.assert_array_equal(n.weights, w)


def test_different_topologies_and_empty_lists_are_refused():
    a, b = random_dag(1), random_dag(2)
    X, T = _data(a)
    with pytest.raises(ValueError, match="topology"):
        ns.train_many([a, b], X, T)
    with pytest.raises(ValueError, match="non-empty"):
        ns.train_many([], X, T)
