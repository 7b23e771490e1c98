"""Sweeps: the tidy table, its summaries and plot, and parallel runs (loky, Dask)."""
import numpy as np
import pandas as pd
import pytest

import neurosim as ns
from neurosim.plots import plot_sweep
from neurosim.sweeps import COLUMNS, per_run, summarize


@pytest.fixture(scope="module")
def data():
    return ns.datasets.moons(n_samples=96, seed=3)


def _moons(seed):
    return ns.presets.moons_net(seed=seed)


def _sweep(data, **kw):
    args = dict(lrs=[0.05, 0.5], seeds=[0, 1], epochs=3, X_test=data.X_test,
                y_test=data.y_test)
    args.update(kw)
    return ns.sweep(_moons, data.X_train, data.y_train, **args)


def test_table_is_tidy_and_matches_train(data):
    df = _sweep(data)
    assert list(df.columns) == COLUMNS
    assert len(df) == 2 * 2 * 4                     # lrs x seeds x (epochs + 1)
    assert set(df["topology"]) == {"_moons"}
    assert not df.duplicated(["topology", "lr", "seed", "epoch"]).any()
    assert (df.loc[df.epoch == 0, "train_time"] == 0).all()
    assert (df.loc[df.epoch > 0, "train_time"] > 0).all()
    # one run by hand: the seed sets both the initial weights and the shuffling
    net = ns.presets.moons_net(seed=1)
    h = ns.train(net, data.X_train, data.y_train, lr=0.5, epochs=3, seed=1,
                 X_test=data.X_test, y_test=data.y_test)
    run = df[(df.lr == 0.5) & (df.seed == 1)].sort_values("epoch")
    np.testing.assert_array_equal(run["train_loss"], h.train_loss)
    np.testing.assert_array_equal(run["test_acc"], h.test_acc)
    np.testing.assert_array_equal(run["train_time"].to_numpy()[1:] > 0, True)
    # a different seed is a different run
    other = df[(df.lr == 0.5) & (df.seed == 0)].sort_values("epoch")
    assert not np.array_equal(other["train_loss"], run["train_loss"])


def test_topologies_by_name_sizes_and_dict(data):
    df = ns.sweep({"moons": "moons", "small": [2, 3, 1], "f": _moons}, data.X_train,
                  data.y_train, lrs=0.1, seeds=[4], epochs=1)
    assert list(dict.fromkeys(df["topology"])) == ["moons", "small", "f"]
    assert df["test_acc"].isna().all()          # no test set
    a = df[df.topology == "moons"]["train_loss"].to_numpy()
    b = df[df.topology == "f"]["train_loss"].to_numpy()
    np.testing.assert_array_equal(a, b)         # same preset, same seed
    one = ns.sweep([2, 3, 1], data.X_train, data.y_train, lrs=[0.1], seeds=[4], epochs=1,
                   topology_name="tiny")
    assert set(one["topology"]) == {"tiny"}
    np.testing.assert_array_equal(one["train_loss"], df[df.topology == "small"]["train_loss"])


def test_divergence_is_recorded():
    X = np.array([[1.0, 1.0], [2.0, -1.0], [-3.0, 2.0]]) * 50
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) * 50
    df = ns.sweep("four-neuron", X, y, lrs=[1e-6, 5.0], seeds=[0], epochs=6)
    big = df[df.lr == 5.0].sort_values("epoch")
    assert big["diverged"].iloc[-1] and not big["diverged"].iloc[0]
    first = int(big.loc[big.diverged, "epoch"].min())
    assert len(big) == 7 and first <= 6
    assert big["train_time"].iloc[first + 1:].isna().all()
    assert not df[df.lr == 1e-6]["diverged"].any()
    assert per_run(df, which="train").set_index("lr").loc[5.0, "diverged"]


def test_summarize_by_hand():
    rows = []
    accs = {0: [0.5, 0.5, 0.5, 0.5], 1: [1.0, 0.9, 1.0, 0.7]}
    for seed in range(4):
        for ep in (0, 1):
            rows.append(dict(topology="t", lr=0.1, seed=seed, epoch=ep, train_loss=1.0,
                             train_acc=0.0, test_loss=float(seed), test_acc=accs[ep][seed],
                             train_time=0.0, diverged=seed == 3 and ep == 1))
    df = pd.DataFrame(rows)
    s = summarize(df, acc=1.0).set_index("epoch")
    assert s.loc[1, "frac_reached"] == 0.5        # seeds 0 and 2 at 100%
    assert s.loc[0, "frac_reached"] == 0.0
    assert s.loc[1, "median_acc"] == pytest.approx(0.95)
    assert s.loc[1, "lo_acc"] == pytest.approx(np.percentile([1, .9, 1, .7], 10))
    assert s.loc[1, "hi_acc"] == pytest.approx(1.0)
    assert s.loc[1, "median_loss"] == pytest.approx(1.5)
    assert s.loc[1, "frac_diverged"] == 0.25 and s.loc[1, "n_runs"] == 4
    assert summarize(df, acc=0.9).set_index("epoch").loc[1, "frac_reached"] == 0.75
    r = per_run(df, acc=0.9).set_index("seed")
    assert r.loc[0, "first_epoch"] == 1 and np.isnan(r.loc[3, "first_epoch"])
    assert r.loc[3, "diverged"] and not r.loc[0, "diverged"]


def test_plot_sweep(data, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    df = _sweep(data)
    axes = plot_sweep(df)
    assert len(axes) == 2
    assert len(axes[0].get_lines()) == 2 and len(axes[1].get_lines()) == 2
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(),
                               summarize(df).query("lr == 0.05")["median_acc"])
    axes[0].figure.savefig(tmp_path / "sweep.png")
    fig, one = plt.subplots()
    assert plot_sweep(df, ax=one) is one
    plt.close("all")


def test_progress_bar(data, capsys):
    _sweep(data, seeds=[0], lrs=[0.1], epochs=1, progress=True)
    assert "sweep" in capsys.readouterr().err
    _sweep(data, seeds=[0], lrs=[0.1], epochs=1)
    assert "sweep" not in capsys.readouterr().err


def test_loky_processes_match_serial(data):
    serial = _sweep(data)
    par = _sweep(data, n_jobs=2, backend="loky")
    pd.testing.assert_frame_equal(serial.drop(columns="train_time"),
                                  par.drop(columns="train_time"))


def test_dask_local_cluster(data):
    distributed = pytest.importorskip("distributed")
    import joblib
    serial = _sweep(data)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as ts:
            with joblib.parallel_backend("dask"):
                par = _sweep(data)
        assert len(ts.data) > 0                       # tasks really ran on the cluster
        workers = {t["worker"] for t in ts.data}
        assert workers <= set(client.scheduler_info()["workers"])
        par2 = _sweep(data, backend="dask")
    for p in (par, par2):
        pd.testing.assert_frame_equal(serial.drop(columns="train_time"),
                                      p.drop(columns="train_time"))


def test_cuda_many_networks_matches_cpu():
    pytest.importorskip("neurosim.backends.cuda")      # a GPU, or Numba's CUDA simulator (conftest)
    d = ns.datasets.xor(n_samples=8, seed=1)      # tiny: the simulator is slow
    kw = dict(lrs=[0.1, 0.5], seeds=[3], epochs=1, X_test=d.X_test, y_test=d.y_test)
    cpu = ns.sweep([2, 2, 1], d.X_train, d.y_train, **kw)
    gpu = ns.sweep([2, 2, 1], d.X_train, d.y_train, device="cuda", **kw)
    assert list(gpu.columns) == COLUMNS and len(gpu) == len(cpu)
    for c in ("topology", "lr", "seed", "epoch", "diverged"):
        pd.testing.assert_series_equal(cpu[c], gpu[c])
    for c in ("train_loss", "test_loss", "train_acc", "test_acc"):
        np.testing.assert_allclose(gpu[c], cpu[c], rtol=1e-9, atol=1e-12, err_msg=c)
    assert (gpu.loc[gpu.epoch > 0, "train_time"] > 0).all()
