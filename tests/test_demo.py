"""The demo writes every figure and a summary whose numbers are the History's."""
import json

import numpy as np
import pytest

import neurosim as ns
from neurosim import demo
from neurosim.cli import main

# small sizes: the same code paths as the default demo, a fraction of the epochs and seeds
RUNS = ((0.5, 3), (0.05, 4))
SEEDS = 3


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return demo.run_demo(out, runs=RUNS, seeds=SEEDS, dpi=40)


def _fresh_history(lr, epochs, loss="bce", seed=ns.presets.MOONS_SEED):
    """The run the demo claims to have made, made again independently: one seed sets the
    initial weights and the shuffling, as in the sweep."""
    d = ns.datasets.moons()
    return ns.train(ns.presets.moons_net(seed=seed, loss=loss), d.X_train, d.y_train, lr=lr,
                    epochs=epochs, seed=seed, X_test=d.X_test, y_test=d.y_test)


def test_every_figure_and_the_summary_are_written(result):
    from matplotlib.image import imread
    names = {p.name for p in result.out.iterdir()}
    expected = {"data.png", "network_four_neuron.png", "network_22432.png",
                "network_moons.png", "error_curve.png", "sweep.png", "sweep.csv",
                "summary.md", "summary.json", "penalty.png"}
    for lr, _ in RUNS:
        expected |= {f"lr{lr:g}_boundary.png", f"lr{lr:g}_curves.png",
                     f"lr{lr:g}_weights.png"}
    expected.add("lr0.05_training.gif")             # the η = 0.05 run, animated
    assert expected <= names
    assert {p.name for p in result.files} == expected
    for p in result.files:
        if p.suffix == ".png":
            img = imread(p)
            assert img.ndim == 3 and min(img.shape[:2]) > 50, p.name
            assert np.ptp(img[..., :3]) > 0, f"{p.name} is blank"
    from PIL import Image
    with Image.open(result.out / "lr0.05_training.gif") as im:
        assert im.format == "GIF" and im.n_frames == RUNS[1][1] + 1


def test_summary_numbers_are_the_histories(result):
    s = json.loads((result.out / "summary.json").read_text())
    assert [r["lr"] for r in s["runs"]] == [lr for lr, _ in RUNS]
    for row, run, (lr, epochs) in zip(s["runs"], result.runs, RUNS):
        h = run.history
        fresh = _fresh_history(lr, epochs)        # same settings, trained again here
        for hist in (h, fresh):
            assert row["final_train_acc"] == hist.train_acc[-1]
            assert row["final_test_acc"] == hist.test_acc[-1]
            assert row["final_test_loss"] == hist.test_loss[-1]
            first = hist.first_epoch_at(1.0)
            assert row["first_epoch_100_test"] == ("never" if first is None else first)
        assert row["epochs"] == epochs == h.epochs
        assert row["train_time_s"] == h.train_time
        assert row["cups"] == h.cups
        assert row["cups"] == pytest.approx(37 * 1536 * epochs / h.train_time)
    for pe, run in zip(s["per_epoch"], result.runs):
        assert pe["test_acc"] == run.history.test_acc.tolist()
        assert pe["train_loss"] == run.history.train_loss.tolist()
    md = (result.out / "summary.md").read_text()
    for row in s["runs"]:
        first = row["first_epoch_100_test"]
        line = (f"| {row['lr']:g} | {row['epochs']} | {row['final_train_acc']:.4f} | "
                f"{row['final_test_acc']:.4f} | {first} | {row['train_time_s']:.3f} | "
                f"{row['cups']:.3g} |")
        assert line in md


def test_runs_start_from_the_same_initial_weights(result):
    w0 = ns.presets.moons_net().weights
    for run in result.runs:
        np.testing.assert_array_equal(run.history.weights[0], w0)
    assert not np.array_equal(result.runs[0].net.weights, result.runs[1].net.weights)


def test_sweep_summary_is_the_sweep_table(result):
    s = json.loads((result.out / "summary.json").read_text())
    df = result.sweep
    assert sorted(df["seed"].unique()) == list(range(SEEDS))
    for row, (lr, epochs) in zip(s["sweep"], RUNS):
        g = df[df["lr"] == lr]
        assert row["lr"] == lr and row["epochs"] == epochs and row["seeds"] == SEEDS
        ever = g.groupby("seed")["test_acc"].max() >= 1.0
        last = g[g["epoch"] == epochs].set_index("seed")["test_acc"]
        assert row["reached_100"] == int(ever.sum())
        assert row["frac_reached_100"] == pytest.approx(ever.mean())
        assert row["at_100_final"] == int((last >= 1.0).sum())
        assert row["median_final_test_acc"] == pytest.approx(float(np.median(last)))
        assert row["collapsed_final"] == int((last < 0.6).sum())
    # seed s of the sweep is the network moons_net(seed=s) trained with shuffle seed s
    one = df[(df["lr"] == RUNS[1][0]) & (df["seed"] == 2)]
    d = ns.datasets.moons()
    h = ns.train(ns.presets.moons_net(seed=2), d.X_train, d.y_train, lr=RUNS[1][0],
                 epochs=RUNS[1][1], seed=2, X_test=d.X_test, y_test=d.y_test)
    np.testing.assert_array_equal(one["test_acc"].to_numpy(), h.test_acc)


def test_cli_prints_the_table_and_honours_the_flags(tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["demo", "--out", str(out), "--runs", "0.05:2", "--no-sweep", "--quadratic",
               "--no-figures", "--no-progress"])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["settings"]["loss"] == "quadratic" and s["sweep"] is None
    assert not list(out.glob("*.png"))
    h = _fresh_history(0.05, 2, loss="quadratic")
    assert s["runs"][0]["final_test_acc"] == h.test_acc[-1]
    printed = capsys.readouterr().out
    assert f"| 0.05 | 2 | {h.train_acc[-1]:.4f} | {h.test_acc[-1]:.4f} |" in printed


def test_cli_sweep_seeds(tmp_path, capsys):
    rc = main(["demo", "--out", str(tmp_path), "--runs", "0.05:1", "--seeds", "2",
               "--no-figures", "--no-progress"])
    assert rc == 0
    assert "| 0.05 | 1 | 2 |" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--runs", "0.05:0"], ["--runs", "x"], ["--seeds", "0"],
                                  ["--runs", "-1:3"]])
def test_cli_bad_arguments_fail_cleanly(tmp_path, argv, capsys):
    try:
        rc = main(["demo", "--out", str(tmp_path / "o"), "--no-figures", "--no-progress",
                   *argv])
    except SystemExit as e:                 # argparse's own errors
        rc = e.code
    assert rc == 2
    assert "error" in capsys.readouterr().err
    assert not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.parametrize("kw, match", [
    (dict(runs=[]), "runs"), (dict(runs=[(0.1, 2, 3)]), "pair"),
    (dict(runs=[(0.1, 2), (0.1, 3)]), "differ"), (dict(loss="hinge"), "loss"),
    (dict(seeds=0), "seeds"), (dict(seeds=["a"]), "seeds"), (dict(sweep="yes"), "sweep"),
    (dict(seed=-1), "seed"), (dict(seeds=[1, 1]), "duplicates"), (dict(seeds=[-1]), "seeds"),
    (dict(n_jobs=0), "n_jobs"),
])
def test_run_demo_validates(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        demo.run_demo(tmp_path / "o", **kw)
    assert not (tmp_path / "o").exists()


def test_out_must_be_a_folder(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        demo.run_demo(f, runs=[(0.05, 1)], sweep=False, figures=False)


def test_run_summary_needs_a_test_set():
    d = ns.datasets.moons()
    h = ns.train(ns.presets.moons_net(), d.X_train, d.y_train, lr=0.05, epochs=1)
    with pytest.raises(ValueError, match="test set"):
        demo.run_summary(h)
    with pytest.raises(ValueError, match="History"):
        demo.run_summary({"lr": 1})


def test_demo_seed_sets_weights_and_shuffling_so_a_sweep_run_replays(tmp_path):
    res = demo.run_demo(tmp_path, runs=[(0.05, 3)], seed=2, seeds=3, figures=False)
    g = res.sweep[res.sweep["seed"] == 2]
    np.testing.assert_array_equal(res.runs[0].history.test_acc, g["test_acc"].to_numpy())
    np.testing.assert_array_equal(res.runs[0].history.train_loss,
                                  g["train_loss"].to_numpy())
    s = res.summary["settings"]
    assert s["init_seed"] == s["shuffle_seed"] == 2
    assert "so these runs are sweep run 2" in (tmp_path / "summary.md").read_text()


def test_the_late_jump_run_is_picked_by_its_rule_and_replayed(tmp_path):
    res = demo.run_demo(tmp_path, runs=[(0.01, 30)], seeds=10, dpi=40)
    late = res.summary["late_jump"]
    # the rule, applied here independently: of the runs at 100% after the last epoch,
    # the one that first got there latest
    df = res.sweep
    best = None
    for seed, g in df.groupby("seed"):
        acc = g.sort_values("epoch")["test_acc"].to_numpy()
        if acc[-1] >= 1.0:
            first = int(np.flatnonzero(acc >= 1.0)[0])
            if best is None or first > best[1]:
                best = (seed, first, acc)
    assert best is not None, "no run reached 100%: pick other test sizes"
    assert (late["seed"], late["first_epoch_100_test"]) == best[:2]
    assert late["plateau_median_test_acc"] == float(np.median(best[2][1:best[1]]))
    assert late["replay_matches_sweep"] is True
    assert late["candidates"] == int((df[df["epoch"] == 30]["test_acc"] >= 1.0).sum())
    md = (tmp_path / "summary.md").read_text()
    assert f"picks sweep run {late['seed']}" in md and "chosen by a fixed rule" in md
    assert f"`neurosim demo --seed {late['seed']}` replays it" in md
    assert (tmp_path / "lr0.01_late_jump.png").read_bytes()[:4] == b"\x89PNG"
    assert "lr0.01_late_jump.png" in res.summary["figures"]


def test_late_jump_is_none_when_no_run_ends_at_100_percent():
    import pandas as pd
    df = pd.DataFrame({"topology": "moons", "lr": 0.01, "seed": [0, 0, 1, 1],
                       "epoch": [0, 1, 0, 1], "train_loss": 0.5, "train_acc": 0.5,
                       "test_loss": 0.5, "test_acc": [0.5, 0.9, 0.5, 0.8],
                       "train_time": 0.0, "diverged": False})
    assert demo.late_jump(df) is None
    df.loc[1, "test_acc"] = 1.0
    assert demo.late_jump(df)["seed"] == 0
    assert demo.late_jump(df, lr=0.5) is None


def test_penalty_study_is_what_train_and_the_sweep_give(result):
    """The L2 part of the demo: each λ's drawn run is ns.train with that l2; its λ = 0
    sweep rows are the main seed sweep's numbers (same engine, seeds); a λ > 0 keeps the
    non-bias weights smaller than λ = 0 did."""
    st = result.penalty
    assert st.l2s == [0.0, *demo.PENALTY_L2S] and st.lr == 0.05
    assert st.histories[0.0] is next(r.history for r in result.runs if r.lr == 0.05)
    d = ns.datasets.moons()
    net0 = ns.presets.moons_net()
    for l2 in demo.PENALTY_L2S:
        h = ns.train(net0.copy(), d.X_train, d.y_train, lr=0.05, epochs=RUNS[1][1],
                     seed=ns.presets.MOONS_SEED, X_test=d.X_test, y_test=d.y_test, l2=l2)
        np.testing.assert_array_equal(st.histories[l2].weights, h.weights)
        assert h.penalty[-1] > 0
    big = demo.largest_weight(st.histories[max(st.l2s)].weights, net0)
    none = demo.largest_weight(st.histories[0.0].weights, net0)
    assert big[-1] < none[-1]
    assert [(r["lr"], r["l2"]) for r in st.rows] == [(lr, l2) for lr, _ in RUNS
                                                      for l2 in st.l2s]
    sw = demo.sweep_summary(result.sweep)
    for r in st.rows:
        assert r["seeds"] == SEEDS
        if r["l2"] == 0.0:
            ref = next(x for x in sw if x["lr"] == r["lr"])
            assert r["at_100_final"] == ref["at_100_final"]
            assert r["collapsed_final"] == ref["collapsed_final"]
            assert r["median_final_test_acc"] == ref["median_final_test_acc"]
            assert r["median_final_penalty"] == 0.0
        else:
            assert r["median_final_penalty"] > 0.0
    s = json.loads((result.out / "summary.json").read_text())
    assert s["penalty"]["sweep"] == st.rows
    md = (result.out / "summary.md").read_text()
    assert "## The L2 penalty" in md and demo.penalty_table(st.rows) in md


def test_largest_weight_skips_the_biases():
    net = ns.presets.moons_net()
    assert (net.src == net.bias).any() and net.src[0] != net.bias and net.src[1] != net.bias
    W = np.zeros((2, net.n_edges))
    W[:, net.src == net.bias] = -9.0              # biases: not what the penalty acts on
    W[0, 0], W[1, 1] = -2.0, 3.0
    np.testing.assert_array_equal(demo.largest_weight(W, net), [2.0, 3.0])


def test_cli_no_penalty_skips_it(tmp_path, capsys):
    rc = main(["demo", "--out", str(tmp_path), "--runs", "0.05:1", "--seeds", "2",
               "--no-figures", "--no-progress", "--no-penalty"])
    assert rc == 0
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["penalty"] is None and "L2 penalty" not in capsys.readouterr().out
