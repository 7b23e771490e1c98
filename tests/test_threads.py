"""Kernels release the GIL (threads train side by side, same bits as one after the other);
long epochs run as short kernel calls (same bits), so Ctrl-C is seen within a second and
leaves the network at its last whole epoch."""
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import neurosim as ns
from neurosim.backends import cpu
from reference import random_dag, random_targets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _data(n=40, seed=0):
    d = ns.datasets.moons(n_samples=n)
    return d.X_train, d.y_train


def test_two_threads_give_the_results_of_one_after_the_other():
    X, y = _data(400)
    seq = [ns.presets.moons_net(seed=s) for s in (1, 2)]
    par = [n.copy() for n in seq]
    hs = [ns.train(n, X, y, epochs=3, seed=s) for n, s in zip(seq, (1, 2))]
    out = {}

    def run(i):
        out[i] = ns.train(par[i], X, y, epochs=3, seed=i + 1)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(2):
        np.testing.assert_array_equal(par[i].weights, seq[i].weights)
        np.testing.assert_array_equal(out[i].train_loss, hs[i].train_loss)


@pytest.mark.parametrize("batch,record", [(1, None), (3, None), (1, ["h0", "o0"]),
                                          (4, ["h1"])])
def test_an_epoch_cut_into_short_calls_gives_the_same_bits(batch, record, monkeypatch):
    net = random_dag(3, loss="quadratic", activation="tanh")
    X = np.random.default_rng(0).normal(0, 1, (23, 2))
    T = random_targets(net, 23, 1)
    whole = net.copy()
    h1 = ns.train(whole, X, T, epochs=2, batch_size=batch, record=record, seed=4)
    monkeypatch.setattr(cpu, "PIECE_SECONDS", 1e-12)       # one step (or batch) per call
    cut = net.copy()
    h2 = ns.train(cut, X, T, epochs=2, batch_size=batch, record=record, seed=4)
    np.testing.assert_array_equal(cut.weights, whole.weights)
    np.testing.assert_array_equal(h2.train_loss, h1.train_loss)
    if record:
        for nm in record:
            np.testing.assert_array_equal(h2.records[nm]["delta"], h1.records[nm]["delta"])
        np.testing.assert_array_equal(h2.records.error, h1.records.error)


def test_ctrl_c_inside_an_epoch_leaves_the_last_whole_epoch(monkeypatch):
    X, y = _data(200)
    ref = ns.presets.moons_net()
    ns.train(ref, X, y, epochs=2, seed=0)                  # two whole epochs
    net = ns.presets.moons_net()
    monkeypatch.setattr(cpu, "PIECE_SECONDS", 1e-12)
    calls = {"n": 0}
    orig = cpu.Trainer._run

    def run(self, *a):
        calls["n"] += 1
        if calls["n"] == 1 + 2 * len(X) + 10:              # compile, 2 epochs, 10 steps in
            raise KeyboardInterrupt
        return orig(self, *a)

    monkeypatch.setattr(cpu.Trainer, "_run", run)
    with pytest.raises(KeyboardInterrupt):
        ns.train(net, X, y, epochs=5, seed=0)
    np.testing.assert_array_equal(net.weights, ref.weights)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_is_seen_within_a_second_in_a_long_epoch():
    code = ("import time, numpy as np, neurosim as ns\n"
            "net = ns.Network.layered([2, 384, 384, 1], hidden='relu', output='sigmoid',"
            " loss='bce', seed=0)\n"
            "X = np.random.default_rng(0).normal(size=(40000, 2)); y = (X[:, 0] > 0) * 1.0\n"
            "ns.train(net, X[:2], y[:2], epochs=1)\n"              # compile first
            "print('ready', flush=True)\n"
            "try:\n"
            "    ns.train(net, X, y, epochs=4)\n"          # seconds: not done before Ctrl-C
            "    print('finished')\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted', flush=True)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                         cwd=ROOT)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    t0 = time.perf_counter()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    late = time.perf_counter() - t0
    assert out.strip() == "interrupted"                     # not 'finished': the epoch is long
    assert late < 2.0, f"KeyboardInterrupt seen {late:.1f} s after Ctrl-C"
