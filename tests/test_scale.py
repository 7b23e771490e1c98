"""Networks with many edges (issue 14, part 4): the linear-time build, copy, lookups and
load give exactly what the general paths give, and their memory stays a small multiple
of the arrays (tracemalloc). Times are for bench/scale.py, not for tests."""
import tracemalloc

import numpy as np
import pytest

import neurosim as ns
from neurosim.graph import _stable_order
from neurosim.io import load, save
from reference import random_dag


TOPO = ("act", "is_output", "output_idx", "run_ptr", "run_edge", "run_src", "run_len",
        "out_ptr", "out_edge", "src", "dst")


def arrays_of(net):
    return {k: v for k, v in vars(net).items() if isinstance(v, np.ndarray)}


def assert_same(a, b):
    va, vb = vars(a), vars(b)
    assert set(va) == set(vb)
    for k in va:
        if k == "topo":                             # the index arrays, compared one by one
            assert all(x is getattr(a, n) for x, n in zip(va[k][1:], TOPO))
            assert all(x is getattr(b, n) for x, n in zip(vb[k][1:], TOPO))
        elif va[k] is None or vb[k] is None:
            assert va[k] is vb[k], k
        elif isinstance(va[k], np.ndarray):
            np.testing.assert_array_equal(va[k], vb[k], err_msg=k, strict=True)
        else:
            assert va[k] == vb[k], k
    assert a.edge_names == b.edge_names


@pytest.mark.parametrize("seed", range(6))
def test_counting_sort_is_argsort_stable(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 50))
    keys = rng.integers(0, n, int(rng.integers(0, 500)))
    np.testing.assert_array_equal(_stable_order(keys, n), np.argsort(keys, kind="stable"))


def test_layered_equals_the_same_edges_given_in_any_order():
    """The sorted fast path and the general path (shuffled edges) build the same net."""
    a = ns.Network.layered([3, 7, 5, 2], hidden="tanh", seed=4)
    edges = a.edges()
    rng = np.random.default_rng(0)
    shuffled = [edges[i] for i in rng.permutation(len(edges))]
    hidden = [nm for nm in a.neuron_names if a.role(nm) == "hidden"]
    b = ns.Network.from_edges(shuffled, inputs=a.input_names, outputs=a.output_names,
                              hidden=hidden, activation="tanh", bias="bias")
    assert_same(a, b)


@pytest.mark.parametrize("seed", range(5))
def test_edge_lookup_finds_every_edge_and_nothing_else(seed):
    net = random_dag(seed, n_in=3, n_hidden=8, n_out=2)
    for k, nm in enumerate(net.edge_names):
        assert net.edge(nm) == k and net.edge_index[nm] == k and nm in net.edge_index
        s, d = net.neuron_names[net.src[k]], net.neuron_names[net.dst[k]]
        assert net.edge(f"{s}->{d}") == k
    for s in net.neuron_names:
        for d in net.neuron_names:
            k = net.edge_index.get(f"{s}->{d}")
            there = any(a == s and b == d for a, b, _ in net.edges())
            assert (k is not None) == there
    for bad in ("", "->", "x", "a->b->c", 5, None, ("A", "C")):
        assert bad not in net.edge_index
        with pytest.raises(KeyError):
            net.edge(bad)


def test_edge_index_mapping_of_the_chapter_net():
    four = ns.presets.four_neuron()
    idx = four.edge_index
    assert len(idx) == 2 * four.n_edges
    assert list(idx)[:four.n_edges] == four.edge_names
    assert idx["AC"] == idx["A->C"] == four.edge_names.index("AC")
    assert "CA" not in idx and "A->" not in idx


def test_unknown_names_on_a_big_network_give_a_short_message():
    net = ns.Network.layered([2, 300, 300, 1])         # 91k edges
    for bad, hint in (("typo", None), ("h1_5->h2_3000", "h1_5->h2_300"),
                      ("h2_5->h1_3", None)):
        with pytest.raises(KeyError) as e:
            net.weight(bad)
        msg = str(e.value)
        assert len(msg) < 500 and f"{net.n_edges} edges" in msg, msg
        if hint:
            assert hint in msg
    with pytest.raises(KeyError) as e:
        net.neuron("h1_3000")
    assert len(str(e.value)) < 500 and "h1_300" in str(e.value)
    # small networks still list everything
    with pytest.raises(KeyError, match=r"edges are \['XA'"):
        ns.presets.four_neuron().weight("typo")


def test_copy_is_an_independent_exact_copy_with_the_pass_state():
    a = ns.presets.moons_net(seed=3)
    ns.forward(a, [0.2, -0.4])
    ns.backward(a, [1.0])
    b = a.copy()
    assert_same(a, b)
    for k, v in arrays_of(a).items():
        assert not np.shares_memory(v, getattr(b, k)), k
    ns.update(b, 0.1)                                # the copy carries the pass's signal
    ns.update(a, 0.1)
    np.testing.assert_array_equal(a.weights, b.weights)
    b.weights[0] += 1
    assert a.weights[0] != b.weights[0]
    c = a.astype(np.float32)
    assert all(getattr(c, k).dtype == np.float32 for k in ("weights", "z", "outs", "deltas"))
    np.testing.assert_array_equal(c.weights, a.weights.astype(np.float32))
    assert c.edge_names == a.edge_names


def test_build_copy_and_load_memory_is_a_small_multiple_of_the_arrays(tmp_path):
    sizes = [2, 400, 400, 1]                          # 162k edges
    net = ns.Network.layered(sizes, seed=0)
    size = sum(v.nbytes for v in arrays_of(net).values())
    p = save(net, tmp_path / "n.npz")

    def peak(fn):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        top = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        return top

    assert peak(lambda: ns.Network.layered(sizes, seed=0)) < 3 * size
    assert peak(net.copy) < 1.1 * size
    assert peak(lambda: load(p)) < 3 * size
    assert peak(lambda: save(net, tmp_path / "m.npz")) < 1.5 * size


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_big_round_trip_exact(tmp_path, suffix):
    net = ns.Network.layered([3, 120, 80, 2], hidden="tanh", seed=1, dtype=np.float32)
    ns.forward(net, [0.1, 0.2, 0.3])
    ns.backward(net, [0.0, 1.0])
    back = load(save(net, tmp_path / f"n{suffix}"))
    net.dedz = back.dedz = None                      # dE/dz of the last pass: not saved
    assert_same(net, back)


def test_load_of_a_reordered_dag_matches_from_edges(tmp_path):
    """A DAG whose hidden neurons are not in topological order in the file goes through
    the Kahn path of the index-array rebuild: same network as from_edges."""
    net = ns.Network.from_edges(
        [("x", "h2", 0.5), ("h2", "h1", -1.25), ("h1", "out", 2.0), ("x", "out", 0.1),
         ("bias", "h1", 0.3), ("h3", "out", 1.0), ("x", "h3", 0.7)],
        inputs=["x"], outputs=["out"], bias="bias")
    back = load(save(net, tmp_path / "r.npz"))
    assert_same(net, back)
