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
    # the legend names the 6 highlighted edges with how far each moved and gathers the
    # 31 grey ones in one entry, instead of 31 indistinguishable grey entries
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    hot = [ln.get_label() for ln in ax.get_lines() if "(moved" in ln.get_label()]
    assert texts == hot + ["the other 31 edges"] and len(hot) == 6
    moved = np.ptp(h.weights, axis=0)
    for t in hot:
        e = t.split(" (moved")[0]
        assert t == f"{e} (moved {moved[h.edge_names.index(e)]:.2g})"
    assert "max − min" in ax.get_legend().get_title().get_text()
    colours = [ln.get_color() for ln in ax.get_legend().get_lines()]
    assert len(set(colours[:6])) == 6 and colours[6] == "0.65"


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


# -- network drawings: legends, crowded nets, skip connections -------------------------
SKIP_EDGES = ["XA", "YA", "XC", "AC", "bA", "bC", "YB", "BC", "AB"]


def _skip_net():
    return ns.Network.from_edges(SKIP_EDGES, inputs=["X", "Y"], outputs=["C"],
                                 activation="tanh", loss="quadratic", seed=0)


def _centers(ax):
    return {t.get_text(): np.array(t.get_position()) for t in ax.texts
            if t.get_text() and "\n" not in t.get_text() and " " not in t.get_text()}


def _edge_line(ax, net, a, b):
    """The Line2D drawn for edge a->b: it starts at a's centre and ends at b's."""
    pa, pb = _centers(ax)[a], _centers(ax)[b]
    for ln in ax.get_lines():
        xy = np.column_stack([ln.get_xdata(), ln.get_ydata()])
        if np.allclose(xy[0], pa) and np.allclose(xy[-1], pb):
            return xy
    raise AssertionError(f"no line {a}->{b}")


@pytest.mark.parametrize("make", [*PRESETS.values(), _skip_net])
def test_every_network_drawing_has_a_legend_for_colours_and_widths(make):
    net = make()
    ax = plots.plot_network(net, _ax())
    leg = ax.get_legend()
    assert leg is not None
    title = leg.get_title().get_text()
    assert "blue w > 0" in title and "red w < 0" in title and "width" in title
    texts = [t.get_text() for t in leg.get_texts()]
    wmax = np.abs(net.weights).max()
    assert texts[:4] == [f"w = {v:+.2g}" for v in (wmax, wmax / 2, -wmax / 2, -wmax)]
    assert {"input neuron", "hidden neuron", "output neuron"} <= set(texts)
    # the legend's samples are the drawing's: colours by sign, widths by |w|
    lines = leg.get_lines()
    assert [ln.get_color() for ln in lines[:4]] == [plots.WEIGHT_COLORS[0]] * 2 + \
        [plots.WEIGHT_COLORS[1]] * 2
    assert lines[0].get_linewidth() > lines[1].get_linewidth()
    drawn = {ln.get_color() for ln in ax.get_lines()}
    assert drawn <= set(plots.WEIGHT_COLORS)
    assert plots.plot_network(net, _ax(), legend=False).get_legend() is None


def test_skip_connections_are_routed_around_the_neurons_between():
    net = _skip_net()
    ax = plots.plot_network(net, _ax())
    pos = _centers(ax)
    # longest path: A, B, C in three columns after the inputs
    xs = sorted({round(pos[n][0], 6) for n in "XYABC"})
    assert [round(pos[n][0], 6) for n in "ABC"] == xs[1:]
    assert pos["X"][0] == pos["Y"][0] == xs[0]
    assert ax.get_title() == "DAG of 5 neurons (2 in, 2 hidden, 1 out), 9 edges"
    assert "2-1-1-1" not in ax.get_title()
    # AC and XC keep away from B (and XC from A): curves, not the straight line through
    rad = [p.radius for p in ax.patches if isinstance(p, Circle)][0]
    for a, b, avoid in (("A", "C", "B"), ("X", "C", "AB"), ("Y", "B", "A")):
        xy = _edge_line(ax, net, a, b)
        for n in avoid:
            assert np.hypot(*(xy - pos[n]).T).min() > rad + 0.1, (a, b, n)
    # the straight neighbours stay straight
    for a, b in (("A", "B"), ("B", "C"), ("X", "A")):
        xy = _edge_line(ax, net, a, b)
        d, v = xy[-1] - xy[0], xy - xy[0]
        assert np.allclose(d[0] * v[:, 1] - d[1] * v[:, 0], 0)
    # each weight is written on its own edge: the label lies on that edge's line
    labels = {t.get_text().split()[0]: np.array(t.get_position()) for t in ax.texts
              if t.get_text().split()[0] in SKIP_EDGES}
    for e in ("AC", "XC", "BC", "AB", "YB"):
        xy = _edge_line(ax, net, e[0], e[1])
        assert np.hypot(*(xy - labels[e]).T).min() < 1e-9, e
    assert np.hypot(*(_edge_line(ax, net, "B", "C") - labels["AC"]).T).min() > 0.3
    # the curves stay inside the drawing
    lo, hi = ax.get_ylim()
    for ln in ax.get_lines():
        assert lo < min(ln.get_ydata()) and max(ln.get_ydata()) < hi


def test_layered_nets_are_titled_by_their_layers():
    assert plots.plot_network(ns.presets.moons_net(), _ax()).get_title() == \
        "2-4-4-1 network, 37 edges"
    assert plots.plot_network(ns.presets.four_neuron(), _ax()).get_title() == \
        "2-2-2 network, 8 edges"


def _label_boxes(ax, net):
    """Display boxes (with their white frames) of the weight labels on the edges."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    r = FigureCanvasAgg(ax.figure).get_renderer()
    ax.figure.draw(r)
    names = set(net.edge_names)
    return [t.get_bbox_patch().get_window_extent(r) for t in ax.texts
            if t.get_text().split()[0] in names]


def test_a_2_8_8_1_drawing_has_no_piled_up_labels():
    net = ns.Network.layered([2, 8, 8, 1], hidden="relu", output="sigmoid", loss="bce",
                             seed=0)
    fig = Figure(figsize=(8, 10), layout="constrained")
    ax = plots.plot_network(net, fig.add_subplot())
    edge_texts = [t.get_text() for t in ax.texts if "->" in t.get_text()]
    # the 16 input and 8 output weights are written; the 64 between the hidden layers
    # would overlap, so they are colour and width only, and the legend says so
    assert len(edge_texts) == 16 + 8
    assert not any(t.startswith("h1_") for t in edge_texts)
    assert "64 weights by colour and width only" in ax.get_legend().get_title().get_text()
    boxes = _label_boxes(ax, net)
    assert len(boxes) == 24
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), "two weight labels overlap"
    # every edge is still drawn, and weights=True writes them all
    assert len(ax.get_lines()) == 16 + 64 + 8
    ax = plots.plot_network(net, _ax(), weights=True)
    assert sum("->" in t.get_text() for t in ax.texts) == 88
    ax = plots.plot_network(net, _ax(), weights=False)
    assert not any("->" in t.get_text() or "bias" in t.get_text() for t in ax.texts)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_drawings_write_every_weight_without_overlap(name):
    net = PRESETS[name]()
    fig = Figure(figsize=(10, 6), layout="constrained")
    ax = plots.plot_network(net, fig.add_subplot())
    boxes = _label_boxes(ax, net)
    assert len(boxes) == int(np.sum(net.src != net.bias))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


def test_network_drawing_refuses_a_bad_weights_option():
    with pytest.raises(ValueError, match="weights must be"):
        plots.plot_network(ns.presets.four_neuron(), _ax(), weights="some")


def test_save_figure_writes_whole_files_or_none(tmp_path):
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1])
    for ext, magic in ((".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")):
        p = plots.save_figure(fig, tmp_path / f"f{ext}", dpi=40)
        assert p.read_bytes().startswith(magic)
    with pytest.raises(ValueError, match="extension"):
        plots.save_figure(fig, tmp_path / "f.gif")
    with pytest.raises(ValueError, match="extension"):
        plots.draw_network(ns.presets.four_neuron(), tmp_path / "n.txt")

    class Broken(Figure):
        def savefig(self, fname, **kw):
            open(fname, "wb").write(b"half")
            raise RuntimeError("disk full")
    (tmp_path / "keep.png").write_bytes(b"old")
    with pytest.raises(RuntimeError):
        plots.save_figure(Broken(), tmp_path / "keep.png")
    assert (tmp_path / "keep.png").read_bytes() == b"old"      # the old file survives
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png", "f.svg",
                                                          "keep.png"]


# -- animation -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def short_run():
    d = ns.datasets.moons(n_samples=200)
    net = ns.presets.moons_net()
    h = ns.train(net, d.X_train, d.y_train, lr=0.05, epochs=5, X_test=d.X_test,
                 y_test=d.y_test)
    return net, h, d


def test_animation_is_a_gif_with_one_frame_per_epoch(short_run, tmp_path):
    from PIL import Image
    net, h, d = short_run
    before = net.weights.copy()
    p = plots.animate_training(net, h, d.X_test, d.y_test, tmp_path / "t.gif", dpi=30,
                               fps=5, hold=1.0)
    assert p.read_bytes()[:6] == b"GIF89a"
    np.testing.assert_array_equal(net.weights, before)        # the net is not changed
    with Image.open(p) as im:
        assert im.n_frames == h.epochs + 1 and im.info["loop"] == 0
        frames, durations = [], []
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB"), dtype=int))
            durations.append(im.info["duration"])
    assert durations[:-1] == [200] * h.epochs and durations[-1] == 200 + 1000
    # epoch by epoch the picture changes (the boundary, the veil, the weights)
    assert all(np.abs(a - b).sum() > 0 for a, b in zip(frames, frames[1:]))
    assert not [q for q in tmp_path.iterdir() if q.name != "t.gif"]


def test_animation_frames_are_spread_over_a_long_run():
    assert list(plots._frames(5, 60)) == [0, 1, 2, 3, 4]
    f = plots._frames(202, 40)
    assert len(f) == 40 and f[0] == 0 and f[-1] == 201 and np.all(np.diff(f) > 0)


@pytest.mark.parametrize("kw, match", [
    (dict(path="t.avi"), "extension"),
    (dict(max_frames=1), "max_frames"),
    (dict(fps=0), "fps"),
    (dict(path="no/such/t.gif"), "does not exist"),
])
def test_animation_refuses_bad_arguments_before_drawing(short_run, tmp_path, kw, match):
    net, h, d = short_run
    kw = {"path": "t.gif", **kw}
    kw["path"] = tmp_path / kw["path"]
    with pytest.raises(ValueError, match=match):
        plots.animate_training(net, h, d.X_test, d.y_test, **kw)
    assert list(tmp_path.iterdir()) == []


def test_animation_needs_the_history_of_that_network(short_run, tmp_path):
    net, h, d = short_run
    with pytest.raises(ValueError, match="edges"):
        plots.animate_training(ns.presets.four_neuron(), h, d.X_test, d.y_test,
                               tmp_path / "t.gif")
    with pytest.raises(ValueError, match="History"):
        plots.animate_training(net, "h", d.X_test, d.y_test, tmp_path / "t.gif")


def test_mp4_without_ffmpeg_is_a_clear_error(short_run, tmp_path, monkeypatch):
    from matplotlib import animation
    net, h, d = short_run
    monkeypatch.setattr(animation.writers, "is_available", lambda name: False)
    with pytest.raises(ValueError, match="needs ffmpeg"):
        plots.animate_training(net, h, d.X_test, d.y_test, tmp_path / "t.mp4")
    assert list(tmp_path.iterdir()) == []


def test_sweep_fraction_panel_shows_the_last_epochs_value():
    """sweep.png drew the fraction steps-post, so its last value (0.40 where the summary
    said 20/50) never showed; now the line ends on it, marked and written."""
    d = ns.datasets.moons(n_samples=120)
    df = ns.sweep("moons", d.X_train, d.y_train, lrs=[0.5, 0.05], seeds=range(4),
                  epochs=3, X_test=d.X_test, y_test=d.y_test)
    fig = Figure(figsize=(8, 3))
    axes = fig.subplots(1, 2)
    plots.plot_sweep(df, ax=axes)
    s = ns.sweeps.summarize(df)
    for ln, lr in zip(axes[1].get_lines(), (0.5, 0.05)):
        frac = s[s["lr"] == lr]["frac_reached"].to_numpy()
        assert ln.get_drawstyle() == "default"
        np.testing.assert_array_equal(ln.get_ydata(), frac)
        assert ln.get_xdata()[-1] == 3
    ends = [c.get_offsets()[0].tolist() for c in axes[1].collections]
    finals = [float(s[(s["lr"] == lr) & (s["epoch"] == 3)]["frac_reached"].iloc[0])
              for lr in (0.5, 0.05)]
    assert ends == [[3.0, f] for f in finals]
    assert [t.get_text() for t in axes[1].texts] == [f"{f:.2f}" for f in finals]
    assert axes[1].get_title() == "fraction of runs at 100% test accuracy"
    plots.plot_sweep(df, ax=fig.subplots(1, 2), acc=0.9)
    assert fig.axes[-1].get_title() == "fraction of runs with test accuracy ≥ 90%"
    assert "≥ 100%" not in axes[1].get_title()


def test_an_animation_frame_draws_that_epochs_weights(short_run):
    """Frames place the drawing once and then reweigh it: the same numbers, colours and
    widths as a fresh drawing of the net with that epoch's weights."""
    net, h, _ = short_run
    scale = float(np.abs(h.weights).max())
    first, last = net.copy(), net.copy()
    first.weights[:] = h.weights[0]
    last.weights[:] = h.weights[-1]
    kw = dict(outputs=False, deltas=False, weight_scale=scale, legend=False)
    moved = plots.plot_network(first, _ax(), **kw)
    plots._reweigh_network(moved, h.weights[-1])
    fresh = plots.plot_network(last, _ax(), **kw)
    assert sorted(t.get_text() for t in moved.texts) == \
        sorted(t.get_text() for t in fresh.texts)
    assert [(ln.get_color(), ln.get_linewidth()) for ln in moved.get_lines()] == \
        [(ln.get_color(), ln.get_linewidth()) for ln in fresh.get_lines()]
    assert any(f"bias {h.weights[-1][k]:+.2f}" in t.get_text() for t in moved.texts
               for k in range(net.n_edges) if net.src[k] == net.bias)


def test_largest_weight_one_line_per_history_over_the_non_bias_weights():
    d = ns.datasets.moons()
    hs = {}
    for l2 in (0.0, 0.01):
        hs[l2] = ns.train(ns.presets.moons_net(), d.X_train[:200], d.y_train[:200], lr=0.05,
                          epochs=3, l2=l2)
    net = ns.presets.moons_net()
    ax = plots.plot_largest_weight(hs, net, Figure().subplots())
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["λ = 0", "λ = 0.01"]
    keep = net.src != net.bias
    for ln, h in zip(lines, hs.values()):
        np.testing.assert_array_equal(ln.get_ydata(), np.abs(h.weights[:, keep]).max(axis=1))
    with pytest.raises(ValueError, match="shape"):
        plots.plot_largest_weight(hs[0.0], ns.presets.four_neuron(), Figure().subplots())
    with pytest.raises(ValueError, match="Network"):
        plots.plot_largest_weight(hs[0.0], "net", Figure().subplots())
    with pytest.raises(ValueError, match="empty"):
        plots.plot_largest_weight({}, net, Figure().subplots())
