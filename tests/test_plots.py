"""The plots run headless (Agg) on every preset and draw what they claim to draw."""
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.patches import Circle

import neurosim as ns
from neurosim import plots


def _ax():
    return Figure(figsize=(6, 4)).add_subplot()


def _data_for(net, n=40, seed=0):
    """A small data set fitting ``net``'s inputs, outputs and loss."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, net.n_inputs))
    m = len(net.output_idx)
    if m == 1:
        y = (X[:, 0] > 0).astype(float)
    else:
        y = np.zeros((n, m))
        y[np.arange(n), (X[:, 0] > 0).astype(int) % m] = 1.0
    return X, y


PRESETS = {"four-neuron": ns.presets.four_neuron, "22432": ns.presets.net_22432,
           "moons": ns.presets.moons_net}


@pytest.fixture(scope="module")
def trained():
    """(net, History) per preset: a few epochs on a small data set with a test set."""
    out = {}
    for name, make in PRESETS.items():
        net = make()
        X, y = _data_for(net)
        h = ns.train(net, X[:30], y[:30], lr=0.05, epochs=4, X_test=X[30:], y_test=y[30:])
        out[name] = (net, h, X, y)
    return out


@pytest.mark.parametrize("name", PRESETS)
def test_weights_one_line_per_edge_labelled_by_name(trained, name):
    net, h, _, _ = trained[name]
    ax = plots.plot_weights(h, _ax(), highlight=3)
    assert isinstance(ax, Axes)
    curves = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert len(curves) == net.n_edges
    labels = [ln.get_label().split(" (moved")[0] for ln in curves]
    assert sorted(labels) == sorted(net.edge_names)
    # each curve is that edge's history, and the highlighted ones moved most
    moved = np.ptp(h.weights, axis=0)
    for ln, lab in zip(curves, labels):
        np.testing.assert_array_equal(ln.get_ydata(), h.weight(lab))
    hot = [lab for ln, lab in zip(curves, labels) if "(moved" in ln.get_label()]
    assert len(hot) == 3
    assert min(moved[net.edge(e)] for e in hot) >= np.sort(moved)[-3]
    assert ax.get_legend() is not None


def test_weights_of_the_moons_net_are_37_curves(trained):
    _, h, _, _ = trained["moons"]
    ax = plots.plot_weights(h, _ax())
    assert len(ax.get_lines()) == 37 + 1          # 37 weights and the zero line
    assert len(ax.get_legend().get_texts()) == 37


@pytest.mark.parametrize("name", PRESETS)
def test_boundary_has_a_contour_set_and_the_points(trained, name):
    net, _, X, y = trained[name]
    labels = y if y.ndim == 1 else y.argmax(1).astype(float)
    ax = plots.plot_boundary(net, X[:, :2], labels, _ax(), step=0.05)
    sets = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert sets, "no filled contour set"
    assert sets[0].filled
    n_points = sum(len(c.get_offsets()) for c in ax.collections
                   if not isinstance(c, ContourSet))
    assert n_points == len(X)


def test_boundary_regions_match_the_network():
    """The filled region under each point is the class the network predicts there."""
    d = ns.datasets.moons()
    net = ns.presets.moons_net()
    ns.train(net, d.X_train, d.y_train, lr=0.05, epochs=3)
    ax = plots.plot_boundary(net, d.X_test, d.y_test, _ax(), step=0.05, margin=0.2)
    lo = d.X_test.min(0) - 0.2
    assert ax.get_xlim()[0] == pytest.approx(lo[0])
    cs = [c for c in ax.collections if isinstance(c, ContourSet)][0]
    assert list(cs.levels) == [-0.5, 0.5, 1.5]
    in_class1 = cs.get_paths()[1].contains_points(d.X_test)
    pred = ns.predict_proba(net, d.X_test)[:, 0] >= 0.5
    assert 0 < pred.sum() < len(pred)
    assert np.mean(in_class1 == pred) > 0.97      # up to points within a grid step


def test_boundary_draws_the_threshold_line_only_when_crossed():
    d = ns.datasets.moons()
    net = ns.presets.moons_net()
    ns.train(net, d.X_train, d.y_train, lr=0.05, epochs=3)
    ax = plots.plot_boundary(net, d.X_test, d.y_test, _ax(), step=0.05)
    assert sum(isinstance(c, ContourSet) for c in ax.collections) == 2
    dead = ns.presets.moons_net()
    dead.weights[:] = 0.0                      # output 0.5 everywhere: no crossing of 0.6
    ax = plots.plot_boundary(dead, d.X_test, d.y_test, _ax(), step=0.05, threshold=0.6)
    assert sum(isinstance(c, ContourSet) for c in ax.collections) == 1


@pytest.mark.parametrize("name", PRESETS)
def test_accuracy_and_loss_curves(trained, name):
    _, h, _, _ = trained[name]
    ax = plots.plot_accuracy(h, _ax())
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_array_equal(lines["train"].get_ydata(), h.train_acc)
    np.testing.assert_array_equal(lines["test"].get_ydata(), h.test_acc)
    np.testing.assert_array_equal(lines["train"].get_xdata(), np.arange(h.epochs + 1))
    ax = plots.plot_loss(h, _ax())
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_array_equal(lines["train"].get_ydata(), h.train_loss)
    np.testing.assert_array_equal(lines["test"].get_ydata(), h.test_loss)
    assert ax.get_xlabel() == "epoch" and "loss" in ax.get_ylabel()


def test_accuracy_marks_the_first_epoch_at_100_percent():
    d = ns.datasets.moons()
    h = ns.train(ns.presets.moons_net(), d.X_train, d.y_train, lr=0.05, epochs=14,
                 X_test=d.X_test, y_test=d.y_test)
    first = h.first_epoch_at(1.0)
    ax = plots.plot_accuracy(h, _ax())
    marks = [ln for ln in ax.get_lines() if ln.get_label().startswith("test 100%")]
    if first is None:
        assert not marks
    else:
        assert len(marks) == 1 and marks[0].get_xdata()[0] == first


@pytest.mark.parametrize("name", PRESETS)
def test_network_drawing_writes_every_number(name):
    net = PRESETS[name]()
    X, y = _data_for(net, n=1)
    ax = plots.plot_network(net, _ax(), x=X[0], y=y[0])
    drawn = [j for j in range(net.n_neurons) if j != net.bias]
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == len(drawn)
    texts = [t.get_text() for t in ax.texts]
    for nm in (net.neuron_names[j] for j in drawn):
        assert nm in texts
    fmt = lambda v: f"{round(float(v), 2) + 0.0:+.2f}"
    for k, (e, w) in enumerate(zip(net.edge_names, net.weights)):
        if net.src[k] == net.bias:                 # biases are written by their neuron
            assert any(f"bias {fmt(w)}" in t for t in texts), e
        else:
            assert f"{e} {fmt(w)}" in texts, e
    for j in drawn:
        block = [t for t in texts if t.startswith(f"out {fmt(net.outs[j])}")]
        assert block, net.neuron_names[j]
    hidden = [j for j in drawn if net.role(net.neuron_names[j]) != "input"]
    assert sum("δ" in t for t in texts) == len(hidden)
    n_lines = int(np.sum(net.src != net.bias))
    assert len(ax.get_lines()) == n_lines


def test_network_drawing_shows_the_four_neuron_deltas():
    """Fig 14-6 numbers: Co = -0.01, Do = 0.28, A-delta = AC*C-delta + AD*D-delta."""
    net = ns.presets.four_neuron()
    x, t = ns.presets.FOUR_NEURON_SAMPLE
    ax = plots.plot_network(net, _ax(), x=x, y=t, digits=3)
    texts = " | ".join(t.get_text() for t in ax.texts)
    assert "out -0.010" in texts and "out +0.280" in texts
    assert f"δ {net.delta('A'):+.3f}" in texts
    assert net.delta("A") == pytest.approx(0.3 * -1.01 + 0.4 * 0.28)


def test_network_drawing_of_a_forward_pass_writes_no_stale_deltas():
    net = ns.presets.four_neuron()
    ns.forward(net, [1.0, 1.0])
    ns.backward(net, [1.0, 0.0])                   # deltas of the sample (1, 1)
    ax = plots.plot_network(net, _ax(), x=[0.5, -1.0])        # outputs of another one
    texts = [t.get_text() for t in ax.texts]
    assert not any("δ" in t for t in texts) and any("out" in t for t in texts)


def test_network_columns_follow_levels():
    net = ns.presets.net_22432()
    ax = plots.plot_network(net, _ax(), weights=False, outputs=False, deltas=False)
    xs = {}
    for p in (p for p in ax.patches if isinstance(p, Circle)):
        xs.setdefault(round(p.center[0], 6), 0)
        xs[round(p.center[0], 6)] += 1
    assert [xs[k] for k in sorted(xs)] == [2, 2, 4, 3, 2]
    assert not any("out" in t.get_text() or "δ" in t.get_text() for t in ax.texts)


def test_data_plot():
    d = ns.datasets.moons()
    ax = plots.plot_data(d.X_train, d.y_train, _ax(), X_test=d.X_test, y_test=d.y_test)
    sizes = sorted(len(c.get_offsets()) for c in ax.collections)
    assert sum(sizes) == len(d.X_train) + len(d.X_test)
    assert len(ax.collections) == 4
    assert ax.get_xlabel() and ax.get_ylabel()


def test_new_figure_when_no_axes_given(trained):
    import matplotlib.pyplot as plt
    _, h, _, _ = trained["moons"]
    ax = plots.plot_loss(h)
    try:
        assert isinstance(ax, Axes)
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize("call, match", [
    (lambda h, net: plots.plot_weights(h, ax="not axes"), "Axes"),
    (lambda h, net: plots.plot_weights(h, highlight=-1), "highlight"),
    (lambda h, net: plots.plot_weights("history"), "History"),
    (lambda h, net: plots.plot_boundary(net, np.zeros((3, 3)), [0, 1, 0]), "shape"),
    (lambda h, net: plots.plot_boundary(net, np.zeros((3, 2)), [0, 1]), "labels"),
    (lambda h, net: plots.plot_boundary(net, np.zeros((3, 2)), [0, 1, 0], step=0), "step"),
    (lambda h, net: plots.plot_boundary(net, np.zeros((3, 2)), [0, 1, 0], threshold=1),
     "threshold"),
    (lambda h, net: plots.plot_boundary(net, [[np.nan, 0]], [0]), "finite"),
    (lambda h, net: plots.plot_network(net, digits=9), "digits"),
    (lambda h, net: plots.plot_network(net, y=[1]), "give x"),
    (lambda h, net: plots.plot_network("net"), "Network"),
    (lambda h, net: plots.plot_data(np.zeros((2, 2)), [0, 1], X_test=np.zeros((1, 2))),
     "both"),
])
def test_bad_arguments_raise(trained, call, match):
    net, h, _, _ = trained["moons"]
    with pytest.raises(ValueError, match=match):
        call(h, net)


def test_network_drawing_checks_everything_before_the_passes():
    # x and y are run through the network, so a bad y, x or ax must be refused before
    # the forward pass changes the network's state
    net = ns.presets.moons_net()
    ns.forward(net, [0.3, -0.7])
    ns.backward(net, [1.0])
    state = [a.copy() for a in (net.z, net.outs, net.deltas, net.weights)]
    for kw, match in ((dict(x=[1.0, 1.0], y=[3.0]), "bce"),
                      (dict(x=[1.0, 1.0], ax="axes"), "Axes"),
                      (dict(x=[[1.0, 1.0], [0.0, 0.0]], y=[1.0]), "one sample"),
                      (dict(x=[1.0], y=[1.0]), "shape")):
        with pytest.raises(ValueError, match=match):
            plots.plot_network(net, **kw)
        for a, b in zip(state, (net.z, net.outs, net.deltas, net.weights)):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Network"):
        plots.plot_boundary("net", np.zeros((3, 2)), [0, 1, 0])


def test_plots_do_not_touch_global_state(trained):
    import matplotlib
    import matplotlib.pyplot as plt
    net, h, X, y = trained["moons"]
    before = dict(matplotlib.rcParams)
    n_figs = len(plt.get_fignums())
    for fn in (lambda ax: plots.plot_weights(h, ax), lambda ax: plots.plot_accuracy(h, ax),
               lambda ax: plots.plot_network(net, ax),
               lambda ax: plots.plot_boundary(net, X, y, ax, step=0.1)):
        fn(_ax())
    assert len(plt.get_fignums()) == n_figs
    assert dict(matplotlib.rcParams) == before


def test_matplotlib_is_imported_lazily():
    code = ("import sys, neurosim, neurosim.plots, neurosim.demo; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_all_drawing_lives_in_plots():
    from neurosim import curves, sweeps
    assert not hasattr(sweeps, "plot_sweep") and not hasattr(curves, "plot_error_curve")
    net, x, t = curves.chapter_example()
    ax = plots.plot_error_curve(curves.error_curve(net, x, t, "P"), _ax(), step=0.5)
    assert isinstance(ax, Axes) and ax.get_lines()


@pytest.mark.parametrize("name", PRESETS)
def test_error_curve_and_sweep_plots_on_every_preset(name):
    net = PRESETS[name]()
    X, y = _data_for(net, n=12)
    out = net.output_names[0]
    curve = ns.error_curve(net, X[0], y[0], out)
    ax = plots.plot_error_curve(curve, _ax(), step=0.1)
    assert isinstance(ax, Axes)
    err = [ln for ln in ax.get_lines() if ln.get_label() == "error"]
    assert len(err) == 1                 # the finite part of the curve (bce: 0 < o < 1)
    ok = np.isfinite(curve.errors)
    np.testing.assert_array_equal(err[0].get_xdata(), curve.values[ok])
    df = ns.sweep(name, X[:8], y[:8], lrs=[0.01, 0.05], seeds=[0, 1], epochs=2,
                  X_test=X[8:], y_test=y[8:])
    fig = Figure(figsize=(8, 3))
    axes = fig.subplots(1, 2)
    plots.plot_sweep(df, ax=axes)
    assert len(axes[0].get_lines()) == 2 and len(axes[1].get_lines()) == 2
