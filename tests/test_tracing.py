"""Tracing: explanations with the chapter's numbers, perturbations, gradcheck, recording,
error curves. Numbers are checked against tests/reference.py and finite differences."""
import numpy as np
import pytest

import neurosim as ns
from neurosim.curves import chapter_example
from neurosim.plots import plot_error_curve
from neurosim.tracing import fmt
from reference import LOSSES, forward_backward, random_dag, random_targets


# -- the four-neuron network by hand (Fig 14-5) -------------------------------------------
def four():
    return ns.trace(ns.presets.four_neuron(), *ns.presets.FOUR_NEURON_SAMPLE, lr=0.1)


def test_four_neuron_explanation_has_the_hand_numbers():
    net = ns.presets.four_neuron()
    w0 = net.weights.copy()
    t = ns.trace(net, *ns.presets.FOUR_NEURON_SAMPLE, lr=0.1)
    text = t.explain()
    expected = [
        # Ao = XA*X + YA*Y = 0.2*1 + 0.3*1 = 0.5 ; Bo = 0.5*1 + 0.3*1 = 0.8
        "Ao = XA·Xo + YA·Yo = 0.20·1.00 + 0.30·1.00 = 0.50",
        "Bo = XB·Xo + YB·Yo = 0.50·1.00 + 0.30·1.00 = 0.80",
        # Co = 0.3*0.5 + (-0.2)*0.8 = 0.15 - 0.16 = -0.01 ; Do = 0.4*0.5 + 0.1*0.8 = 0.28
        "Co = AC·Ao + BC·Bo = 0.30·0.50 + (−0.20)·0.80 = −0.01",
        "Do = AD·Ao + BD·Bo = 0.40·0.50 + 0.10·0.80 = 0.28",
        # Cd = Co - t1 = -0.01 - 1 = -1.01 ; Dd = 0.28 - 0 = 0.28 (output minus label)
        "Cδ = Co − tC = −0.01 − 1.00 = −1.01",
        "Dδ = Do − tD = 0.28 − 0.00 = 0.28",
        # Ad = 0.3*(-1.01) + 0.4*0.28 = -0.303 + 0.112 = -0.191
        "Aδ = AC·Cδ + AD·Dδ = 0.30·(−1.01) + 0.40·0.28 = −0.191",
        # Bd = (-0.2)*(-1.01) + 0.1*0.28 = 0.202 + 0.028 = 0.23
        "Bδ = BC·Cδ + BD·Dδ = (−0.20)·(−1.01) + 0.10·0.28 = 0.23",
        # AC <- 0.3 - 0.1*0.5*(-1.01) = 0.3505 ; BD <- 0.1 - 0.1*0.8*0.28 = 0.0776
        "AC ← AC − η·Ao·Cδ = 0.30 − 0.10·0.50·(−1.01) = 0.3505",
        "BD ← BD − η·Bo·Dδ = 0.10 − 0.10·0.80·0.28 = 0.0776",
        # XA <- 0.2 - 0.1*1*(-0.191) = 0.2191
        "XA ← XA − η·Xo·Aδ = 0.20 − 0.10·1.00·(−0.191) = 0.2191",
    ]
    for line in expected:
        assert line in text, line
    assert "Fig 14-12" in t.explain("C") and "label − output" in t.explain("C")
    assert "Fig 14-12" not in t.explain("A")
    # E = 1/2 (1.01^2 + 0.28^2) = 0.54925
    assert t.error == pytest.approx(0.54925)
    ascii_text = t.explain("A", ascii=True)
    assert "Ad = AC*Cd + AD*Dd = 0.30*(-1.01) + 0.40*0.28 = -0.191" in ascii_text
    assert all(ord(ch) < 128 for ch in ascii_text)
    # the traced network is untouched
    np.testing.assert_array_equal(net.weights, w0)
    assert not np.any(net.deltas)


def test_four_neuron_structured_data():
    t = four()
    a = t.neuron("A")
    assert (a.role, a.activation, a.output, a.delta) == ("hidden", "identity",
                                                          pytest.approx(0.5),
                                                          pytest.approx(-0.191))
    assert [(b.edge, b.neuron) for b in a.backward] == [("AC", "C"), ("AD", "D")]
    assert [b.product for b in a.backward] == pytest.approx([-0.303, 0.112])
    assert [u.new_weight for u in a.updates] == pytest.approx([0.2191, 0.3191])
    c = t.neuron("C")
    assert c.target == 1.0 and c.backward == () and c.delta == pytest.approx(-1.01)
    assert [f.product for f in c.forward] == pytest.approx([0.15, -0.16])
    d = c.as_dict()
    assert d["forward"][1]["edge"] == "BC" and d["forward"][1]["weight"] == -0.2
    assert ns.trace.__module__ == "neurosim.tracing"


def test_fmt():
    assert [fmt(v) for v in (0.3, -0.2, -0.01, 0.3505, 1.0, 0.0, -0.0)] == \
        ["0.30", "−0.20", "−0.01", "0.3505", "1.00", "0.00", "0.00"]
    assert fmt(-1.5e-7, ascii=True) == "-1.5e-07"
    assert fmt(0.123456789, digits=6) == "0.123457"


# -- any DAG, every activation and loss: against the reference -----------------------------
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", [0, 1])
def test_trace_matches_reference(loss, seed):
    net = random_dag(seed, n_in=3, n_hidden=6, n_out=2, loss=loss)
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, 3)
    y = random_targets(net, 1, seed)[0]
    lr = 0.07
    t = ns.trace(net, x, y, lr=lr)
    E, o, d, g = forward_backward(net, x, y)
    assert t.error == pytest.approx(E, rel=1e-12)
    w = dict(zip(net.edge_names, net.weights))
    for nm in net.neuron_names:
        tr = t.neuron(nm)
        assert tr.output == pytest.approx(o[nm], rel=1e-12, abs=1e-14)
        assert tr.delta == pytest.approx(d[nm], rel=1e-9, abs=1e-12)
        if tr.forward:
            assert sum(f.product for f in tr.forward) == pytest.approx(tr.z, abs=1e-12)
        if tr.backward:
            assert sum(b.product for b in tr.backward) == pytest.approx(tr.delta, abs=1e-12)
            for b in tr.backward:
                assert b.product == pytest.approx(b.weight * b.slope * b.value, abs=1e-12)
        for u in tr.updates:
            s, dd = (u.edge.split("->") if "->" in u.edge else (u.edge[0], u.edge[1]))
            assert u.gradient == pytest.approx(g[(s, dd)], rel=1e-9, abs=1e-12)
            assert u.new_weight == pytest.approx(w[u.edge] - lr * g[(s, dd)], abs=1e-12)
        text = t.explain(nm)
        assert f"neuron {nm} " in text
        assert fmt(tr.delta) in text                     # the delta's value is printed
        if tr.role in ("hidden", "output") and tr.activation != "identity":
            assert f"{tr.activation}(z[{nm}]) = " in text and "′(z[" in text


def test_explain_with_activation_and_bias():
    net = ns.Network.from_edges([("X", "A", 0.5), ("b", "A", 0.1), ("A", "C", -0.4),
                                 ("b", "C", 0.2)], inputs=["X"], outputs=["C"],
                                activation="sigmoid", output_activation="tanh")
    t = ns.trace(net, [2.0], [0.3], lr=0.5)
    # zA = 0.5*2 + 0.1*1 = 1.1 ; Ao = sigmoid(1.1) = 0.7503
    text = t.explain("A")
    assert "zA = XA·Xo + bA·1 = 0.50·2.00 + 0.10·1.00 = 1.10" in text
    assert "Ao = sigmoid(zA) = sigmoid(1.10) = 0.7503" in text
    # A's delta goes through C's tanh: Ad = AC * tanh'(zC) * Cd
    assert "Aδ = AC·tanh′(zC)·Cδ = (−0.40)·" in text
    assert "XA ← XA − η·Xo·sigmoid′(zA)·Aδ = 0.50 − 0.50·2.00·" in text
    assert "bA ← bA − η·1·sigmoid′(zA)·Aδ" in text


def test_bad_arguments():
    net = ns.presets.four_neuron()
    x, y = ns.presets.FOUR_NEURON_SAMPLE
    for bad in (dict(x=[1.0]), dict(x=[np.nan, 1.0]), dict(y=[1.0, 2.0, 3.0]),
                dict(lr=0.0), dict(x=[[1, 1], [2, 2]])):
        kw = dict(x=x, y=y)
        kw.update(bad)
        with pytest.raises(ValueError):
            ns.trace(net, **kw)
    with pytest.raises(ValueError):
        ns.trace("four", x, y)
    t = ns.trace(net, x, y)
    for call in (lambda: t.explain("Z"), lambda: t.neuron("Z"), lambda: t.perturb("Z", 0.1),
                 lambda: t.perturb("A", np.inf), lambda: t.perturb("A", "x"),
                 lambda: t.explain("A", digits=0)):
        with pytest.raises(ValueError):
            call()


# -- the perturbation experiment (Figs 14-3, 14-4, 14-7, 14-16, 14-17) --------------------
def test_perturb_four_neuron_by_hand():
    t = four()
    p = t.perturb("A", 0.01)
    # predicted Em = m * Ad = 0.01 * (-0.191) = -0.00191
    assert p.predicted == pytest.approx(-0.00191)
    # chain: Cm = 0.01*0.3 = 0.003 -> 0.003*(-1.01); Dm = 0.01*0.4 = 0.004 -> 0.004*0.28
    assert [c["predicted_change"] for c in p.chain] == pytest.approx([0.003, 0.004])
    assert [c["measured_change"] for c in p.chain] == pytest.approx([0.003, 0.004])
    assert sum(c["error_change"] for c in p.chain) == pytest.approx(p.predicted)
    # identity net, quadratic cost: the gap is exactly 1/2 (Cm^2 + Dm^2) = 1.25e-5
    assert p.gap == pytest.approx(0.5 * (0.003 ** 2 + 0.004 ** 2), rel=1e-6)
    s = str(p)
    assert "predicted Em = m × Aδ = 0.01 × (−0.191) = −0.00191" in s
    assert "Cm = Am·AC = 0.01·0.30 = 0.003" in s and "gap" in s
    # the weight variant: BD by m: Em = m * Bo * Dd = m * 0.8 * 0.28; the gap is 1/2 (0.8 m)^2
    q = t.perturb("BD", 0.5)
    assert q.kind == "weight" and q.slope == pytest.approx(0.224)
    assert q.predicted == pytest.approx(0.112)
    assert q.gap == pytest.approx(0.5 * 0.4 ** 2)
    assert q.rel_gap == pytest.approx(0.08 / 0.112)
    assert "71.4% of the prediction" in str(q)


@pytest.mark.parametrize("seed", range(4))
def test_perturb_gap_shrinks_like_m(seed):
    # smooth activations only (a ReLU kink would break the O(m^2) argument)
    rng = np.random.default_rng(seed)
    net = random_dag(seed, n_in=2, n_hidden=6, n_out=2, loss=LOSSES[seed % 3],
                     activation=["tanh", "sigmoid"][seed % 2])
    x = rng.normal(0, 1, 2)
    y = random_targets(net, 1, seed)[0]
    t = ns.trace(net, x, y)
    hidden = [nm for nm in net.neuron_names if net.role(nm) == "hidden"]
    targets = hidden[:3] + net.edge_names[:3]
    for what in targets:
        if abs(t.perturb(what, 1e-3).predicted) < 1e-9:
            continue
        r3 = t.perturb(what, 1e-3).rel_gap
        r4 = t.perturb(what, 1e-4).rel_gap
        assert r4 < r3 or r3 < 1e-9
        if r3 > 1e-8:                                  # above rounding noise
            assert 5 < r3 / r4 < 20, (what, r3, r4)    # relative gap ~ m
        big = t.perturb(what, 2.0)                     # large m: reported, visibly off
        assert np.isfinite(big.measured) and big.rel_gap >= 0
        assert big.error_after - big.error_before == pytest.approx(big.measured)


def test_perturb_a_sigmoid_output_under_bce():
    t = ns.trace(ns.presets.moons_net(seed=2), [0.4, 0.1], 1)
    o = t.neuron("P").output
    p = t.perturb("P", 1e-3)
    # E = -log(o) for target 1; the output is set to o + m (z follows as its logit)
    assert p.measured == pytest.approx(-np.log(o + 1e-3) + np.log(o), rel=1e-6)
    assert p.predicted == pytest.approx(1e-3 * (o - 1) / (o * (1 - o)))
    assert p.rel_gap < 2e-3


def test_perturb_measured_matches_a_real_forward_pass():
    net = random_dag(3, n_in=2, n_hidden=4, n_out=1, loss="quadratic", activation="tanh")
    x, y = np.array([0.4, -0.7]), np.array([0.5])
    t = ns.trace(net, x, y)
    e = net.edge_names[2]
    p = t.perturb(e, 0.3)
    c = net.copy()
    c.weights[c.edge(e)] += 0.3
    E1, _, _, _ = forward_backward(c, x, y)
    assert p.error_after == pytest.approx(E1, rel=1e-12)


# -- gradcheck ----------------------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES)
def test_gradcheck_passes_on_backprop(loss):
    net = random_dag(5, n_in=3, n_hidden=5, n_out=2, loss=loss, activation="tanh")
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (6, 3))
    T = random_targets(net, 6, 1)
    w0 = net.weights.copy()
    r = ns.gradcheck(net, X, T)
    assert r.ok and r.bad == [] and "OK" in str(r)
    assert r.abs_err.max() < 1e-7
    np.testing.assert_array_equal(net.weights, w0)
    ref = np.mean([list(forward_backward(net, X[i], T[i])[3].values()) for i in range(6)], 0)
    np.testing.assert_allclose(r.analytic, ref, rtol=1e-10, atol=1e-13)


def test_gradcheck_fails_on_a_wrong_gradient():
    net = random_dag(5, n_in=3, n_hidden=5, n_out=2, loss="quadratic", activation="tanh")
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (6, 3))
    T = random_targets(net, 6, 1)
    good = ns.gradcheck(net, X, T).analytic
    k = int(np.argmax(np.abs(good)))

    def off_by_one_percent(n, X, T):
        g = ns.gradcheck(n, X, T).analytic.copy()
        g[k] *= 1.01
        return g

    r = ns.gradcheck(net, X, T, grad_fn=off_by_one_percent)
    assert not r.ok and r.bad == [net.edge_names[k]]
    assert r.worst(1)[0][0] == net.edge_names[k]
    assert "FAILED for 1 weight(s)" in str(r) and net.edge_names[k] in str(r)

    def fig_14_12_sign(n, X, T):
        # output delta = label - output: every gradient flips sign
        return -ns.gradcheck(n, X, T).analytic

    r = ns.gradcheck(net, X, T, grad_fn=fig_14_12_sign)
    assert not r.ok and len(r.bad) >= net.n_edges // 2
    with pytest.raises(ValueError):
        ns.gradcheck(net, X, T, eps=0)
    with pytest.raises(ValueError):
        ns.gradcheck(net, X, T, grad_fn=lambda n, X, T: np.zeros(2))


# -- recording during training --------------------------------------------------------------
@pytest.mark.parametrize("bad", [["Z"], [], [1], ["A", "A"], 5, "nobody"])
def test_bad_record_raises_before_any_change(bad):
    net = ns.presets.moons_net()
    w0 = net.weights.copy()
    X = np.random.default_rng(0).normal(0, 1, (8, 2))
    with pytest.raises(ValueError):
        ns.train(net, X, np.arange(8) % 2, epochs=2, record=bad)
    np.testing.assert_array_equal(net.weights, w0)


@pytest.mark.parametrize("loss", ["quadratic", "bce"])
def test_records_match_single_sample_traces(loss):
    net = random_dag(2, n_in=2, n_hidden=4, n_out=1, loss=loss, activation="tanh")
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (9, 2))
    T = random_targets(net, 9, 2)
    replay = net.copy()
    h = ns.train(net, X, T, lr=0.1, epochs=3, seed=4, record="all")
    rec = h.records
    assert set(rec) == set(net.neuron_names)
    for nm in rec:
        assert rec[nm]["output"].shape == rec[nm]["delta"].shape == (3, 9)
    assert rec.sample.shape == rec.error.shape == (3, 9)
    for ep in range(3):
        assert sorted(rec.sample[ep]) == list(range(9))        # a shuffle of the samples
        for s, i in enumerate(rec.sample[ep]):
            t = ns.trace(replay, X[i], T[i])
            assert rec.error[ep, s] == pytest.approx(t.error, rel=1e-12, abs=1e-15)
            for nm in rec:
                assert rec[nm]["output"][ep, s] == pytest.approx(
                    t.neuron(nm).output, rel=1e-12, abs=1e-15)
                assert rec[nm]["delta"][ep, s] == pytest.approx(
                    t.neuron(nm).delta, rel=1e-10, abs=1e-14)
            ns.step(replay, X[i], T[i], 0.1)
        np.testing.assert_allclose(replay.weights, h.weights[ep + 1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("batch_size,skip", [(1, False), (4, False), (1, True)])
def test_recording_trains_exactly_like_the_fast_kernel(batch_size, skip):
    d = ns.datasets.moons(n_samples=120)
    a, b = ns.presets.moons_net(), ns.presets.moons_net()
    ha = ns.train(a, d.X_train, d.y_train, epochs=3, batch_size=batch_size,
                  skip_zero_error=skip, record=["A", "P"])
    hb = ns.train(b, d.X_train, d.y_train, epochs=3, batch_size=batch_size,
                  skip_zero_error=skip)
    np.testing.assert_allclose(ha.weights, hb.weights, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(ha.train_loss, hb.train_loss)
    assert ha.records["P"]["output"].shape == (3, len(d.X_train))
    assert hb.records == {}
    # the recorded errors are the errors of the samples used, before each step's update:
    # the first one is that sample's error at the initial weights
    assert np.all(ha.records.error >= 0)
    i = ha.records.sample[0, 0]
    assert ha.records.error[0, 0] == pytest.approx(
        ns.trace(ns.presets.moons_net(), d.X_train[i], d.y_train[i]).error, rel=1e-12)


def test_records_are_trimmed_when_training_diverges():
    net = ns.Network.layered([1, 3, 1], hidden="identity", scale=1.0, seed=0)
    X = np.linspace(-3, 3, 20)[:, None]
    with pytest.warns(RuntimeWarning):
        h = ns.train(net, X, 10 * X[:, 0], lr=5.0, epochs=50, record=["y0"])
    assert h.records["y0"]["delta"].shape == (h.epochs, 20) and h.epochs < 50


# -- error curves (Figs 14-9, 14-10, 14-11) -------------------------------------------------
def test_chapter_error_curve():
    net, x, t = chapter_example()
    c = ns.error_curve(net, x, t, "P", values=np.linspace(-2.5, 2.5, 101))
    # E = (P - 1)^2: at P = -1 the error is 4 and the slope -4
    np.testing.assert_allclose(c.errors, (c.values - 1) ** 2, atol=1e-12)
    assert (c.at, c.error, c.slope) == (-1.0, pytest.approx(4.0), pytest.approx(-4.0))
    assert c.predicted(0.5) - c.error == pytest.approx(-2.0)       # 0.5 x -4
    assert c.predicted(0.01) - c.error == pytest.approx(-0.04)
    assert c.predicted(-0.1) - c.error == pytest.approx(0.4)       # lowering P to -1.1
    assert c.predicted(1.0) == pytest.approx(0.0)                  # "we expect 0 ..."
    assert c.actual(1.0) == pytest.approx(1.0)                     # "... but it is about 1"
    assert c.actual(0.5) == pytest.approx(2.25)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_error_curve_tangent_is_the_derivative(seed):
    net = random_dag(seed, n_in=2, n_hidden=5, n_out=2, loss=LOSSES[seed],
                     activation="sigmoid")
    x = np.array([0.3, -0.6])
    y = random_targets(net, 1, seed)[0]
    E, o, d, g = forward_backward(net, x, y)
    hidden = [nm for nm in net.neuron_names if net.role(nm) == "hidden"][0]
    for what, slope in ((hidden, d[hidden]),
                        (net.edge_names[1], g[tuple(net.edges()[1][:2])])):
        h = 1e-5
        c = ns.error_curve(net, x, y, what, num=5, span=2 * h)    # at-2h, at-h, at, ...
        assert c.slope == pytest.approx(slope, rel=1e-9, abs=1e-12)
        assert c.errors[2] == pytest.approx(E, rel=1e-12)
        assert (c.errors[3] - c.errors[1]) / (2 * h) == pytest.approx(slope, rel=1e-5,
                                                                      abs=1e-8)
    with pytest.raises(ValueError):
        ns.error_curve(net, x, y, "nope")
    with pytest.raises(ValueError):
        ns.error_curve(net, x, y, hidden, values=[np.nan])


def test_plot_error_curve(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    net, x, t = chapter_example()
    c = ns.error_curve(net, x, t, "P", values=np.linspace(-2.5, 2.5, 101))
    ax = plot_error_curve(c, step=[0.5, 1.0])
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "tangent, slope δ = -4" in labels
    assert "step +1: predicted E = 0 (change -4)" in labels
    assert "step +1: actual E = 1 (change -3)" in labels
    tangent = ax.get_lines()[labels.index("tangent, slope δ = -4")]
    xs, ys = tangent.get_data()
    assert (ys[1] - ys[0]) / (xs[1] - xs[0]) == pytest.approx(-4.0)
    out = tmp_path / "curve.png"
    ax.figure.savefig(out)
    assert out.stat().st_size > 10_000
    with pytest.raises(ValueError):
        plot_error_curve(c, step="big")
    with pytest.raises(ValueError, match="Axes"):
        plot_error_curve(c, ax="axes")
    import matplotlib.pyplot as plt
    plt.close("all")


def test_lazy_names():
    assert ns.Trace is ns.tracing.Trace and ns.error_curve is ns.curves.error_curve


def test_gradcheck_names_relu_kinks():
    # untrained moons net, zero biases: a second-layer ReLU whose inputs are all 0 has
    # z exactly 0, where the finite difference is half the one-sided slopes
    d = ns.datasets.moons(n_samples=200)
    r = ns.gradcheck(ns.presets.moons_net(), d.X_train[:20], d.y_train[:20])
    assert not r.ok and r.kinks and set(r.kinks) <= set("ABCDEFGH")
    assert all(name[1] in r.kinks for name in r.bad)
    assert "kink" in str(r)
    net = random_dag(5, n_in=3, n_hidden=5, n_out=2, activation="tanh")
    assert ns.gradcheck(net, np.ones((2, 3)), np.zeros((2, 2))).kinks == []
