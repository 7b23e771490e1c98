"""Fig 14-1's five-class softmax classifier: ``datasets.blobs``, the ``five-class`` preset,
the softmax block of ``Trace.explain`` / ``Trace.softmax`` and ``neurosim trace``."""
import json
import re
import subprocess
import sys

import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main

NUM = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?)"


def softmax(o):
    e = np.exp(o - o.max())
    return e / e.sum()


def plain(text):
    return text.replace("−", "-")


def block(text):
    """The softmax block of an explanation: the lines between the header and neuron 1."""
    parts = text.split("\n\n")
    assert parts[1].startswith("softmax of the outputs"), text[:400]
    return plain(parts[1])


def rows(text):
    """{class: (logit, probability, target, delta, mark)} from the block's class rows."""
    out = {}
    for m in re.finditer(rf"class (\d): +o\[c\d\] = {NUM} +p\[c\d\] = {NUM} +"
                         rf"δ\[c\d\] = p\[c\d\] - t\[c\d\] = {NUM} - \(?{NUM}\)? = {NUM}"
                         r" *(.*)", block(text)):
        k = int(m.group(1))
        o, p, p2, t, d = map(float, m.group(2, 3, 4, 5, 6))
        assert p == p2
        out[k] = (o, p, t, d, m.group(7).strip())
    return out


# -- the data set ----------------------------------------------------------------------------
def test_blobs_shape_and_classes():
    d = ns.datasets.blobs()
    assert d.X_train.shape == (375, 2) and d.X_test.shape == (125, 2)
    assert d.y_train.shape == (375,) and d.y_test.shape == (125,)
    assert d.X_train.dtype == np.float64 and d.y_train.dtype == np.float64
    assert set(np.unique(d.y_train)) == {0.0, 1.0, 2.0, 3.0, 4.0}
    assert set(np.unique(d.y_test)) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-12)   # scaled on train
    np.testing.assert_allclose(d.X_train.std(axis=0), 1, atol=1e-12)
    counts = np.bincount(np.r_[d.y_train, d.y_test].astype(int))
    assert counts.tolist() == [100] * 5                                  # shared out evenly
    three = ns.datasets.blobs(n_samples=90, n_classes=3, test_size=0.5, scale=False)
    assert len(three.X_train) == 45 and set(np.unique(three.y_train)) == {0.0, 1.0, 2.0}
    assert abs(three.X_train.mean()) > 1e-3 or abs(three.X_train.std() - 1) > 1e-3


def test_blobs_classes_sit_apart():
    """Each class's unscaled mean lies near its centre on the circle, neighbours 2.5
    apart, so a classifier has something to find."""
    d = ns.datasets.blobs(n_samples=5000, noise=0.3, scale=False)
    X, y = np.r_[d.X_train, d.X_test], np.r_[d.y_train, d.y_test]
    means = np.array([X[y == k].mean(axis=0) for k in range(5)])
    gaps = np.linalg.norm(means - np.roll(means, -1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2.5, atol=0.05)


def test_blobs_deterministic_by_seed():
    a, b, c = ns.datasets.blobs(seed=3), ns.datasets.blobs(seed=3), ns.datasets.blobs(seed=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("kw,msg", [
    (dict(n_classes=1), "n_classes must be an integer >= 2"),
    (dict(n_classes=2.5), "n_classes must be an integer >= 2"),
    (dict(n_classes=True), "n_classes must be an integer >= 2"),
    (dict(n_classes="5"), "n_classes must be an integer >= 2"),
    (dict(n_samples=9), "too few for 5 classes"),
    (dict(n_samples=3), "n_samples must be an integer >= 4"),
    (dict(noise=-0.1), "noise must be >= 0"),
    (dict(test_size=1.0), "test_size must be in"),
    (dict(seed=-1), "seed must be None or an integer"),
    (dict(scale="yes"), "scale must be True or False"),
])
def test_blobs_bad_input(kw, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        ns.datasets.blobs(**kw)


# -- the preset --------------------------------------------------------------------------------
def test_preset_shape():
    net = ns.presets.preset("five-class")
    assert net.loss_name == "softmax_ce" and net.n_inputs == 2
    assert [net.neuron_names[i] for i in net.output_idx] == ["c0", "c1", "c2", "c3", "c4"]
    assert all(net.activation(f"c{k}") == "identity" for k in range(5))
    assert all(net.activation(h) == "relu" for h in "ABCDEFGH")
    assert net.n_edges == (2 + 1) * 8 + (8 + 1) * 5 == 69
    np.testing.assert_array_equal(net.weights, ns.presets.five_class_net(
        seed=ns.presets.FIVE_CLASS_SEED).weights)
    np.testing.assert_array_equal(ns.presets.Preset("five-class")(7).weights,
                                  ns.presets.five_class_net(seed=7).weights)
    assert not np.array_equal(net.weights, ns.presets.five_class_net(seed=1).weights)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_preset_learns_the_blobs(seed):
    d = ns.datasets.blobs()
    net = ns.presets.five_class_net(seed=seed)
    _, acc0 = ns.evaluate(net, d.X_test, d.y_test)
    h = ns.train(net, d.X_train, d.y_train, lr=0.05, epochs=10, seed=seed,
                 X_test=d.X_test, y_test=d.y_test)
    assert acc0 < 0.6                          # untrained it is far from the bar
    assert h.test_acc[-1] >= 0.9 and h.train_acc[-1] >= 0.9
    assert h.test_loss[-1] < 0.5 * h.test_loss[0]
    P = ns.predict_proba(net, d.X_test)
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-12)
    assert np.mean(P.argmax(axis=1) == d.y_test) == pytest.approx(h.test_acc[-1])


# -- the trace ---------------------------------------------------------------------------------
def _sample(seed=0, i=None):
    d = ns.datasets.blobs()
    net = ns.presets.five_class_net(seed=seed)
    if i is None:
        i = int(np.flatnonzero(ns.predict_proba(net, d.X_train).argmax(axis=1)
                               != d.y_train)[0])
    return net, d.X_train[i], int(d.y_train[i])


@pytest.mark.parametrize("seed,i", [(0, None), (1, None), (0, 0), (2, 5)])
def test_trace_softmax_block_against_numpy(seed, i):
    net, x, label = _sample(seed, i)
    o = ns.predict(net, x[None])[0]
    p = softmax(o)
    t = np.eye(5)[label]
    tr = ns.trace(net, x, label)
    text = tr.explain(digits=17)
    r = rows(text)
    assert sorted(r) == [0, 1, 2, 3, 4]
    got_p = np.array([r[k][1] for k in range(5)])
    assert abs(got_p.sum() - 1) < 1e-12                   # the printed probabilities
    np.testing.assert_allclose([r[k][0] for k in range(5)], o, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(got_p, p, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([r[k][3] for k in range(5)], p - t, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal([r[k][2] for k in range(5)], t)
    b = block(text)
    total = float(re.search(rf"Σ p = .* = {NUM}\n", b).group(1))
    assert abs(total - 1) < 1e-12
    pred = int(np.argmax(p))
    m = re.search(r"predicted class (\d) \(c(\d), the largest p = ([0-9.e-]+)\); "
                  r"labelled class (\d) \(c(\d)\): (right|wrong)", b)
    assert m, b
    assert int(m.group(1)) == int(m.group(2)) == pred
    assert float(m.group(3)) == pytest.approx(p[pred], rel=1e-12)
    assert int(m.group(4)) == int(m.group(5)) == label
    assert m.group(6) == ("right" if pred == label else "wrong")
    marks = {k: r[k][4] for k in range(5) if r[k][4]}
    if pred == label:
        assert marks == {pred: "← predicted, label"}
    else:
        assert marks == {pred: "← predicted", label: "← label"}
    E = float(re.search(rf"E = -log p\[c{label}\] = -log {NUM} = {NUM}", b).group(2))
    assert E == pytest.approx(-np.log(p[label]), rel=1e-12)
    assert tr.error == pytest.approx(-np.log(p[label]), rel=1e-12)
    # the per-output backward lines agree with the block
    for k in range(5):
        d = re.search(rf"δ\[c{k}\] = softmax\(o\[c{k}\]\) - t\[c{k}\] = {NUM} - \(?{NUM}\)? "
                      rf"= {NUM}", plain(text))
        assert float(d.group(3)) == pytest.approx(p[k] - t[k], rel=1e-12, abs=1e-14)


def test_trace_softmax_data():
    net, x, label = _sample()
    p = softmax(ns.predict(net, x[None])[0])
    s = ns.trace(net, x, label).softmax()
    assert s.names == ("c0", "c1", "c2", "c3", "c4")
    assert abs(s.total - 1) < 1e-12 and abs(sum(s.probabilities) - 1) < 1e-12
    np.testing.assert_allclose(s.probabilities, p, rtol=1e-12)
    assert s.predicted == int(np.argmax(p)) != s.label == label
    assert s.correct is False and s.as_dict()["correct"] is False
    np.testing.assert_allclose(s.deltas, p - np.eye(5)[label], rtol=1e-12, atol=1e-15)
    assert s.error == pytest.approx(-np.log(p[label]), rel=1e-12)


def test_trace_soft_target_and_ascii():
    net = ns.presets.five_class_net()
    x, t = np.array([0.3, -1.0]), np.array([0.5, 0.5, 0, 0, 0])
    p = softmax(ns.predict(net, x[None])[0])
    tr = ns.trace(net, x, t)
    s = tr.softmax()
    assert s.label is None and s.correct is None
    assert s.error == pytest.approx(-(t * np.log(p)).sum(), rel=1e-12)
    np.testing.assert_allclose(s.deltas, p - t, rtol=1e-12, atol=1e-15)
    text = tr.explain("c0")
    assert "the target is a probability row, not one class" in text
    assert "labelled class" not in text
    a = tr.explain("c0", ascii=True)
    assert all(ord(c) < 128 for c in a)
    assert "sum p = " in a and "p = e^o / sum e^o" in a


def test_no_softmax_block_for_other_losses():
    tr = ns.trace(ns.presets.four_neuron(), *ns.presets.FOUR_NEURON_SAMPLE)
    assert "softmax of the outputs" not in tr.explain()
    with pytest.raises(ValueError, match="softmax_ce networks"):
        tr.softmax()


# -- the command line --------------------------------------------------------------------------
def run(capsys, *argv):
    rc = main(["trace", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("seed", [None, 3])
def test_cli_default_sample_is_misclassified(capsys, seed):
    extra = [] if seed is None else ["--seed", str(seed)]
    rc, out, _ = run(capsys, "--net", "five-class", "--json", *extra)
    assert rc == 0
    doc = json.loads(out)
    net = ns.presets.five_class_net(seed=ns.presets.FIVE_CLASS_SEED if seed is None else seed)
    d = ns.datasets.blobs()
    P = ns.predict_proba(net, d.X_train)
    best = [(P[i].max(), i) for i in range(len(P)) if P[i].argmax() != d.y_train[i]]
    i = min(best)[1]                        # the wrongly classified point it is least sure of
    np.testing.assert_array_equal(doc["x"], d.X_train[i])
    s = doc["softmax"]
    p = softmax(ns.predict(net, np.array(doc["x"])[None])[0])
    assert s["label"] == int(d.y_train[i]) and s["predicted"] == int(np.argmax(p))
    assert max(p) == pytest.approx(min(best)[0], rel=1e-12)
    assert s["predicted"] != s["label"] and s["correct"] is False
    assert abs(sum(s["probabilities"]) - 1) < 1e-12
    np.testing.assert_allclose(s["deltas"], p - np.eye(5)[s["label"]], rtol=1e-12,
                               atol=1e-15)


def test_cli_text_and_own_sample(capsys):
    rc, out, _ = run(capsys, "--net", "five-class", "--neuron", "c3", "--x", "0.5", "-1",
                     "--target", "3")
    assert rc == 0
    net = ns.presets.five_class_net()
    p = softmax(ns.predict(net, np.array([[0.5, -1.0]]))[0])
    pred = int(np.argmax(p))
    assert f"predicted class {pred} (c{pred}, " in out and "labelled class 3 (c3)" in out
    assert "neuron c3 (output, identity)" in out and "neuron c0 " not in out
    assert re.search(r"Σ p = .* = 1\.00\n", out)


def test_cli_bad_label(capsys):
    rc, out, err = run(capsys, "--net", "five-class", "--x", "0", "0", "--target", "7")
    assert rc == 2 and out == "" and "class label for 5 outputs" in err


def test_cli_subprocess():
    r = subprocess.run([sys.executable, "-m", "neurosim", "trace", "--net", "five-class",
                        "--neuron", "c0", "--ascii"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    m = re.search(r"predicted class (\d) .*; labelled class (\d) \(c\d\): wrong", r.stdout)
    assert m and m.group(1) != m.group(2)
    assert "five-class" in subprocess.run(
        [sys.executable, "-m", "neurosim", "trace", "--help"], capture_output=True,
        text=True, timeout=300).stdout
