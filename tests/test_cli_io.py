"""``neurosim train`` and ``neurosim info``: train, save, load and show."""
import json

import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main


def test_train_save_info(tmp_path, capsys):
    out = tmp_path / "m.npz"
    rc = main(["train", "--net", "moons", "--data", "xor", "--n-samples", "80", "--epochs",
               "3", "--lr", "0.1", "--seed", "4", "-o", str(out)])
    assert rc == 0
    text = capsys.readouterr()
    assert "saved to" in text.out and "lr=0.1" in text.err      # progress bar on
    net, hist = ns.load(out, with_history=True)
    # the same training by hand gives the same network
    d = ns.datasets.xor(n_samples=80)
    ref = ns.presets.moons_net(seed=4)
    h = ns.train(ref, d.X_train, d.y_train, lr=0.1, epochs=3, seed=4, X_test=d.X_test,
                 y_test=d.y_test)
    np.testing.assert_array_equal(net.weights, ref.weights)
    np.testing.assert_array_equal(hist.test_acc, h.test_acc)
    assert main(["info", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "P=sigmoid" in shown and "37 edges" in shown and "3 epochs" in shown
    assert f"AE={net.weight('AE'):.6g}" in shown
    assert main(["info", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["edges"]["AE"] == net.weight("AE") and doc["history"]["epochs"] == 3


def test_layers_json_and_multi_output(tmp_path, capsys):
    out = tmp_path / "n.json"
    assert main(["train", "--layers", "2", "3", "2", "--data", "circles", "--n-samples",
                 "60", "--epochs", "2", "--no-progress", "-o", str(out)]) == 0
    net = ns.load(out)
    assert net.loss_name == "softmax_ce" and len(net.output_idx) == 2
    assert "lr=" not in capsys.readouterr().err                # --no-progress
    # four-neuron has two quadratic outputs: labels become one-hot rows
    assert main(["train", "--net", "four-neuron", "--data", "moons", "--n-samples", "40",
                 "--epochs", "1", "--no-progress"]) == 0


def test_errors(tmp_path, capsys):
    assert main(["train", "--layers", "3", "2", "1", "--data", "moons", "--epochs", "1"]) == 2
    out, err = capsys.readouterr()
    assert "epoch" not in out and "has 2 inputs; the net 3-2-1 has 3" in err
    assert main(["info", str(tmp_path / "missing.npz")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    assert main(["info", str(bad)]) == 2
    assert "cannot load" in capsys.readouterr().err
    # an unwritable output is refused before training starts
    assert main(["train", "--epochs", "1", "-o", str(tmp_path / "no" / "x.npz")]) == 2
    assert "epoch" not in capsys.readouterr().out
    # a diverging run is reported and not saved
    out = tmp_path / "div.npz"
    with pytest.warns(RuntimeWarning, match="diverged"):
        rc = main(["train", "--net", "four-neuron", "--data", "gaussians", "--noise", "3",
                   "--lr", "50", "--epochs", "30", "--no-progress", "-o", str(out)])
    assert rc == 1 and not out.exists()
    assert "diverged" in capsys.readouterr().out
