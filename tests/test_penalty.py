"""The L2 penalty l2/2 * sum w^2 over the non-bias weights (issue: the chapter's error
terms that add): every kernel against the naive reference, l2 = 0 as no penalty, the
many-networks loop bit for bit like train, the penalised gradient by finite differences."""
import numpy as np
import pytest

import neurosim as ns
from reference import LOSSES, random_dag, random_targets, sgd


def _ref_sgd(net, X, T, lr, l2, order):
    """The naive reference's per-sample SGD on the penalised error (tests/reference.py)."""
    return sgd(net, X, T, lr, order, l2=l2)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", [0, 1])
def test_per_sample_penalty_matches_reference(loss, seed, device):
    net = random_dag(seed, n_in=2, n_hidden=5, n_out=2 if loss != "bce" else 1, loss=loss)
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (10, 2))
    T = random_targets(net, 10, seed)
    ref = _ref_sgd(net, X, T, 0.1, 0.05, np.arange(10))
    h = ns.train(net, X, T, lr=0.1, epochs=1, shuffle=False, l2=0.05, device=device)
    np.testing.assert_allclose(h.weights[-1], ref, rtol=1e-10, atol=1e-12)
    # the reported error is the data term plus l2/2 * sum of the non-bias squares
    keep = net.src != net.bias
    pen = 0.5 * 0.05 * np.sum(h.weights[:, keep] ** 2, axis=1)
    np.testing.assert_allclose(h.penalty, pen, rtol=1e-12)
    np.testing.assert_allclose(h.train_loss, h.train_data_loss + pen, rtol=1e-12)


def test_l2_zero_is_no_penalty_bit_for_bit():
    d = ns.datasets.moons()
    for bs in (1, 8):
        a = ns.train(ns.presets.moons_net(seed=2), d[0], d[2], lr=0.05, epochs=2,
                     batch_size=bs)
        b = ns.train(ns.presets.moons_net(seed=2), d[0], d[2], lr=0.05, epochs=2,
                     batch_size=bs, l2=0.0)
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.train_loss, b.train_data_loss)
        assert not b.penalty.any()


@pytest.mark.parametrize("batch_size", [1, 4])
def test_many_networks_equal_train_with_mixed_l2(batch_size):
    net0 = random_dag(3, n_in=2, n_hidden=5, n_out=1, loss="bce")
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (24, 2))
    T = random_targets(net0, 24, 1)
    l2s = [0.0, 0.01, 0.1, 0.0]
    nets = [net0.copy() for _ in l2s]
    for k, n in enumerate(nets):
        n.weights[:] = net0.weights * (1 + 0.1 * k)
    starts = [n.weights.copy() for n in nets]
    m = ns.train_many(nets, X, T, lr=0.1, epochs=3, seed=[0, 1, 2, 3], l2=l2s,
                      batch_size=batch_size)
    for k, l2 in enumerate(l2s):
        one = net0.copy()
        one.weights[:] = starts[k]
        h = ns.train(one, X, T, lr=0.1, epochs=3, seed=k, l2=l2, batch_size=batch_size)
        np.testing.assert_array_equal(h.weights[-1], m.weights[k])
        np.testing.assert_array_equal(h.train_loss, m.train_loss[k])
        np.testing.assert_array_equal(h.penalty, m.penalty[k])


def test_four_neuron_penalised_step_by_hand():
    net = ns.presets.four_neuron()
    x, t = ns.presets.FOUR_NEURON_SAMPLE
    ns.train(net, x[None, :], t[None, :], lr=0.1, epochs=1, shuffle=False, l2=0.1)
    # no biases in this net, so every weight is penalised:
    # AC <- AC - lr*(Ao*Cd + l2*AC) = 0.3 - 0.1*(0.5*(-1.01) + 0.1*0.3) = 0.3 + 0.0475 = 0.3475
    # BD <- BD - lr*(Bo*Dd + l2*BD) = 0.1 - 0.1*(0.8*0.28 + 0.1*0.1) = 0.1 - 0.0234 = 0.0766
    # XA <- XA - lr*(Xo*Ad + l2*XA) = 0.2 - 0.1*(1*(-0.191) + 0.1*0.2) = 0.2 + 0.0171 = 0.2171
    assert net.weight("AC") == pytest.approx(0.3475)
    assert net.weight("BD") == pytest.approx(0.0766)
    assert net.weight("XA") == pytest.approx(0.2171)
    tr = ns.trace(ns.presets.four_neuron(), x, t, lr=0.1, l2=0.1)
    assert "AC ← AC − η·(Ao·Cδ + λ·AC)" in tr.explain("C")
    assert {u.edge: u.new_weight for u in tr.neuron("C").updates}["AC"] == \
        pytest.approx(0.3475)


def test_gradcheck_checks_the_penalised_gradient():
    net = random_dag(5, n_in=2, n_hidden=4, n_out=1, loss="bce", activation="tanh")
    rng = np.random.default_rng(3)
    X = rng.normal(0, 1, (6, 2))
    T = random_targets(net, 6, 3)
    g = ns.gradcheck(net, X, T, l2=0.3)
    assert g.ok, str(g)
    plain = ns.gradcheck(net, X, T)
    keep = net.src != net.bias
    np.testing.assert_allclose(g.analytic - plain.analytic, 0.3 * net.weights * keep,
                               rtol=1e-9, atol=1e-12)
    # a gradient missing the penalty term fails the penalised check
    bad = ns.gradcheck(net, X, T, l2=0.3, grad_fn=lambda n, X, T: plain.analytic)
    assert not bad.ok


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", None])
def test_bad_l2_raises_before_any_change(bad):
    d = ns.datasets.moons()
    net = ns.presets.moons_net()
    w0 = net.weights.copy()
    with pytest.raises(ValueError):
        ns.train(net, d[0], d[2], epochs=1, l2=bad)
    with pytest.raises(ValueError):
        ns.train_many([net, net.copy()], d[0], d[2], epochs=1, l2=bad)
    with pytest.raises(ValueError):
        ns.train_many([net, net.copy()], d[0], d[2], epochs=1, l2=[0.0, 0.0, 0.0])
    np.testing.assert_array_equal(net.weights, w0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", LOSSES)
def test_generated_penalised_epoch_is_the_general_kernel_bit_for_bit(loss, dtype):
    from neurosim.backends import cpu
    from neurosim.kernels import cpu as K
    from neurosim.kernels import planner
    net = random_dag(7, n_in=2, n_hidden=6, n_out=2 if loss != "bce" else 1, loss=loss,
                     dtype=dtype)
    X = np.random.default_rng(1).normal(0, 1, (16, 2)).astype(dtype)
    T = random_targets(net, 16, 2).astype(dtype)
    perm = np.random.default_rng(3).permutation(16)
    lr, decay = dtype(0.1), dtype(0.1) * dtype(0.03)
    for skip in (False, True):
        w1, w2 = net.weights.copy(), net.weights.copy()
        r1 = K.train_epoch(X, T, perm, lr, decay, 1, skip, net.loss, net.topo, w1,
                           cpu.scratch(net), np.zeros(net.n_edges, dtype), cpu.no_record(net))
        r2 = planner.kernels(net).sgd_epoch_l2(X, T, perm, lr, decay, skip, w2)
        np.testing.assert_array_equal(w1, w2)
        assert r1[1] == r2[1] and r1[0] == r2[0]
    assert not np.array_equal(w1, net.weights)              # it did train


def test_train_runs_the_generated_penalised_kernel_and_matches_reference():
    from neurosim.backends import cpu
    net = random_dag(4, n_in=2, n_hidden=4, n_out=1, loss="quadratic")
    X = np.random.default_rng(0).normal(0, 1, (10, 2))
    T = random_targets(net, 10, 1)
    tr = cpu.Trainer(net, X, T, epochs=5000, l2=0.02)           # 50,000 steps: planned
    assert tr.planned is not None and tr.planned.__name__ == "sgd_epoch_l2"
    ref = _ref_sgd(net, X, T, 0.1, 0.02, np.arange(10))
    h = ns.train(net, X, T, lr=0.1, epochs=1, shuffle=False, l2=0.02)
    np.testing.assert_allclose(h.weights[-1], ref, rtol=1e-10, atol=1e-12)


def test_prepare_compiles_the_penalised_kernel_and_refuses_bad_l2():
    from neurosim.kernels import planner
    net = random_dag(9, n_in=2, n_hidden=3, n_out=1, loss="bce")
    X = np.random.default_rng(0).normal(0, 1, (8, 2))
    y = (X[:, 0] > 0).astype(float)
    w0 = net.weights.copy()
    ns.training.prepare(net, X, y, epochs=5000, l2=0.1)
    assert planner.kernels(net).sgd_epoch_l2.signatures            # compiled (or loaded)
    np.testing.assert_array_equal(net.weights, w0)                 # and nothing trained
    with pytest.raises(ValueError, match="l2"):
        ns.training.prepare(net, X, y, l2=-1.0)


def test_cli_l2_trains_traces_and_sweeps_with_the_penalty(tmp_path, capsys):
    from neurosim.cli import main
    out = tmp_path / "m.npz"
    assert main(["train", "--net", "moons", "--data", "xor", "--n-samples", "80", "--epochs",
                 "2", "--seed", "3", "--l2", "0.01", "--no-progress", "-o", str(out)]) == 0
    net, hist = ns.load(out, with_history=True)
    d = ns.datasets.xor(n_samples=80)
    ref = ns.presets.moons_net(seed=3)
    h = ns.train(ref, d.X_train, d.y_train, lr=0.05, epochs=2, seed=3, X_test=d.X_test,
                 y_test=d.y_test, l2=0.01)
    np.testing.assert_array_equal(net.weights, ref.weights)
    assert hist.l2 == 0.01 and hist.penalty[-1] == h.penalty[-1] > 0
    capsys.readouterr()
    assert main(["trace", "--net", "four-neuron", "--neuron", "A", "--l2", "0.01"]) == 0
    text = capsys.readouterr().out
    assert "XA ← XA − η·(Xo·Aδ + λ·XA)" in text and "λ = 0.01" in text
    assert main(["trace", "--net", "four-neuron", "--l2", "0.01", "--json"]) == 0
    import json
    doc = json.loads(capsys.readouterr().out)
    four = ns.presets.four_neuron()
    assert doc["l2"] == 0.01
    assert doc["penalty"] == pytest.approx(0.005 * np.sum(four.weights[four.src != four.bias]
                                                          ** 2), rel=1e-12)
    assert main(["sweep", "--net", "moons", "--data", "xor", "--n-samples", "80", "--lr",
                 "0.05", "--seeds", "2", "--epochs", "1", "--l2", "0.01", "--no-figure",
                 "--out", str(tmp_path / "s")]) == 0
    import pandas as pd
    df = pd.read_csv(tmp_path / "s" / "sweep.csv")
    m = ns.sweep(lambda s: ns.presets.moons_net(seed=s), d.X_train, d.y_train, lrs=[0.05],
                 seeds=range(2), epochs=1, X_test=d.X_test, y_test=d.y_test, l2=0.01)
    np.testing.assert_allclose(df["train_loss"].to_numpy(), m["train_loss"].to_numpy(),
                               rtol=1e-12)
    for bad in ("-0.1", "nan", "x"):
        assert main(["train", "--net", "moons", "--data", "xor", "--l2", bad]) == 2
        assert "argument --l2" in capsys.readouterr().err


def _ref_minibatch(net, X, T, lr, l2, order, batch):
    """Naive minibatch SGD on the penalised error: w <- w - lr*(mean of the batch's data
    gradients + l2*w) over the non-bias weights (tests/reference.py's per-sample gradient)."""
    from reference import forward_backward, spec
    _, edges, _, _ = spec(net)
    net = net.copy()
    for a in range(0, len(order), batch):
        rows = order[a:a + batch]
        g = np.zeros(net.n_edges)
        for i in rows:
            _, _, _, grad = forward_backward(net, X[i], T[i])
            g += [grad[e] for e in edges]
        pen = np.array([l2 if s != net.bias_name else 0.0 for s, _ in edges]) * net.weights
        net.weights[:] = net.weights - lr * (g / len(rows) + pen)
    return net.weights.copy()


@pytest.mark.parametrize("loss", LOSSES)
def test_minibatch_penalty_matches_reference(loss, device):
    net = random_dag(11, n_in=2, n_hidden=5, n_out=2 if loss != "bce" else 1, loss=loss)
    rng = np.random.default_rng(5)
    X = rng.normal(0, 1, (12, 2))
    T = random_targets(net, 12, 5)
    ref = _ref_minibatch(net, X, T, 0.2, 0.05, np.arange(12), 5)     # batches 5, 5, 2
    h = ns.train(net, X, T, lr=0.2, epochs=1, shuffle=False, batch_size=5, l2=0.05,
                 device=device)
    np.testing.assert_allclose(h.weights[-1], ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_many_networks_on_cuda_equal_the_cpu_with_mixed_l2(batch_size):
    from neurosim import backends
    if not backends.usable("cuda"):
        pytest.skip("CUDA cannot be used here (no GPU, no simulator)")
    net0 = random_dag(6, n_in=2, n_hidden=4, n_out=1, loss="bce")
    rng = np.random.default_rng(2)
    X = rng.normal(0, 1, (9, 2))
    T = random_targets(net0, 9, 2)
    l2s = [0.0, 0.02, 0.2]
    W = np.stack([net0.weights * (1 + 0.2 * k) for k in range(3)])
    runs = {dev: ns.train_many(net0.copy(), X, T, lr=0.1, epochs=2,
                               weights=W, seed=[0, 1, 2], l2=l2s, batch_size=batch_size,
                               device=dev) for dev in ("cpu", "cuda")}
    np.testing.assert_allclose(runs["cuda"].weights, runs["cpu"].weights, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(runs["cuda"].penalty, runs["cpu"].penalty, rtol=1e-10)
    assert runs["cpu"].penalty[0, -1] == 0 and (runs["cpu"].penalty[1:, -1] > 0).all()


def test_step_and_update_take_the_penalty(device):
    net = random_dag(12, n_in=2, n_hidden=4, n_out=2, loss="quadratic")
    X = np.random.default_rng(8).normal(0, 1, (3, 2))
    T = random_targets(net, 3, 8)
    ref = sgd(net, X, T, 0.1, [0, 1, 2], l2=0.3)
    w0 = net.weights.copy()
    for i in range(3):
        ns.step(net, X[i], T[i], 0.1, device=device, l2=0.3)
    np.testing.assert_allclose(net.weights, ref, rtol=1e-12, atol=1e-14)
    net.weights[:] = w0
    ns.forward(net, X[0], device=device)
    ns.backward(net, T[0], device=device)
    ns.update(net, 0.1, device=device, l2=0.0)                     # l2 = 0: the plain step
    start = net.copy()
    start.weights[:] = w0
    np.testing.assert_allclose(net.weights, sgd(start, X, T, 0.1, [0]), rtol=1e-12,
                               atol=1e-14)
    for bad in (-1.0, float("nan"), "0.1"):
        w = net.weights.copy()
        with pytest.raises(ValueError, match="l2"):
            ns.step(net, X[0], T[0], 0.1, device=device, l2=bad)
        np.testing.assert_array_equal(net.weights, w)
