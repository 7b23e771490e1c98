"""The benchmark runs (``--quick``, tiny sizes) so it cannot rot; its agreement check works."""
import json
import os
import sys

import numpy as np
import pytest

import neurosim as ns

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import bench  # noqa: E402  (bench/bench.py: developer tooling, not part of the package)


def test_quick_bench_writes_tables_plot_and_passes_the_agreement_check(tmp_path):
    res = bench.run(quick=True, out=str(tmp_path), repeats=1, log=lambda *a: None)
    files = {p.name for p in tmp_path.iterdir()}
    assert {"RESULTS.md", "results.json", "cups.png"} <= files
    assert (tmp_path / "cups.png").stat().st_size > 5000
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["rows"] == json.loads(json.dumps(res["rows"]))
    timed = [r for r in res["rows"] if "us_per_step" in r]
    assert {r["workload"] for r in timed} == {w.name for w in bench.workloads(quick=True)}
    for r in timed:
        assert r["us_per_step"] > 0 and r["us_min"] <= r["us_per_step"] <= r["us_max"]
        assert r["cups"] == pytest.approx(r["weights"] * r["steps"] / (r["us_per_step"] *
                                                                      1e-6 * r["steps"]))
    systems = {r["system"] for r in timed}
    assert {"neurosim", "numpy", "numba dense"} <= systems
    # under the test suite's CUDA simulator the GPU column must say so, never time it
    cuda = [r for r in res["rows"] if r["system"] == "neurosim CUDA"]
    assert cuda and all("no GPU" in r["note"] for r in cuda)
    # the agreement check ran on every comparable system and passed
    checked = [r for r in timed if r["agree"] is not None and r["system"] != "neurosim"]
    names = {w.name for w in bench.workloads(quick=True)}
    assert {r["workload"] for r in checked if r["system"] == "numpy"} == names
    # the dense Numba loop runs unmasked on the pruned net, so it is only checked elsewhere
    assert {r["workload"] for r in checked if r["system"] == "numba dense"} >= names - {"sparse"}
    if any(r["system"] == "torch" for r in timed):
        assert {r["workload"] for r in checked if r["system"] == "torch"} == names
    assert res["agreement_ok"] is True
    assert all(r["agree"] <= bench.AGREE_TOL for r in checked)
    md = (tmp_path / "RESULTS.md").read_text()
    assert "| workload | weights | steps | system | µs / step |" in md
    assert "Agreement check" in md and "passed" in md and "cups.png" in md
    assert res["train_check"]["ratio"] > 0
    assert {r["learner"] for r in res["slow"]["learners"]} == {"gradient descent",
                                                                "slow learner"}
    assert "| target | measured | met |" in md


def test_dense_view_round_trips_the_edge_list():
    for net in (ns.presets.moons_net(), bench.sparse_layered([2, 8, 8, 1], keep=0.3)):
        d = bench.Dense(net)
        w = np.random.default_rng(0).normal(size=net.n_edges)
        d.set(w)
        np.testing.assert_array_equal(d.edges(), w)
    sparse = bench.Dense(bench.sparse_layered([2, 8, 8, 1], keep=0.3))
    assert sparse.M[0] is None and sparse.M[1] is not None and sparse.M[2] is None
    with pytest.raises(ValueError, match="layered"):
        bench.Dense(ns.Network.from_edges(["XA", "AP", "XP"], inputs=["X"], outputs=["P"],
                                          activation="relu", loss="bce"))


def test_agreement_check_can_fail():
    # negative control: the same comparison flags a peer that trained differently
    wl = bench.workloads(quick=True)[0]
    w0 = wl.net.weights.copy()
    _, ref = bench.run_neurosim(wl, w0)
    _, same = bench.run_numpy(wl, w0, bench.Dense(wl.net))
    assert np.max(np.abs(same - ref)) <= bench.AGREE_TOL
    wl.lr *= 1.001
    _, off = bench.run_numpy(wl, w0, bench.Dense(wl.net))
    assert np.max(np.abs(off - ref)) > bench.AGREE_TOL


def test_cli_usage():
    assert "Usage:" in bench.__doc__ and "--quick" in bench.__doc__
    for argv in (["--repeats", "0"], ["--quick", "--only", "w256"],   # not a quick workload
                 ["--skip", "tensorflow"]):
        with pytest.raises(SystemExit):
            bench.main(argv)


def test_plot_leaves_the_matplotlib_backend_alone(tmp_path):
    import matplotlib
    before = matplotlib.get_backend()
    matplotlib.use("svg")                  # anything but Agg, which the suite runs under
    try:
        rows = [dict(system="neurosim", workload="chapter", weights=37, cups=3e8),
                dict(system="numpy", workload="chapter", weights=37, cups=2e6)]
        bench.plot(rows, tmp_path / "c.png")
        assert (tmp_path / "c.png").stat().st_size > 5000
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


def test_missing_torch_drops_the_column_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "torch_version", lambda: None)
    res = bench.run(quick=True, out=str(tmp_path), repeats=1, only={"chapter"},
                    skip={"sklearn", "slow", "train"}, log=lambda *a: None)
    torch_rows = [r for r in res["rows"] if r["system"] == "torch"]
    assert len(torch_rows) == 1 and "not installed" in torch_rows[0]["note"]
    assert "us_per_step" not in torch_rows[0] and res["agreement_ok"] is True
    assert "torch not installed" in (tmp_path / "RESULTS.md").read_text()
