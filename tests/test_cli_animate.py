"""``neurosim animate``: a GIF of training, from a preset trained here or a saved history."""
import subprocess
import sys

import pytest

import neurosim as ns
from neurosim.cli import main


def _cli(*argv, cwd=None):
    r = subprocess.run([sys.executable, "-m", "neurosim", "animate", *argv], cwd=cwd,
                       capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def _frames(path):
    from PIL import Image
    with Image.open(path) as im:
        return im.n_frames


def test_a_preset_trained_and_animated(tmp_path):
    rc, _, err = _cli("--net", "moons", "--epochs", "3", "--dpi", "30", "-o",
                      str(tmp_path / "m.gif"))
    assert rc == 0, err
    assert "η = 0.05, 3 epochs, seed 1" in err and f"wrote {tmp_path / 'm.gif'}" in err
    assert (tmp_path / "m.gif").read_bytes()[:6] == b"GIF89a"
    assert _frames(tmp_path / "m.gif") == 4


def test_a_saved_history_is_replayed(tmp_path, capsys):
    d = ns.datasets.moons()
    net = ns.presets.moons_net()
    h = ns.train(net, d.X_train, d.y_train, lr=0.5, epochs=2, X_test=d.X_test,
                 y_test=d.y_test)
    ns.save(net, tmp_path / "n.npz", history=h)
    assert main(["animate", "--net", str(tmp_path / "n.npz"), "--dpi", "30",
                 "-o", str(tmp_path / "n.gif")]) == 0
    assert _frames(tmp_path / "n.gif") == 3
    ns.save(net, tmp_path / "bare.npz")
    assert main(["animate", "--net", str(tmp_path / "bare.npz"), "-o",
                 str(tmp_path / "b.gif")]) == 2
    assert "holds no training history" in capsys.readouterr().err
    assert main(["animate", "--net", str(tmp_path / "n.npz"), "--epochs", "5", "-o",
                 str(tmp_path / "b.gif")]) == 2
    assert "replayed from its stored history" in capsys.readouterr().err
    assert not (tmp_path / "b.gif").exists()


@pytest.mark.parametrize("argv, match", [
    (["-o", "t.png"], "use .gif, .mp4"),
    (["--net", "moon"], "did you mean 'moons'"),
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--lr", "0"], "--lr must be a number > 0"),
    (["--frames", "1"], "--frames"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, argv, match):
    rc, out, err = _cli(*argv, cwd=tmp_path)
    assert rc == 2
    assert match in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []
