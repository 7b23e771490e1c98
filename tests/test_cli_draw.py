"""``neurosim draw``: any preset or saved network to PNG, SVG or PDF, by the extension."""
import os
import subprocess
import sys

import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-"}


def _cli(*argv, cwd=None):
    """``neurosim draw ...`` in a fresh interpreter, as a user runs it."""
    r = subprocess.run([sys.executable, "-m", "neurosim", "draw", *argv], cwd=cwd,
                       capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def _is_format(path, ext):
    head = path.read_bytes()[:200]
    if ext == ".svg":
        return b"<svg" in head or head.startswith(b"<?xml")
    return head.startswith(MAGIC[ext])


def test_presets_and_saved_networks_in_every_format(tmp_path):
    net = ns.presets.moons_net(seed=3)
    ns.save(net, tmp_path / "m.npz")
    ns.save(ns.presets.four_neuron(), tmp_path / "f.json")
    jobs = [("four-neuron", "a.png"), ("22432", "b.svg"), ("moons", "c.pdf"),
            (str(tmp_path / "m.npz"), "d.PNG"), (str(tmp_path / "f.json"), "e.svg")]
    for net_arg, name in jobs:
        rc, _, err = _cli("--net", net_arg, "-o", str(tmp_path / name))
        assert rc == 0, err
        assert err.strip() == f"wrote {tmp_path / name}"
        assert _is_format(tmp_path / name, os.path.splitext(name)[1].lower()), name
    # a file gets the mode the umask gives, and no temporary file is left behind
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.png").stat().st_mode & 0o777 == 0o666 & ~umask
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_default_output_name_and_a_sample(tmp_path):
    rc, _, err = _cli("--net", "moons", "--x", "0.5", "-0.2", "--target", "1", cwd=tmp_path)
    assert rc == 0, err
    assert _is_format(tmp_path / "moons.png", ".png")


@pytest.mark.parametrize("argv, match", [
    (["-o", "net.jpg"], "cannot tell the format of 'net.jpg' from its extension; use "
                        ".png, .svg, .pdf"),
    (["-o", "net"], "cannot tell the format"),
    (["--net", "mons"], "did you mean 'moons'"),
    (["--x", "1"], "--x needs 2 values"),
    (["--target", "1", "0"], "--target needs --x"),
    (["--digits", "9"], "--digits"),
    (["-o", "no/such/folder/n.png"], "does not exist"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, match):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        rc = main(["draw", *argv])
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    assert rc == 2
    assert match in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


def test_seed_is_for_presets_only(tmp_path, capsys):
    from neurosim.cli import preset_network
    np.testing.assert_array_equal(preset_network("moons", 7).weights,
                                  ns.presets.moons_net(seed=7).weights)
    assert main(["draw", "--net", "moons", "--seed", "7", "-o", str(tmp_path / "s.svg")]) == 0
    assert _is_format(tmp_path / "s.svg", ".svg")
    ns.save(ns.presets.four_neuron(), tmp_path / "f.npz")
    assert main(["draw", "--net", str(tmp_path / "f.npz"), "--seed", "1",
                 "-o", str(tmp_path / "f.png")]) == 2
    assert "--seed is for a preset" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()
