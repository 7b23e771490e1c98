"""The generated many-networks kernel (kernels/plan_many.py) and the compiled shuffles
(kernels/rng.py): every network bit for bit what ns.train does on it alone, NumPy's very
orders, and the general kernel where nothing is generated."""
import contextlib
import warnings

import numpy as np
import pytest

import neurosim as ns
from neurosim.backends import cpu
from neurosim.kernels import plan_many, rng
from reference import ACTS, LOSSES, random_dag, random_targets, sgd


@pytest.fixture
def planned(monkeypatch):
    """Generated kernels for any call size; yields the list of ManyTrainers made, so a test
    can check which kernel ran."""
    monkeypatch.setattr(plan_many, "MIN_STEPS", 0)
    made = []
    init = cpu.ManyTrainer.__init__

    def spy(self, *a, **kw):
        init(self, *a, **kw)
        made.append(self)
    monkeypatch.setattr(cpu.ManyTrainer, "__init__", spy)
    yield made


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _nets(base, k, seed, scale=0.8):
    rng_ = np.random.default_rng(seed)
    out = []
    for _ in range(k):
        c = base.copy()
        c.weights[:] = rng_.normal(0, scale, base.n_edges)
        out.append(c)
    return out


def _data(net, n, seed):
    return (np.random.default_rng(seed).normal(0, 1, (n, net.n_inputs)),
            random_targets(net, n, seed + 1))


def _alone(nets, X, T, lrs, seeds, **kw):
    out = []
    for net, lr, s in zip(nets, lrs, seeds):
        c = net.copy()
        with _quiet():
            h = ns.train(c, X, T, lr=lr, seed=s, **kw)
        out.append((c, h))
    return out


def _check_same(after, h, alone):
    for i, (c, hi) in enumerate(alone):
        np.testing.assert_array_equal(after[i], c.weights, err_msg=f"net {i}")
        rows = hi.epochs + 1
        for key in ("train_loss", "train_acc", "train_data_loss", "penalty"):
            np.testing.assert_array_equal(getattr(h, key)[i, :rows], getattr(hi, key),
                                          err_msg=f"{key} of net {i}")
        if hi.test_loss is not None:
            np.testing.assert_array_equal(h.test_loss[i, :rows], hi.test_loss)
            np.testing.assert_array_equal(h.test_acc[i, :rows], hi.test_acc)
        assert (h.diverged_epoch[i] >= 0) == hi.diverged
        if hi.diverged:
            assert h.diverged_epoch[i] == hi.diverged_epoch


# -- the compiled generator -----------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 37, 1536, 70001])
def test_compiled_permutations_are_numpys(n):
    seeds = np.array([0, 1, 2, 7, 12345, 2**31 + 3, 2**32 + 5, 2**40, 2**63 - 1])
    got = rng.permutations(seeds, 3, n)
    for i, s in enumerate(seeds):
        r = np.random.default_rng(int(s))
        for e in range(3):
            np.testing.assert_array_equal(got[i, e], r.permutation(n), err_msg=f"seed {s}")


def test_generator_state_carries_on_between_calls():
    """Draws split over calls (odd and even numbers of 32-bit halves used) continue the
    sequence NumPy's generator would."""
    st = np.zeros((2, rng.STATE_WORDS), np.uint64)
    rng.seed(5, st, 0)
    rng.seed(6, st, 1)
    refs = [np.random.default_rng(5), np.random.default_rng(6)]
    out = np.empty(40, np.int64)
    for n in (7, 40, 1, 2, 33):
        for r in (0, 1):
            rng.shuffle_row(st, r, out, n)
            np.testing.assert_array_equal(out[:n], refs[r].permutation(n))
    got = rng.draw_permutations(st, 2, 9)
    for r in (0, 1):
        for e in range(2):
            np.testing.assert_array_equal(got[r, e], refs[r].permutation(9))


# -- the generated kernel: the same bits as ns.train ------------------------------------------
def _mixed(loss):
    """A random DAG with skip connections whose hidden neurons use all five activations."""
    net = random_dag(3, n_hidden=8, loss=loss)
    acts = {net.activation(nm) for nm in net.neuron_names if nm.startswith("h")}
    assert acts == set(ACTS)
    return net


@pytest.mark.parametrize("loss", LOSSES)
def test_generated_kernel_is_bit_identical_to_train(planned, loss):
    """37 networks (three chunks, the last partial, over the threads), mixed learning
    rates, seeds and a test set: each exactly ns.train on it alone."""
    base = _mixed(loss)
    nets = _nets(base, 37, LOSSES.index(loss))
    X, T = _data(base, 15, 1)
    Xt, Tt = _data(base, 6, 9)
    lrs = list(np.geomspace(0.005, 0.5, 37))
    seeds = list(range(100, 137))
    alone = _alone(nets, X, T, lrs, seeds, epochs=3, X_test=Xt, y_test=Tt)
    with _quiet():
        h = ns.train_many(nets, X, T, lr=lrs, seed=seeds, epochs=3, X_test=Xt, y_test=Tt)
    assert planned[-1].planned and planned[-1].n_chunks == -(-37 // planned[-1].chunk) > 1
    _check_same([n.weights for n in nets], h, alone)


def test_generated_kernel_with_a_mixed_l2_penalty(planned):
    base = _mixed("bce")
    nets = _nets(base, 20, 4)
    X, T = _data(base, 12, 2)
    l2 = [0.0, 0.01, 0.1, 0.0, 0.003] * 4
    lrs = [0.05, 0.2] * 10
    alone = []
    for net, lr, lam, s in zip(nets, lrs, l2, range(20)):
        c = net.copy()
        alone.append((c, ns.train(c, X, T, lr=lr, seed=s, epochs=3, l2=lam)))
    h = ns.train_many(nets, X, T, lr=lrs, seed=list(range(20)), epochs=3, l2=l2)
    assert planned[-1].planned
    _check_same([n.weights for n in nets], h, alone)
    assert np.all(h.penalty[np.array(l2) == 0] == 0) and np.all(h.penalty[np.array(l2) > 0] > 0)


def _relu_net():
    return ns.Network.layered([2, 5, 1], hidden="relu", output="relu", loss="quadratic",
                              init="he", seed=0)


def test_generated_kernel_skips_zero_error_samples_as_train(planned):
    base = _relu_net()
    nets = _nets(base, 18, 3, scale=0.6)
    X, T = _data(base, 16, 5)
    T[::2] = 0.0                    # relu outputs of exactly 0 meet these: E == 0
    alone = _alone(nets, X, T, [0.1] * 18, list(range(18)), epochs=4, skip_zero_error=True)
    skipped = [hi for _, hi in alone]
    h = ns.train_many(nets, X, T, lr=0.1, seed=list(range(18)), epochs=4,
                      skip_zero_error=True)
    assert planned[-1].planned
    _check_same([n.weights for n in nets], h, alone)
    plain = _alone(nets, X, T, [0.1] * 18, list(range(18)), epochs=4)
    assert any(not np.array_equal(a.train_loss, b.train_loss)
               for (_, a), b in zip(plain, skipped))     # the rule did change something


def test_a_diverged_network_stops_on_the_generated_kernel(planned):
    base = ns.presets.four_neuron()
    nets = [base.copy() for _ in range(17)]
    X = np.random.default_rng(0).normal(0, 3, (20, 2))
    T = np.c_[X.sum(1), X[:, 0]]
    lrs = [0.01] * 17
    lrs[3] = lrs[16] = 50.0
    alone = _alone(nets, X, T, lrs, list(range(17)), epochs=6)
    with _quiet():
        h = ns.train_many(nets, X, T, lr=lrs, seed=list(range(17)), epochs=6)
    assert planned[-1].planned
    assert list(np.flatnonzero(h.diverged)) == [3, 16]
    _check_same([n.weights for n in nets], h, alone)


@pytest.mark.parametrize("how", ["one seed", "no shuffle", "generator", "stretches",
                                 "snapshots"])
def test_every_way_of_ordering_the_samples(planned, how):
    """One shared seed (one order for all), no shuffle, a Generator (drawn by NumPy), a
    run cut into stretches (the progress bar's; generator states carried over) and weight
    snapshots: each as ns.train."""
    base = _mixed("quadratic")
    k = 19
    nets = _nets(base, k, 8)
    X, T = _data(base, 11, 3)
    lrs = [0.02, 0.07] * 9 + [0.1]
    kw, seeds, alone_kw = {}, list(range(k)), {}
    if how == "one seed":
        seeds = [41] * k
        kw = dict(seed=41)
    elif how == "no shuffle":
        kw = dict(shuffle=False, seed=seeds)
        alone_kw = dict(shuffle=False)
    elif how == "generator":
        kw = dict(seed=np.random.default_rng(41))
        seeds = [41] * k                 # every network sees that generator's orders
    elif how == "stretches":
        kw = dict(seed=seeds, progress=True)
    else:
        kw = dict(seed=seeds, keep_weights=True)
    epochs = 25 if how == "stretches" else 3
    alone = _alone(nets, X, T, lrs, seeds, epochs=epochs, **alone_kw)
    h = ns.train_many(nets, X, T, lr=lrs, epochs=epochs, **kw)
    assert planned[-1].planned
    _check_same([n.weights for n in nets], h, alone)
    if how == "snapshots":
        for i, (_, hi) in enumerate(alone):
            np.testing.assert_array_equal(h.weights_history[:, i], hi.weights)


def test_generated_kernel_against_the_naive_reference(planned):
    base = _mixed("quadratic")
    X, T = _data(base, 9, 4)
    W = np.random.default_rng(2).normal(0, 0.5, (20, base.n_edges))
    h = ns.train_many(base, X, T, weights=W, lr=0.05, epochs=2, shuffle=False)
    assert planned[-1].planned
    for i in (0, 13, 19):
        ref = base.copy()
        ref.weights[:] = W[i]
        for _ in range(2):
            ref.weights[:] = sgd(ref, X, T, 0.05, np.arange(len(X)))
        np.testing.assert_allclose(h.weights[i], ref.weights, rtol=1e-10, atol=1e-12)


# -- what is not generated runs the general kernel ------------------------------------------
@pytest.mark.parametrize("what", ["float32", "minibatch", "large", "disabled", "small call"])
def test_the_general_kernel_runs_what_is_not_generated(planned, monkeypatch, what):
    base = ns.presets.moons_net(seed=1, dtype=np.float32 if what == "float32" else np.float64)
    kw = dict(batch_size=4) if what == "minibatch" else {}
    if what == "large":
        monkeypatch.setattr(plan_many, "MAX_EDGES", base.n_edges - 1)
    if what == "disabled":
        monkeypatch.setattr(plan_many, "ENABLED", False)
    if what == "small call":                 # a new shape, too little work to compile it
        monkeypatch.setattr(plan_many, "MIN_STEPS", 10**9)
        monkeypatch.setattr(plan_many, "loaded", lambda net: False)
        monkeypatch.setattr(plan_many, "on_disk", lambda net: False)
    nets = _nets(base, 3, 0, scale=0.5)
    d = ns.datasets.moons(n_samples=60)
    alone = _alone(nets, d.X_train, d.y_train, [0.1] * 3, [1, 2, 3], epochs=2, **kw)
    h = ns.train_many(nets, d.X_train, d.y_train, lr=0.1, seed=[1, 2, 3], epochs=2, **kw)
    assert not planned[-1].planned
    _check_same([n.weights for n in nets], h, alone)


def test_a_small_call_runs_a_shape_this_machine_already_generated(planned, monkeypatch):
    base = _relu_net()
    X, T = _data(base, 8, 1)
    ns.train_many(_nets(base, 2, 0), X, T, seed=[0, 1], epochs=1)      # generates it
    assert planned[-1].planned and plan_many.on_disk(base)
    monkeypatch.setattr(plan_many, "MIN_STEPS", 10**9)
    monkeypatch.setattr(plan_many, "loaded", lambda net: False)
    ns.train_many(_nets(base, 2, 0), X, T, seed=[0, 1], epochs=1)
    assert planned[-1].planned


def test_chunk_size_and_the_generated_source():
    net = ns.presets.moons_net()
    assert plan_many.chunk_for(net) in (8, 16)
    text = plan_many.source(net, 8)
    assert "def train_chunk(" in text and "def train_chunk_l2(" in text
    assert "for q in range(8):" in text
    assert text.count("math.log1p") == 1          # bce's softplus terms share one log1p
    compile(text, "generated", "exec")


def test_warm_up_compiles_the_kernel_the_real_call_runs(monkeypatch):
    """prepare(many=True) warms up the kernel the sweep will choose: for the demo's seed
    sweep (50 chapter nets, 21 epochs, 1,536 samples) the generated one, not the general
    one that its two-sample rehearsal alone would pick (it used to compile both)."""
    from neurosim.training import prepare
    seen = []

    class Spy:
        def __init__(self, net, X, T, W0, lrs, batch, sets, **kw):
            seen.append((kw["planned"], X.shape[0], len(sets)))

    monkeypatch.setattr(cpu, "ManyTrainer", Spy)
    d = ns.datasets.moons()
    net = ns.presets.moons_net()
    prepare(net, d.X_train, d.y_train, epochs=21, many=True, networks=50,
            X_test=d.X_test, y_test=d.y_test)
    assert seen == [(plan_many.fits(net, steps=50 * 21 * len(d.X_train)), 2, 2)]
    assert seen[0][0] is True
    prepare(net, d.X_train, d.y_train, epochs=21, many=True, networks=50, batch_size=8)
    assert seen[1][0] is False                     # minibatches: the general kernel
    with pytest.raises(ValueError):
        prepare(net, d.X_train, d.y_train, many=True, networks=0)
