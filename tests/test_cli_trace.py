"""``neurosim trace``."""
import json

import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main


def run(capsys, *argv):
    rc = main(["trace", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_four_neuron_neuron_a(capsys):
    rc, out, _ = run(capsys, "--net", "four-neuron", "--neuron", "A")
    assert rc == 0
    assert "Aδ = AC·Cδ + AD·Dδ = 0.30·(−1.01) + 0.40·0.28 = −0.191" in out
    assert "Ao = XA·Xo + YA·Yo = 0.20·1.00 + 0.30·1.00 = 0.50" in out
    assert "neuron C" not in out


def test_sample_target_and_lr(capsys):
    # x = (1, 0): Ao = 0.2, Bo = 0.5; Co = 0.3*0.2 + (-0.2)*0.5 = -0.04; t = (0, 1)
    # Cd = -0.04 - 0 = -0.04; AC <- 0.3 - 0.5*0.2*(-0.04) = 0.304
    rc, out, _ = run(capsys, "--neuron", "C", "--x", "1", "0", "--target", "0", "1",
                     "--lr", "0.5")
    assert rc == 0
    assert "Co = AC·Ao + BC·Bo = 0.30·0.20 + (−0.20)·0.50 = −0.04" in out
    assert "Cδ = Co − tC = −0.04 − 0.00 = −0.04" in out
    assert "AC ← AC − η·Ao·Cδ = 0.30 − 0.50·0.20·(−0.04) = 0.304" in out


def test_all_neurons_ascii_and_perturb(capsys):
    rc, out, _ = run(capsys, "--ascii", "--perturb", "A=0.01", "--perturb", "BD=0.5")
    assert rc == 0 and all(ord(c) < 128 for c in out)
    for nm in "ABCD":
        assert f"neuron {nm} " in out
    assert "predicted Em = m x Ad = 0.01 x (-0.191) = -0.00191" in out
    assert "perturb weight BD by m = 0.50" in out


@pytest.mark.parametrize("net,neuron", [("22432", "G"), ("moons", "P")])
def test_other_presets(capsys, net, neuron):
    rc, out, _ = run(capsys, "--net", net, "--neuron", neuron, "--seed", "2")
    assert rc == 0 and f"neuron {neuron} " in out and f"{neuron}δ = " in out


def test_json_matches_trace(capsys):
    rc, out, _ = run(capsys, "--neuron", "B", "--json", "--perturb", "B=0.1")
    assert rc == 0
    doc = json.loads(out)
    t = ns.trace(ns.presets.four_neuron(), *ns.presets.FOUR_NEURON_SAMPLE)
    b = doc["neurons"][0]
    assert b["name"] == "B" and b["delta"] == pytest.approx(t.neuron("B").delta)
    assert [x["edge"] for x in b["backward"]] == ["BC", "BD"]
    assert doc["perturbations"][0]["predicted"] == pytest.approx(0.1 * 0.23)


@pytest.mark.parametrize("argv,msg", [
    (["--net", "nonexistent-net"], "neither a preset"),
    (["--neuron", "Z"], "no neuron 'Z'"),
    (["--neuron", "Z", "--json"], "no neuron 'Z'"),
    (["--perturb", "A"], "NAME=M"),
    (["--perturb", "A=x"], "not a number"),
    (["--x", "1", "2", "3"], "the network has 2 inputs (X, Y); give 2 values"),
    (["--lr", "-1"], "learning rate"),
])
def test_errors(capsys, argv, msg):
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and msg in err and out == ""


def test_saved_network(capsys, tmp_path):
    from neurosim import io
    net = ns.presets.four_neuron()
    net.set_weight("AC", 0.5)
    path = tmp_path / "net.npz"
    io.save(net, str(path))
    rc, out, _ = run(capsys, "--net", str(path), "--neuron", "C", "--x", "1", "1",
                     "--target", "1", "0")
    assert rc == 0
    # Co = 0.5*0.5 + (-0.2)*0.8 = 0.25 - 0.16 = 0.09
    assert "Co = AC·Ao + BC·Bo = 0.50·0.50 + (−0.20)·0.80 = 0.09" in out
    np.testing.assert_array_equal(io.load(str(path)).weights, net.weights)
