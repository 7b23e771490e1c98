"""The kernel planner: the generated per-sample epoch is the general kernel's, bit for bit,
on random DAGs with skip connections for every activation x loss, in float64 and float32."""
import os
import subprocess
import sys

import numpy as np
import pytest

import neurosim as ns
from neurosim.backends import cpu
from neurosim.kernels import cpu as K
from neurosim.kernels import planner
from reference import ACTS, LOSSES, random_dag, random_targets, sgd


def _both(net, X, T, perm, lr, skip):
    w1, w2 = net.weights.copy(), net.weights.copy()
    r1 = K.train_epoch(X, T, perm, net.dtype.type(lr), net.dtype.type(0), 1, skip, net.loss,
                       net.topo, w1, cpu.scratch(net), np.zeros(net.n_edges, net.dtype),
                       cpu.no_record(net))
    r2 = planner.epoch_kernel(net)(X, T, perm, net.dtype.type(lr), skip, w2)
    return (w1, r1), (w2, r2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTS + ["mixed"])
def test_generated_epoch_is_the_general_kernel_bit_for_bit(act, loss, dtype):
    for seed in range(1):
        net = random_dag(seed + 10 * ACTS.index(act) if act in ACTS else seed, loss=loss,
                         activation=None if act == "mixed" else act, n_hidden=6, dtype=dtype)
        X = np.random.default_rng(seed).normal(0, 1, (16, 2)).astype(dtype)
        T = random_targets(net, 16, seed).astype(dtype)
        perm = np.random.default_rng(seed + 1).permutation(16)
        for skip in (False, True):
            (w1, r1), (w2, r2) = _both(net, X, T, perm, 0.1, skip)
            np.testing.assert_array_equal(w1, w2)
            assert r1[1] == r2[1]
            np.testing.assert_array_equal(r1[0], r2[0])
        e1 = K.evaluate(X, T, net.loss, net.topo, w1, cpu.scratch(net))
        e2 = planner.kernels(net).evaluate(X, T, w1, 0.0, 0)
        assert e1[1] == e2[1]
        np.testing.assert_array_equal(e1[0], e2[0])


def test_train_uses_it_and_agrees_with_the_reference():
    net = random_dag(5, loss="quadratic", activation="tanh")
    assert planner.fits(net)
    X = np.random.default_rng(0).normal(0, 1, (10, 2))
    T = random_targets(net, 10, 1)
    ref = sgd(net, X, T, 0.05, np.arange(10))
    tr = cpu.Trainer(net, np.ascontiguousarray(X), np.ascontiguousarray(T), epochs=2000)
    assert tr.planned is not None                       # 20,000 sample steps: planned
    assert planner.loaded(net) and cpu.Trainer(net, X, T, epochs=1).planned is not None
    h = ns.train(net, X, T, lr=0.05, epochs=1, shuffle=False)
    np.testing.assert_allclose(net.weights, ref, rtol=1e-12, atol=1e-14)
    assert h.epochs == 1


def test_large_networks_and_minibatches_run_the_general_kernels():
    big = ns.Network.layered([2, 16, 16, 1], hidden="relu", output="sigmoid", loss="bce")
    assert big.n_edges > planner.MAX_EDGES and planner.shape(big) == "loops"
    X = np.zeros((4, 2))
    T = np.zeros((4, 1))
    if not planner.loaded(big):                # 1.3e9 edge steps: not worth compiling
        assert cpu.Trainer(big, X, T, epochs=10**6).planned is None
    huge = ns.Network.layered([2, 130, 130, 1], hidden="relu", output="sigmoid", loss="bce")
    assert not planner.fits(huge)
    assert cpu.Trainer(huge, X, T, epochs=10**6).planned is None
    small = ns.Network.layered([2, 3, 1], hidden="tanh", output="sigmoid", loss="bce")
    assert cpu.Trainer(small, X, T, epochs=1).planned is None       # 4 steps: not worth it
    assert cpu.Trainer(small, X, T, batch_size=2, epochs=10**5).planned is None
    assert cpu.Trainer(small, X, T, watch=[3], epochs=10**5).planned is None


def test_the_four_neuron_source_is_the_chapters_arithmetic():
    src = ns.kernel_source(ns.presets.four_neuron())
    for line in ("s_ += w[4] * Ao       # AC", "Ad += w[4] * Cg", "w[4] -= st_ * Ao",
                 "Cd = F(d_)", "if Cg != 0.0:"):
        assert line in src, line
    compile(src, "<plan>", "exec")


def test_sources_differ_by_topology_and_dtype_and_are_cached_once(tmp_path):
    a, b = ns.presets.moons_net(), ns.presets.net_22432()
    assert planner.source(a) != planner.source(b)
    assert planner.source(a) != planner.source(a.astype(np.float32))
    code = ("import os, numpy as np, neurosim as ns\n"
            "from neurosim.kernels import planner\n"
            "planner.epoch_kernel(ns.presets.moons_net())\n"
            "print(sorted(f for f in os.listdir(planner.cache_dir()) if f.endswith('.py')))\n")
    env = dict(os.environ, NEUROSIM_CACHE_DIR=str(tmp_path))
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, timeout=300) for _ in range(2)]
    assert all(o.returncode == 0 for o in outs), outs[0].stderr
    assert outs[0].stdout == outs[1].stdout and outs[0].stdout.count("plan_") == 1


def test_names_that_are_not_identifiers_fall_back_to_indexes():
    net = ns.Network.from_edges([("x0", "an", 0.5), ("an", "y", 0.3)], inputs=["x0"],
                                outputs=["y"])                 # "an" + "d" is a keyword
    src = planner.source(net)
    assert "n2d" in src
    X, T = np.ones((2, 1)), np.ones((2, 1))
    (w1, _), (w2, _) = _both(net, X, T, np.arange(2), 0.1, False)
    np.testing.assert_array_equal(w1, w2)


def test_trace_code_prints_the_generated_source():
    r = subprocess.run([sys.executable, "-m", "neurosim", "trace", "--net", "four-neuron",
                        "--code"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ns.kernel_source(ns.presets.four_neuron())


# ---------------------------------------------------------------------------------------
# the loop shape (networks above MAX_EDGES): one literal loop per dense block
def blocky(seed, sizes=(2, 6, 5, 2), loss="quadratic", activation=None, dtype=np.float64):
    """Dense layers with skip connections that keep the layers' blocks: every neuron of
    the second hidden layer also hears input x0 (two runs each: x0, then bias and the
    first layer), the outputs also hear x1; activations per layer (or per neuron when
    ``activation == "mixed"``)."""
    rng = np.random.default_rng(seed)
    layers = [[f"x{i}" for i in range(sizes[0])]]
    layers += [[f"h{l}_{i}" for i in range(s)] for l, s in enumerate(sizes[1:-1], 1)]
    layers += [[f"o{i}" for i in range(sizes[-1])]]
    edges = []
    for l in range(1, len(layers)):
        for dn in layers[l]:
            srcs = ["bias"] + layers[l - 1]
            if l == 2:
                srcs = ["x0"] + srcs
            if l == len(layers) - 1 and l > 1:
                srcs = ["x1"] + srcs
            edges += [(sn, dn, float(rng.normal(0, 0.7))) for sn in srcs]
    acts = {}
    for layer in layers[1:-1]:
        a = activation if activation not in (None, "mixed") else ACTS[rng.integers(len(ACTS))]
        for nm in layer:
            acts[nm] = ACTS[rng.integers(len(ACTS))] if activation == "mixed" else a
    out_act = {"bce": "sigmoid", "softmax_ce": "identity"}.get(loss, "tanh")
    acts.update({nm: out_act for nm in layers[-1]})
    hidden = [nm for layer in layers[1:-1] for nm in layer]
    return ns.Network.from_edges(edges, inputs=layers[0], outputs=layers[-1], hidden=hidden,
                                 activation=acts, loss=loss, bias="bias", dtype=dtype)


def _all_kernels_agree(net, X, T, perm, runnings=(False, True)):
    mod = planner.kernels(net)
    lr = net.dtype.type(0.1)
    for l2 in (0.0, 0.01):
        decay = lr * net.dtype.type(l2)
        for skip in (False, True):
            for running in runnings:
                w1, w2 = net.weights.copy(), net.weights.copy()
                kern = K.running_epoch if running else K.train_epoch
                r1 = kern(X, T, perm, lr, decay, 1, skip, net.loss, net.topo, w1,
                          cpu.scratch(net), np.zeros(net.n_edges, net.dtype), cpu.no_record(net))
                name = ("sgd_running" if running else "sgd_epoch") + ("_l2" if l2 else "")
                args = (lr, decay) if l2 else (lr,)
                r2 = getattr(mod, name)(X, T, perm, *args, skip, w2)
                np.testing.assert_array_equal(w1, w2)
                assert len(r1) == len(r2) and r1[1:] == r2[1:]
                np.testing.assert_array_equal(r1[0], r2[0])
    e1 = K.evaluate(X, T, net.loss, net.topo, w1, cpu.scratch(net))
    e2 = mod.evaluate(X, T, w1, 0.0, 0)
    assert e1[1] == e2[1]
    np.testing.assert_array_equal(e1[0], e2[0])
    W = np.stack([net.weights, w1])
    lo, ro = np.zeros(2), np.zeros(2, np.int64)
    mod.evaluate_rows(X, T, W, lo, ro)
    assert lo[1] == e2[0] and ro[1] == e2[1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTS + ["mixed"])
def test_loop_shape_is_the_general_kernel_bit_for_bit(monkeypatch, act, loss, dtype):
    monkeypatch.setattr(planner, "MAX_EDGES", 0)          # every net gets the loop shape
    seed = ACTS.index(act) if act in ACTS else 7
    nets = [blocky(seed, loss=loss, activation=act, dtype=dtype)]
    if act == "mixed":                                    # and a random DAG, no blocks
        nets.append(random_dag(seed, loss=loss, n_hidden=6, dtype=dtype))
    for net in nets:
        assert planner.shape(net) == "loops" and "for k in range(" in planner.source(net)
        X = np.random.default_rng(seed).normal(0, 1, (16, 2)).astype(dtype)
        T = random_targets(net, 16, seed).astype(dtype)
        # the running twins once per activation x loss (float64): compile time
        _all_kernels_agree(net, X, T, np.random.default_rng(seed + 1).permutation(16),
                           (False, True) if dtype == np.float64 else (False,))


def test_loop_shape_blocks_are_the_dense_layers():
    net = blocky(0, sizes=(2, 6, 5, 2), activation="relu")
    blocks = planner._blocks(net)
    sizes = [m for _, m, _, _, _ in blocks]
    assert sizes == [6, 5, 1, 1]                          # two layers, then each output
    assert [len(runs) for _, _, runs, _, _ in blocks] == [1, 2, 2, 2]


def test_a_deep_net_above_max_edges_gets_the_loop_shape_when_the_call_is_long():
    net = ns.Network.layered([2, 12, 12, 12, 1], hidden="relu", output="sigmoid", loss="bce")
    assert planner.MAX_EDGES < net.n_edges <= planner.MAX_LOOP_EDGES
    assert planner.shape(net) == "loops"
    X = np.random.default_rng(0).normal(0, 1, (32, 2))
    T = (X[:, :1] > 0).astype(float)
    few = int(planner.MIN_LOOP_EDGE_STEPS / net.n_edges / 32) - 1
    if not planner.loaded(net):
        assert cpu.Trainer(net, X, T, epochs=few).planned is None
    assert cpu.Trainer(net, X, T, epochs=few + 2).planned is not None
    _all_kernels_agree(net, X, T, np.random.default_rng(1).permutation(32))
    sparse = ns.Network.from_edges(
        [(f"x{i % 2}", f"h{i}") for i in range(200)] + [(f"h{i}", "y") for i in range(200)]
        + [(f"h{i}", f"h{i + 2}") for i in range(0, 198, 3)], inputs=["x0", "x1"],
        outputs=["y"])                       # every neuron its own runs: too many loops
    assert planner.MAX_EDGES < sparse.n_edges and planner.shape(sparse) is None
    wide = ns.Network.layered([2, 64, 64, 1])            # rows of 65: the general kernel
    assert planner.shape(wide) is None
    huge = ns.Network.layered([2, 128, 128, 1])
    assert huge.n_edges > planner.MAX_LOOP_EDGES and planner.shape(huge) is None
    assert not planner.fits(huge)
