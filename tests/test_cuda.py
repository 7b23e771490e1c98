"""The CUDA variant under Numba's CUDA simulator (tests/conftest.py enables it before numba is
imported): every mode against the CPU kernels and the naive reference, on tiny random DAGs
with skip connections, with blocks patched small so launches span several blocks. The
device-neutral tests (the four-neuron net by hand, the reference on random DAGs, an SGD
epoch) run once per device in tests/test_core.py."""
import os
import subprocess
import sys

import numpy as np
import pytest

from hypothesis import given, settings, strategies as st

import neurosim as ns
from neurosim import config
from reference import LOSSES, forward_backward, random_dag, random_targets

# the simulator in CI (conftest.py), a real GPU where there is one; else skip the module
nc = pytest.importorskip("neurosim.backends.cuda", reason="CUDA cannot be used here")

DTYPES = [np.float64, np.float32]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tol(dtype):
    """CPU vs CUDA: float64 to ~1e-12 relative, float32 to float32 rounding."""
    return (dict(rtol=1e-12, atol=1e-14) if np.dtype(dtype) == np.float64
            else dict(rtol=2e-5, atol=2e-6))


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Two threads per block and at most three blocks: levels of 3+ neurons span several
    blocks, and wider ones make the kernels' grid-stride loops go round."""
    monkeypatch.setattr(config, "THREADS_PER_BLOCK", 2)
    monkeypatch.setattr(config, "MAX_BLOCKS", 3)
    monkeypatch.setattr(config, "BLOCK_THREADS", 2)


@pytest.fixture(autouse=True)
def fast_barriers():
    """The simulator's block runner polls its threads while they wait at a barrier; with
    Python's default 5 ms GIL switch interval every cuda.syncthreads() costs milliseconds."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(5e-5)
    yield
    sys.setswitchinterval(old)


MODES = {  # Trainer mode -> (SGD_BLOCK_MAX_EDGES, batch_size)
    "block": (10**9, 1), "sgd-levels": (0, 1),
    "block-batch": (10**9, 3), "minibatch-levels": (0, 3)}


@pytest.fixture
def use_mode(monkeypatch):
    """Select a Trainer mode and record which modes the epochs really ran."""
    seen = []
    orig = nc.Trainer.epoch

    def spy(self, *a, **k):
        orig(self, *a, **k)
        seen.append(self.mode)

    monkeypatch.setattr(nc.Trainer, "epoch", spy)

    def set_mode(mode):
        monkeypatch.setattr(config, "SGD_BLOCK_MAX_EDGES", MODES[mode][0])
        return MODES[mode][1]

    set_mode.seen = seen
    return set_mode


def data(net, n, seed):
    X = np.random.default_rng(seed).normal(0, 1, (n, net.n_inputs))
    return X, random_targets(net, n, seed + 1)


def n_out_for(loss, seed):
    return 1 + seed % 2 if loss == "bce" else 2


# -- structure ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_levels_are_topological(seed):
    net = random_dag(seed, n_in=3, n_hidden=7, n_out=2, p_edge=0.5)
    ptr, node = nc.levels(net)
    assert sorted(node) == list(range(net.n_neurons))
    lev = np.empty(net.n_neurons, dtype=np.int64)
    for L in range(len(ptr) - 1):
        assert ptr[L + 1] > ptr[L]                        # no empty level
        lev[node[ptr[L]:ptr[L + 1]]] = L
    assert set(node[ptr[0]:ptr[1]]) == set(range(net.first))   # inputs and bias
    assert np.all(lev[net.src] < lev[net.dst])            # neurons of a level are independent


def test_hidden_neuron_without_inputs():
    """A neuron fed by no edge has z = 0 (level 1, like every neuron after the bias)."""
    net = ns.Network.from_edges([("h", "o", 0.5), ("x", "o", 0.3), ("x", "g", -0.4),
                                 ("g", "o", 0.7)], inputs=["x"], outputs=["o"],
                                hidden=["h", "g"], activation="sigmoid")
    cpu, gpu = net.copy(), net.copy()
    np.testing.assert_allclose(ns.forward(gpu, [2.0], device="cuda"), ns.forward(cpu, [2.0]),
                               rtol=1e-15)
    assert gpu.output("h") == 0.5
    ns.train(cpu, [[1.0], [-1.0]], [0.2, 0.9], lr=0.5, epochs=2)
    ns.train(gpu, [[1.0], [-1.0]], [0.2, 0.9], lr=0.5, epochs=2, device="cuda")
    np.testing.assert_allclose(gpu.weights, cpu.weights, rtol=1e-12)


def test_automatic_launch_configuration(monkeypatch):
    monkeypatch.setattr(config, "BLOCK_THREADS", None)
    monkeypatch.setattr(config, "THREADS_PER_BLOCK", 128)
    monkeypatch.setattr(config, "MAX_BLOCKS", 65535)
    moons = nc._topology(ns.presets.moons_net())
    assert nc._block_threads(moons) == 32                  # widest level 4 -> one warp
    wide = nc._topology(ns.Network.layered([2, 300, 1]))
    assert nc._block_threads(wide) == config.MAX_BLOCK_THREADS
    assert nc._grid(1) == (1, 128)
    assert nc._grid(4096 * 256) == (8192, 128)
    monkeypatch.setattr(config, "MAX_BLOCKS", 10)
    assert nc._grid(10**6) == (10, 128)                    # grid-stride beyond
    monkeypatch.setattr(config, "BLOCK_THREADS", 96)
    assert nc._block_threads(moons) == 96                  # overridable


# -- one sample: forward, backward, gradient, update ---------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
def test_single_sample_matches_cpu_and_reference(loss, dtype):
    seed = LOSSES.index(loss) + 3
    net = random_dag(seed, n_in=3, n_hidden=6, n_out=n_out_for(loss, seed), loss=loss,
                     dtype=dtype)
    x = np.random.default_rng(seed).normal(0, 1, 3)
    t = random_targets(net, 1, seed)[0]
    cpu, gpu = net.copy(), net.copy()
    o_cpu = ns.forward(cpu, x)
    o_gpu = ns.forward(gpu, x, device="cuda")
    np.testing.assert_allclose(o_gpu, o_cpu, **tol(dtype))
    np.testing.assert_allclose(gpu.z, cpu.z, **tol(dtype))
    np.testing.assert_allclose(gpu.outs, cpu.outs, **tol(dtype))
    E_cpu = ns.backward(cpu, t)
    E_gpu = ns.backward(gpu, t, device="cuda")
    assert E_gpu == pytest.approx(E_cpu, rel=tol(dtype)["rtol"], abs=tol(dtype)["atol"])
    np.testing.assert_allclose(gpu.deltas, cpu.deltas, **tol(dtype))
    grad_gpu = nc.gradient(gpu)
    _, grad_cpu = ns.gradient(cpu.copy(), x, t)
    np.testing.assert_allclose(grad_gpu, grad_cpu, **tol(dtype))
    np.testing.assert_allclose(ns.gradient(gpu.copy(), x, t, device="cuda")[1], grad_cpu,
                               **tol(dtype))
    if dtype == np.float64:                                # and the naive reference
        E_ref, o_ref, d_ref, g_ref = forward_backward(net, x, t)
        assert E_gpu == pytest.approx(E_ref, rel=1e-12)
        for nm in net.neuron_names:
            assert gpu.output(nm) == pytest.approx(o_ref[nm], rel=1e-12, abs=1e-14)
            assert gpu.delta(nm) == pytest.approx(d_ref[nm], rel=1e-9, abs=1e-12)
        ref = np.array([g_ref[(s, d)] for s, d, _ in net.edges()])
        np.testing.assert_allclose(grad_gpu, ref, rtol=1e-10, atol=1e-13)
    ns.update(cpu, 0.3)
    w0 = gpu.weights.copy()
    ns.update(gpu, 0.3, device="cuda")
    assert not np.array_equal(gpu.weights, w0)
    np.testing.assert_allclose(gpu.weights, cpu.weights, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_predict_matches_cpu_in_chunks(dtype, monkeypatch):
    monkeypatch.setattr(config, "PREDICT_CHUNK", 4)        # 11 samples: chunks 4, 4, 3
    net = random_dag(5, n_in=2, n_hidden=5, n_out=3, loss="softmax_ce", dtype=dtype)
    X, _ = data(net, 11, 0)
    np.testing.assert_allclose(ns.predict(net, X, device="cuda"), ns.predict(net, X),
                               **tol(dtype))
    np.testing.assert_allclose(ns.predict_proba(net, X, device="cuda").sum(1), 1.0,
                               rtol=1e-5)


@pytest.mark.parametrize("loss", LOSSES)
def test_evaluate_matches_cpu(loss):
    net = random_dag(6, n_in=2, n_hidden=4, n_out=n_out_for(loss, 6), loss=loss)
    X, T = data(net, 9, 2)
    E_gpu, acc_gpu = ns.evaluate(net, X, T, device="cuda")
    E_cpu, acc_cpu = ns.evaluate(net, X, T)
    assert E_gpu == pytest.approx(E_cpu, rel=1e-12) and E_cpu > 0
    assert acc_gpu == acc_cpu
    with pytest.raises(ValueError, match="device"):
        ns.evaluate(net, X, T, device="gpu")


# -- training one network: every mode, loss and dtype -----------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("mode", list(MODES))
def test_train_matches_cpu(mode, loss, dtype, use_mode):
    batch = use_mode(mode)
    seed = 11 + LOSSES.index(loss)
    net = random_dag(seed, n_in=2, n_hidden=5, n_out=n_out_for(loss, seed), loss=loss,
                     dtype=dtype)
    X, T = data(net, 7, seed)
    cpu, gpu = net.copy(), net.copy()
    h_cpu = ns.train(cpu, X, T, lr=0.2, epochs=2, batch_size=batch, seed=4)
    h_gpu = ns.train(gpu, X, T, lr=0.2, epochs=2, batch_size=batch, seed=4, device="cuda")
    assert use_mode.seen == [mode, mode]
    assert not np.allclose(gpu.weights, net.weights)       # it did learn something
    assert np.all(h_gpu.epoch_time > 0)
    np.testing.assert_allclose(gpu.weights, cpu.weights, **tol(dtype))
    np.testing.assert_allclose(h_gpu.weights, h_cpu.weights, **tol(dtype))
    np.testing.assert_allclose(h_gpu.train_loss, h_cpu.train_loss, rtol=1e-5)


@pytest.mark.parametrize("mode", ["sgd-levels", "minibatch-levels", "block"])
def test_wide_layers_span_blocks(mode, use_mode, monkeypatch):
    """Levels of 9 and 6 neurons with 2 threads per block and at most 3 blocks."""
    batch = use_mode(mode)
    net = ns.Network.layered([3, 9, 6, 2], hidden="tanh", output="identity", seed=2,
                             scale=0.5)
    X, T = data(net, 8, 3)
    cpu, gpu = net.copy(), net.copy()
    ns.train(cpu, X, T, lr=0.1, epochs=1, batch_size=batch)
    ns.train(gpu, X, T, lr=0.1, epochs=1, batch_size=batch, device="cuda")
    assert use_mode.seen == [mode]
    np.testing.assert_allclose(gpu.weights, cpu.weights, **tol(np.float64))


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10**6), loss=st.sampled_from(LOSSES), threads=st.integers(1, 5),
       blocks=st.integers(1, 4), batch=st.sampled_from([1, 2, 5]), one_block=st.booleans(),
       f32=st.booleans())
def test_any_launch_configuration_gives_the_cpu_result(seed, loss, threads, blocks, batch,
                                                       one_block, f32):
    dtype = np.float32 if f32 else np.float64
    net = random_dag(seed, n_in=2, n_hidden=4, n_out=n_out_for(loss, seed), loss=loss,
                     dtype=dtype)
    X, T = data(net, 6, seed % 1000)
    saved = {k: getattr(config, k) for k in ("THREADS_PER_BLOCK", "MAX_BLOCKS",
                                             "BLOCK_THREADS", "SGD_BLOCK_MAX_EDGES")}
    try:
        config.THREADS_PER_BLOCK, config.MAX_BLOCKS, config.BLOCK_THREADS = threads, blocks, \
            threads
        config.SGD_BLOCK_MAX_EDGES = 10**9 if one_block else 0
        cpu, gpu = net.copy(), net.copy()
        ns.train(cpu, X, T, lr=0.1, epochs=1, batch_size=batch, seed=seed)
        ns.train(gpu, X, T, lr=0.1, epochs=1, batch_size=batch, seed=seed, device="cuda")
    finally:
        for k, v in saved.items():
            setattr(config, k, v)
    np.testing.assert_allclose(gpu.weights, cpu.weights, **tol(dtype))


def test_train_state_compiles_without_touching_the_weights(use_mode):
    """Trainer compiles its kernels on empty work up front (epoch times exclude JIT),
    and that leaves the network and the device weights alone."""
    batch = use_mode("sgd-levels")
    net = random_dag(4, n_in=2, n_hidden=4, n_out=2, loss="quadratic")
    X, T = data(net, 5, 0)
    w0 = net.weights.copy()
    st = nc.Trainer(net, X, T, batch)
    assert st.compile_time > 0
    np.testing.assert_array_equal(st.weights(), w0)
    np.testing.assert_array_equal(net.weights, w0)
    st.epoch(np.arange(5), 0.1)
    st.sync_weights()
    ref = net.copy()
    ref.weights[:] = w0
    ns.train(ref, X, T, lr=0.1, epochs=1, shuffle=False)
    np.testing.assert_allclose(net.weights, ref.weights, rtol=1e-12)


def _relu_net(dtype=np.float64):
    """Relu outputs and targets 0: samples with z < 0 at both outputs have error exactly 0."""
    return ns.Network.from_edges(
        [("x0", "h", 0.8), ("x1", "h", -0.5), ("bias", "h", 0.1), ("h", "o0", 0.9),
         ("x0", "o0", -0.7), ("bias", "o0", -0.3), ("h", "o1", -0.6), ("x1", "o1", 0.4),
         ("bias", "o1", -0.2)],
        inputs=["x0", "x1"], outputs=["o0", "o1"], activation="relu",
        output_activation="relu", loss="quadratic", bias="bias", dtype=dtype)


@pytest.mark.parametrize("mode", list(MODES))
def test_skip_zero_error_matches_cpu(mode, use_mode):
    batch = use_mode(mode)
    net = _relu_net()
    X = np.random.default_rng(0).normal(0, 1, (8, 2))
    T = np.zeros((8, 2))
    T[::3] = 0.5
    cpu, gpu, plain = net.copy(), net.copy(), net.copy()
    ns.train(plain, X, T, lr=0.2, epochs=2, batch_size=batch)
    ns.train(cpu, X, T, lr=0.2, epochs=2, batch_size=batch, skip_zero_error=True)
    ns.train(gpu, X, T, lr=0.2, epochs=2, batch_size=batch, skip_zero_error=True,
             device="cuda")
    errors = [ns.step(net.copy(), x, t, 1e-9) for x, t in zip(X, T)]
    assert 0 < errors.count(0.0) < len(errors)             # there is something to skip
    if batch > 1:   # per sample, a zero error means zero gradients: skipping changes nothing
        assert not np.allclose(plain.weights, cpu.weights)  # batches count unskipped samples
    # minibatches that skip samples are filled on the device, in the one-block kernel
    assert use_mode.seen == [mode if batch == 1 else "block-batch"] * 2
    np.testing.assert_allclose(gpu.weights, cpu.weights, **tol(np.float64))


# -- many networks at once ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
def test_train_many_matches_cpu_per_network(loss, dtype):
    seed = 21 + LOSSES.index(loss)
    make = lambda: random_dag(seed, n_in=2, n_hidden=4, n_out=n_out_for(loss, seed),  # noqa
                              loss=loss, dtype=dtype)
    base = make()
    X, T = data(base, 5, seed)
    Xt, Tt = data(base, 3, seed + 7)
    W = base.weights[None, :] + np.random.default_rng(seed).normal(0, 0.3, (3, base.n_edges))
    lrs = [0.05, 0.2, 0.5]
    h = ns.train_many(base, X, T, lr=lrs, epochs=2, weights=W, seed=9, X_test=Xt,
                      y_test=Tt, device="cuda")
    assert h.weights.shape == (3, base.n_edges) and h.train_loss.shape == (3, 3)
    assert np.array_equal(base.weights, make().weights)     # the template is untouched
    for k in range(3):
        net = base.copy()
        net.weights[:] = W[k]
        hk = ns.train(net, X, T, lr=lrs[k], epochs=2, seed=9, X_test=Xt, y_test=Tt)
        np.testing.assert_allclose(h.weights[k], net.weights, **tol(dtype))
        np.testing.assert_allclose(h.train_loss[k], hk.train_loss, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(h.train_acc[k], hk.train_acc)
        np.testing.assert_allclose(h.test_loss[k], hk.test_loss, rtol=1e-5, atol=1e-7)
    assert np.all(h.diverged_epoch == -1) and h.cups > 0
    assert not np.allclose(h.weights, W)


def test_train_many_list_minibatch_seeds_and_divergence():
    """A list of nets (updated in place), minibatches, one shuffle seed per network, and one
    learning rate large enough to diverge, as train() reports it."""
    nets = [ns.Network.layered([2, 3, 1], hidden="identity", output="identity", seed=s,
                               scale=0.5) for s in (0, 1, 2)]
    X = np.random.default_rng(0).normal(0, 3, (7, 2))
    T = X[:, :1] * 40.0
    lrs, seeds = [0.002, 0.001, 1.0], [5, 6, 7]
    refs = []
    for net, lr, s in zip(nets, lrs, seeds):
        c = net.copy()
        with pytest.warns(RuntimeWarning) if lr > 0.1 else _no_warning():
            hk = ns.train(c, X, T, lr=lr, epochs=3, batch_size=2, seed=s)
        refs.append((c, hk))
    # the simulator runs the kernels as Python, so the diverging network's float64
    # overflow (then inf - inf) is a NumPy RuntimeWarning there (a real GPU just produces
    # inf and NaN)
    with (pytest.warns(RuntimeWarning, match="overflow|invalid value")
          if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" else _no_warning()):
        h = ns.train_many(nets, X, T, lr=lrs, epochs=3, batch_size=2, seed=seeds,
                          keep_weights=True, device="cuda")
    assert h.weights_history.shape == (4, 3, nets[0].n_edges)
    for k, (c, hk) in enumerate(refs):
        if hk.diverged:
            assert h.diverged_epoch[k] == hk.diverged_epoch == 2
            np.testing.assert_allclose(h.weights_history[:2, k], hk.weights[:2], rtol=1e-12)
        else:
            assert h.diverged_epoch[k] == -1
            np.testing.assert_allclose(nets[k].weights, c.weights, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(h.weights_history[:, k], hk.weights, rtol=1e-12)
    assert h.diverged.tolist() == [False, False, True]


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_train_many_checks_its_input():
    a = ns.Network.layered([2, 3, 1], seed=0)
    b = ns.Network.layered([2, 4, 1], seed=0)
    X, T = np.zeros((3, 2)), np.zeros(3)
    with pytest.raises(ValueError, match="topology"):
        ns.train_many([a, b], X, T, device="cuda")
    with pytest.raises(ValueError, match="broadcast"):
        ns.train_many(a, X, T, weights=np.zeros((2, a.n_edges)), lr=[0.1, 0.2, 0.3],
                      device="cuda")
    with pytest.raises(ValueError, match="shape"):
        ns.train_many(a, X, T, weights=np.zeros((2, a.n_edges + 1)), device="cuda")
    with pytest.raises(ValueError, match="learning rate"):
        ns.train_many(a, X, T, lr=[0.1, -1.0], device="cuda")
    with pytest.raises(ValueError, match="seed"):
        ns.train_many(a, X, T, lr=[0.1, 0.2], seed=[1, -2], device="cuda")
    with pytest.raises(ValueError, match="seed"):
        ns.train_many(a, X, T, seed="zero", device="cuda")
    with pytest.raises(ValueError, match="shuffle"):
        ns.train_many(a, X, T, shuffle="no", device="cuda")


# -- without CUDA ------------------------------------------------------------------------------
def _forget_cuda_module(monkeypatch):
    monkeypatch.delitem(sys.modules, "neurosim.backends.cuda", raising=False)
    monkeypatch.delattr(ns.backends, "cuda", raising=False)


def test_no_gpu_gives_a_clear_error(monkeypatch):
    import numba
    from numba import cuda
    _forget_cuda_module(monkeypatch)
    monkeypatch.setattr(numba.config, "ENABLE_CUDASIM", 0)
    monkeypatch.setattr(cuda, "is_available", lambda: False)
    net = ns.presets.moons_net()
    with pytest.raises(ImportError, match="no usable NVIDIA GPU") as info:
        ns.train(net, np.zeros((2, 2)), [0, 1], device="cuda")
    assert "pip install 'neurosim[cuda]'" in str(info.value)
    assert "NUMBA_ENABLE_CUDASIM=1" in str(info.value)
    with pytest.raises(ImportError, match="no usable NVIDIA GPU"):
        ns.forward(net, [0.0, 0.0], device="cuda")
    assert ns.forward(net, [0.0, 0.0]).shape == (1,)      # the CPU path is unaffected


def test_missing_numba_cuda_gives_a_clear_error(monkeypatch):
    _forget_cuda_module(monkeypatch)
    monkeypatch.setitem(sys.modules, "numba.cuda", None)  # "import numba.cuda" fails
    import numba
    monkeypatch.delattr(numba, "cuda", raising=False)
    with pytest.raises(ImportError, match="needs numba-cuda") as info:
        ns.predict(ns.presets.moons_net(), np.zeros((2, 2)), device="cuda")
    assert "pip install 'neurosim[cuda]'" in str(info.value)


def test_cpu_path_never_imports_cuda():
    code = ("import sys, numpy as np, neurosim as ns\n"
            "net = ns.presets.moons_net()\n"
            "X = np.random.default_rng(0).normal(size=(20, 2))\n"
            "ns.train(net, X, (X[:, 0] > 0).astype(float), epochs=2)\n"
            "ns.predict(net, X)\n"
            "bad = [m for m in sys.modules if m.startswith(('numba.cuda', 'numba_cuda.'))\n"
            "       or m in ('neurosim.backends.cuda', 'neurosim.kernels.cuda')]\n"
            "assert 'neurosim.training' in sys.modules\n"
            "print('LOADED', bad)\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "LOADED []" in r.stdout


# -- the real-GPU check script, at tiny sizes on the simulator -----------------------------------
def test_gpu_check_script_runs_tiny_on_the_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gpu_check.py"), "--tiny"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "device: Numba CUDA simulator" in out
    assert "FAIL" not in out
    assert out.count("PASS") >= 8                          # every mode x dtype checked
    for label in ("chapter net, per-sample", "chapter nets at once", "per-sample",
                  "minibatch", "wide"):
        assert label in out
    assert "CUPS" in out and "compile" in out
