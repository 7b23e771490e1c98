"""What a newcomer meets on the command line (issue 15): one-line errors, closed pipes,
files with the umask's mode, CSV data, `neurosim sweep`, traces of saved networks, the
provenance saved files record, and the compile message. Through subprocesses, as a user
runs them."""
import io as _io
import json
import os
import pathlib
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

import neurosim as ns
from neurosim import progress

EXE = [sys.executable, "-m", "neurosim"]


def cli(*args, cwd=None, input=None, env=None, shell_tail=None):
    """Run ``neurosim ARGS`` (optionally ``| shell_tail``); return (rc, stdout, stderr)."""
    e = dict(os.environ, **(env or {}))
    e.setdefault("MPLBACKEND", "Agg")
    if shell_tail is None:
        p = subprocess.run(EXE + [str(a) for a in args], cwd=cwd, env=e, capture_output=True,
                           text=True, timeout=300, input=input)
    else:
        import shlex
        cmd = " ".join(shlex.quote(str(a)) for a in EXE + list(args)) + " | " + shell_tail
        p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=cwd, env=e,
                           capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def one_line(err):
    lines = [s for s in err.splitlines() if s.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A moons net trained by the CLI on xor data and saved with its sample."""
    d = tmp_path_factory.mktemp("saved")
    path = d / "m.npz"
    rc, out, err = cli("train", "--net", "moons", "--data", "xor", "--n-samples", "80",
                       "--epochs", "3", "--seed", "4", "--no-progress", "-o", path)
    assert rc == 0, err
    return path


# -- one-line errors -----------------------------------------------------------------------
@pytest.mark.parametrize("args, words", [
    (["train", "--net", "moon"], ["invalid choice 'moon'", "did you mean 'moons'?"]),
    (["train", "--data", "moon"], ["did you mean 'moons'?", "or a .csv file"]),
    (["sweep", "--net", "four-neurons"], ["did you mean 'four-neuron'?"]),
    (["trace", "--net", "22433"], ["did you mean '22432'?"]),
    (["info", "x.npz", "--jsn"], ["neurosim info: error", "--jsn", "did you mean '--json'?"]),
    (["train", "--epochs", "0"], ["--epochs", "must be at least 1, got 0"]),
    (["train", "--lr", "0"], ["--lr", "must be a number > 0"]),
    (["train", "--lr", "abc"], ["'abc' is not a number"]),
    (["train", "-o", "out.txt"], ["-o out.txt", "must end in .npz", ".json"]),
    (["train", "--features", "a"], ["--features is for a CSV file"]),
    (["trace", "--net", "four-neuron", "--target", "5"],
     ["--target: the network has 2 outputs (C, D); give 2 values, e.g. --target 1 0"]),
    (["trace", "--x", "1", "2", "3"], ["--x: the network has 2 inputs (X, Y); give 2 values"]),
    (["trace", "--net", "nothere.npz"], ["no such file: nothere.npz"]),
])
def test_bad_input_is_one_line_and_nothing_else(args, words, tmp_path):
    rc, out, err = cli(*args, cwd=tmp_path)
    assert rc == 2
    assert out == ""                               # nothing printed before the error
    line = one_line(err)
    for w in words:
        assert w in line, line
    assert list(tmp_path.iterdir()) == []          # nothing written


def test_library_words_do_not_reach_the_cli(tmp_path):
    rc, _, err = cli("trace", "--net", "four-neuron", "--target", "5")
    assert "y must have shape" not in err and "(1,)" not in err
    rc, _, err = cli("trace", "--x", "1", "2", "3")
    assert "n_samples" not in err


def test_info_of_something_else_is_not_a_neurosim_file(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("a,b,label\n1,2,0\n")
    rc, out, err = cli("info", csv)
    assert rc == 2 and "not a neurosim file" in one_line(err) and "JSON" not in err.split(
        "(")[0]


def test_help_has_no_rest_markup():
    for sub in ("train", "trace", "sweep", "demo", "info"):
        rc, out, err = cli(sub, "--help")
        assert rc == 0, err
        assert "``" not in out and "::" not in out, sub


# -- pipes and files -----------------------------------------------------------------------
def test_closed_pipe_after_training_still_saves_and_exits_quietly(tmp_path):
    rc, out, err = cli("train", "--epochs", "200", "-o", "bp.npz", cwd=tmp_path,
                       shell_tail="head -2")
    assert len(out.splitlines()) == 2
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    net, h = ns.load(tmp_path / "bp.npz", with_history=True)
    assert h.epochs == 200


@pytest.mark.parametrize("args", [["info", "{path}"], ["info", "{path}", "--json"],
                                  ["trace", "--json"], ["trace", "--net", "{path}"]])
def test_closed_pipe_is_quiet(args, saved):
    args = [a.format(path=saved) for a in args]
    rc, out, err = cli(*args, shell_tail="head -3")
    assert len(out.splitlines()) == 3
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception" not in err, err


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_files_get_the_umasks_mode(umask, mode, tmp_path):
    out = tmp_path / "u.json"
    p = subprocess.run(["bash", "-c", f"umask {umask:03o} && exec \"$@\"", "sh", *EXE,
                        "train", "--net", "four-neuron", "--data", "xor", "--n-samples", "20",
                        "--epochs", "1", "--no-progress", "-o", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert out.stat().st_mode & 0o777 == mode
    assert [f.name for f in tmp_path.iterdir()] == ["u.json"]      # no temporary left


def test_train_table_header_lines_up(tmp_path):
    rc, out, err = cli("train", "--net", "four-neuron", "--data", "xor", "--n-samples", "20",
                       "--epochs", "2", "--no-progress")
    assert rc == 0, err
    lines = out.splitlines()
    k = next(i for i, s in enumerate(lines) if s.lstrip().startswith("epoch"))
    head, row = lines[k], lines[k + 1]
    assert len(head) == len(row)
    for word in ("epoch", "train loss", "train acc", "test loss", "test acc"):
        end = head.index(word) + len(word)          # right-aligned: columns end together
        assert row[end - 1] != " " and (end == len(row) or row[end] == " "), (head, row)
    assert "1 outputs" not in out and "['" not in out


# -- CSV data -------------------------------------------------------------------------------
@pytest.fixture
def points(tmp_path):
    c = ns.datasets.circles(n_samples=200, scale=False)
    path = tmp_path / "points.csv"
    pd.DataFrame({"id": np.arange(len(c.X_train)), "width": c.X_train[:, 0],
                  "height": c.X_train[:, 1],
                  "kind": np.where(c.y_train == 1, "disc", "ring")}).to_csv(path, index=False)
    return path, c


def test_train_on_a_csv(points, tmp_path):
    path, c = points
    out = tmp_path / "p.npz"
    rc, text, err = cli("train", "--layers", "2", "8", "1", "--data", path, "--features",
                        "width", "height", "--label", "kind", "--epochs", "30",
                        "--no-progress", "-o", out)
    assert rc == 0, err
    assert "points.csv: 112 train / 38 test points, 2 features" in text
    prov = ns.io.provenance(out)
    data = prov["data"]
    assert data["csv"] == "points.csv" and data["features"] == ["width", "height"]
    assert data["label"] == "kind" and data["classes"] == ["disc", "ring"]
    assert data["scaled"] and len(data["mean"]) == 2 and data["split_seed"] == 0
    # the same by hand: stratified split with seed 0, scaled with the training part
    from sklearn.model_selection import train_test_split
    X = c.X_train
    y = np.where(c.y_train == 1, 0.0, 1.0)          # "disc" < "ring": disc is class 0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    np.testing.assert_allclose(data["mean"], Xtr.mean(axis=0))
    net = ns.Network.layered([2, 8, 1], hidden="relu", output="sigmoid", loss="bce", seed=0)
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    ns.train(net, (Xtr - mu) / sd, ytr, lr=0.05, epochs=30, seed=0)
    np.testing.assert_array_equal(ns.load(out).weights, net.weights)


def test_csv_defaults_and_errors(points, tmp_path):
    path, _ = points
    # default label: the last column; default features: all the others (id included: 3)
    rc, out, err = cli("train", "--layers", "3", "1", "--data", path, "--epochs", "1",
                       "--no-progress")
    assert rc == 0, err and "3 features" in out
    for args, words in [
        (["--label", "knd"], ["no column 'knd'", "did you mean 'kind'?"]),
        (["--features", "width", "kind"], ["both a feature and the label"]),
        (["--label", "width"], ["feature columns must be numbers; kind"]),
        (["--n-samples", "50"], ["--n-samples is for generated data sets"]),
        (["--test-size", "1.5"], ["--test-size must be in [0, 1)"]),
    ]:
        rc, out, err = cli("train", "--data", path, *args)
        assert rc == 2 and out == "", (args, out)
        line = one_line(err)
        assert all(w in line for w in words), (args, line)
    rc, _, err = cli("train", "--data", tmp_path / "missing.csv")
    assert rc == 2 and "no such file" in one_line(err)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,0\n2,1\nx,0\n3,1\n")
    rc, _, err = cli("train", "--layers", "1", "1", "--data", bad)
    assert rc == 2 and "feature columns must be numbers" in one_line(err)
    gaps = tmp_path / "gaps.csv"
    gaps.write_text("a,b,c\n1,2,0\n2,,1\n3,4,0\n5,6,1\n7,8,0\n")
    rc, _, err = cli("train", "--layers", "2", "1", "--data", gaps)
    assert rc == 2 and "missing or non-finite feature values (file lines 3" in one_line(err)
    many = tmp_path / "three.csv"
    many.write_text("a,b,c\n" + "".join(f"{i},{i % 5},{i % 3}\n" for i in range(30)))
    rc, _, err = cli("train", "--net", "moons", "--data", many)
    assert rc == 2 and "3 classes" in one_line(err)
    rc, out, err = cli("train", "--layers", "2", "4", "3", "--data", many, "--epochs", "1",
                       "--no-progress")
    assert rc == 0, err


# -- sweep -----------------------------------------------------------------------------------
def test_sweep_writes_the_table_the_runs_and_the_figure(tmp_path):
    rc, out, err = cli("sweep", "--net", "moons", "--data", "xor", "--n-samples", "80",
                       "--lr", "0.5", "0.05", "--seeds", "3", "--epochs", "4", "--out", "sw",
                       cwd=tmp_path)
    assert rc == 0, err
    assert "2 learning rates × 3 seeds × 4 epochs = 6 runs" in out
    assert "sweep η=0.5, η=0.05" in err                  # the bar says what it sweeps
    df = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    assert len(df) == 2 * 3 * 5 and set(df["seed"]) == {0, 1, 2}
    assert set(df["lr"]) == {0.5, 0.05}
    d = ns.datasets.xor(n_samples=80)
    ref = ns.sweep("moons", d.X_train, d.y_train, lrs=[0.5, 0.05], seeds=range(3), epochs=4,
                   X_test=d.X_test, y_test=d.y_test)
    np.testing.assert_allclose(df["test_acc"].to_numpy(), ref["test_acc"].to_numpy())
    runs = pd.read_csv(tmp_path / "sw" / "runs.csv")
    assert len(runs) == 6 and "first_epoch" in runs
    png = (tmp_path / "sw" / "sweep.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    # the table: one row per η, in the order given
    rows = [s.split() for s in out.splitlines() if s.strip().startswith(("0.5 ", "0.05 "))]
    assert [r[0] for r in rows] == ["0.5", "0.05"] and all(r[1].endswith("/3") for r in rows)


def test_sweep_seed_forms_and_errors(tmp_path):
    from neurosim.cli.sweep import _seeds
    assert _seeds(["3"]) == [0, 1, 2] and _seeds(["5:8"]) == [5, 6, 7]
    assert _seeds(["3", "9"]) == [3, 9]
    for args, words in [(["--seeds", "x"], ["--seeds x: write a count"]),
                        (["--seeds", "3", "3"], ["names a seed twice"]),
                        (["--lr", "0.1", "0.1"], ["--lr names a learning rate twice"]),
                        (["--lr", "-1"], ["--lr", "must be a number > 0"])]:
        rc, out, err = cli("sweep", *args, cwd=tmp_path)
        assert rc == 2 and out == ""
        line = one_line(err)
        assert all(w in line for w in words), line
    assert list(tmp_path.iterdir()) == []


# -- trace of a saved network -----------------------------------------------------------------
def test_trace_of_a_saved_net_uses_its_stored_sample(saved):
    prov = ns.io.provenance(saved)
    d = ns.datasets.xor(n_samples=80)
    np.testing.assert_array_equal(prov["sample"]["x"], d.X_train[0])
    assert prov["sample"]["target"] == [d.y_train[0]]
    rc, out, err = cli("trace", "--net", saved, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    np.testing.assert_array_equal(doc["x"], d.X_train[0])
    assert doc["target"] == [d.y_train[0]]
    t = ns.trace(ns.load(saved), d.X_train[0], d.y_train[:1])
    assert doc["error"] == pytest.approx(t.error, rel=1e-12)


def test_trace_of_a_file_without_a_sample_needs_x(tmp_path):
    path = ns.save(ns.presets.moons_net(), tmp_path / "n.json")
    rc, out, err = cli("trace", "--net", path)
    assert rc == 2 and out == ""
    assert "stores no sample to trace: give one with --x" in one_line(err)
    rc, out, err = cli("trace", "--net", path, "--x", "0.5", "-1", "--neuron", "P")
    assert rc == 0 and "neuron P" in out                  # target defaults to 1
    assert "tP=1.00" in out


# -- provenance ---------------------------------------------------------------------------------
def test_saved_files_record_where_they_came_from(saved):
    import numba
    p = ns.io.provenance(saved)
    assert p["neurosim"] == ns.__version__ and p["numpy"] == np.__version__
    assert p["numba"] == numba.__version__ and p["python"].count(".") == 2
    assert p["init_seed"] == 4 and p["shuffle_seed"] == 4 and p["network"] == "moons"
    assert p["data"] == {"name": "xor", "n_samples": 80}
    assert p["saved"].endswith("+00:00")
    rc, out, err = cli("info", saved)
    assert rc == 0 and f"numba {numba.__version__}" in out and "init_seed: 4" in out
    rc, out, err = cli("info", saved, "--json")
    assert json.loads(out)["provenance"]["data"]["name"] == "xor"


def test_old_files_without_provenance_still_load(tmp_path):
    """Files written before provenance existed: no 'provenance' metadata key."""
    net = ns.presets.moons_net()
    path = ns.save(net, tmp_path / "new.npz")
    with zipfile.ZipFile(path) as zf:
        arrays = {n[:-4]: np.load(_io.BytesIO(zf.read(n))) for n in zf.namelist()}
    meta = json.loads(arrays.pop("meta").tobytes())
    del meta["provenance"]
    old = tmp_path / "old.npz"
    np.savez(old, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    np.testing.assert_array_equal(ns.load(old).weights, net.weights)
    assert ns.io.provenance(old) == {}
    assert "provenance: not recorded" in ns.io.info(old)
    jpath = ns.save(net, tmp_path / "new.json")
    doc = json.loads(jpath.read_text())
    del doc["provenance"]
    (tmp_path / "old.json").write_text(json.dumps(doc))
    assert ns.io.provenance(tmp_path / "old.json") == {}


def test_provenance_arguments_are_checked(tmp_path):
    net = ns.presets.moons_net()
    for kw, words in [(dict(provenance=[1]), "dict with string keys"),
                      (dict(provenance={"a": object()}), "JSON values only"),
                      (dict(provenance={"numpy": "1"}), "neurosim records them"),
                      (dict(sample=([1, 2, 3], [1])), "2 finite inputs"),
                      (dict(sample=([1, np.nan], [1])), "finite"),
                      (dict(sample=3), "pair")]:
        with pytest.raises(ValueError, match=words):
            ns.save(net, tmp_path / "x.npz", **kw)
        assert not (tmp_path / "x.npz").exists()
    ns.save(net, tmp_path / "ok.json", provenance={"note": "kept", "nested": {"a": [1, 2]}},
            sample=([0.5, -1.0], 1))
    p = ns.io.provenance(tmp_path / "ok.json")
    assert p["note"] == "kept" and p["nested"] == {"a": [1, 2]}
    assert p["sample"] == {"x": [0.5, -1.0], "target": [1.0]}


# -- progress while compiling ------------------------------------------------------------------
def test_spinner_says_what_is_happening_only_when_slow():
    buf = _io.StringIO()
    with progress.Spinner("compiling things…", stream=buf, delay=0.05) as sp:
        time.sleep(0.3)
    text = buf.getvalue()
    assert text.startswith("compiling things…\n")          # not a terminal: one line
    assert "compiling things… done in 0." in text and sp.elapsed >= 0.3
    quick = _io.StringIO()
    with progress.Spinner("x", stream=quick, delay=1.0):
        pass
    assert quick.getvalue() == ""
    off = _io.StringIO()
    with progress.Spinner("x", stream=off, delay=0, enabled=False):
        time.sleep(0.05)
    assert off.getvalue() == ""


def test_warm_up_compiles_without_touching_the_network():
    d = ns.datasets.xor(n_samples=40)
    net = ns.presets.moons_net()
    before = (net.weights.copy(), net.outs.copy())
    t = progress.warm_up(ns.training.prepare, net, d.X_train, d.y_train, X_test=d.X_test,
                         y_test=d.y_test, epochs=21, enabled=False)
    assert t >= 0
    np.testing.assert_array_equal(net.weights, before[0])
    np.testing.assert_array_equal(net.outs, before[1])


@pytest.mark.slow
def test_first_training_bar_step_holds_no_compile(tmp_path):
    """With an empty Numba cache the CLI says it is compiling, and the training bar that
    follows starts on compiled kernels: its first epoch is as quick as the others."""
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    rc, out, err = cli("train", "--net", "four-neuron", "--data", "xor", "--n-samples", "40",
                       "--epochs", "3", "-o", tmp_path / "c.npz", env=env)
    assert rc == 0, err
    assert progress.COMPILING in err and "done in" in err
    h = ns.load(tmp_path / "c.npz", with_history=True)[1]
    assert h.compile_time < 1.0, h.compile_time
    assert h.epoch_time.max() < 0.5
