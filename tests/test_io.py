"""Save and load: exact round trips, and hostile files rejected with ValueError."""
import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurosim as ns
from neurosim.io import load, save
from reference import random_dag


def assert_same_network(a, b):
    """Every attribute of two networks equal, arrays bit for bit and of the same dtype."""
    va, vb = vars(a), vars(b)
    keys = set(va) - {"dedz", "topo"}    # dedz: of the last backward pass; topo: checked
    assert keys == set(vb) - {"dedz", "topo"}  # through the index arrays it bundles
    for k in sorted(keys):
        x, y = va[k], vb[k]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, k
            np.testing.assert_array_equal(x, y, err_msg=k, strict=True)
        else:
            assert x == y, k
    for nm in a.neuron_names:
        assert a.activation(nm) == b.activation(nm) and a.role(nm) == b.role(nm)


def assert_same_history(a, b):
    import dataclasses
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, strict=True)
        elif f.name == "records":
            assert x.keys() == y.keys()
            for k in x:
                np.testing.assert_array_equal(x[k], y[k], strict=True)
        else:
            assert x == y, f.name


def reordered_dag():
    # natural name order h1, h2 is not topological (h2 feeds h1): the network reorders
    return ns.Network.from_edges(
        [("x", "h2", 0.5), ("h2", "h1", -1.25), ("h1", "out", 2.0), ("x", "out", 0.1),
         ("bias", "h1", 0.3)],
        inputs=["x"], outputs=["out"], activation={"h1": "tanh", "h2": "leaky_relu"},
        bias="bias")


NETS = {
    "four_neuron": ns.presets.four_neuron,
    "moons32": lambda: ns.presets.moons_net(seed=5, dtype=np.float32),
    "dag_quadratic": lambda: random_dag(1, n_in=3, n_hidden=6, n_out=2),
    "dag_softmax": lambda: random_dag(2, n_in=2, n_hidden=4, n_out=3, loss="softmax_ce"),
    "layered_he": lambda: ns.Network.layered([3, 5, 2], hidden="tanh", init="he", seed=3),
    "reordered": reordered_dag,
}


@pytest.mark.parametrize("suffix", [".npz", ".json", ""])
@pytest.mark.parametrize("which", sorted(NETS))
def test_round_trip_exact(which, suffix, tmp_path):
    net = NETS[which]()
    x = np.linspace(-1, 1, net.n_inputs)
    ns.forward(net, x)
    t = np.zeros(len(net.output_idx))
    t[0] = 1
    ns.backward(net, t)
    path = tmp_path / f"net{suffix}"
    assert save(net, path) == path and path.exists()
    back = load(path)
    assert_same_network(net, back)
    # and it computes the same thing
    np.testing.assert_array_equal(ns.predict(net, x[None]), ns.predict(back, x[None]))


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_history_round_trip(suffix, tmp_path):
    d = ns.datasets.moons(n_samples=40)
    net = ns.presets.moons_net()
    h = ns.train(net, d.X_train, d.y_train, epochs=2, X_test=d.X_test, y_test=d.y_test)
    h.records = {"A.out": np.arange(6.0).reshape(2, 3), "steps": np.arange(4)}
    save(net, tmp_path / f"h{suffix}", history=h)
    back, hb = load(tmp_path / f"h{suffix}", with_history=True)
    assert_same_network(net, back)
    assert_same_history(h, hb)
    h2 = ns.train(ns.presets.moons_net(), d.X_train, d.y_train, epochs=1)   # no test set
    save(net, tmp_path / f"h2{suffix}", history=h2)
    assert_same_history(h2, load(tmp_path / f"h2{suffix}", with_history=True)[1])
    save(net, tmp_path / f"n{suffix}")
    assert load(tmp_path / f"n{suffix}", with_history=True)[1] is None


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_recorded_history_round_trip(suffix, tmp_path):
    # train(..., record=...) stores a Records: {neuron: {"output", "delta"}}, .sample, .error
    d = ns.datasets.moons(n_samples=40)
    net = ns.presets.moons_net(dtype=np.float32)
    h = ns.train(net, d.X_train, d.y_train, epochs=2, record=["A", "P"])
    save(net, tmp_path / f"r{suffix}", history=h)
    hb = load(tmp_path / f"r{suffix}", with_history=True)[1]
    r, rb = h.records, hb.records
    assert type(rb) is type(r) and list(rb) == ["A", "P"]
    for nm in r:
        assert rb[nm].keys() == {"output", "delta"}
        for k in ("output", "delta"):
            np.testing.assert_array_equal(r[nm][k], rb[nm][k], strict=True)
    np.testing.assert_array_equal(r.sample, rb.sample, strict=True)
    np.testing.assert_array_equal(r.error, rb.error, strict=True)
    # inconsistent record arrays are refused
    meta, arrays = _parts(save(net, tmp_path / "r.npz", history=h))
    for key, change, match in (
            ("history.records.sample", lambda a: a + 1000, "out of range"),
            ("history.records.delta", lambda a: a[:, :, :1], "agree in shape"),
            ("history.records.error", lambda a: a.astype(np.int64), "floats")):
        bad = dict(arrays, **{key: change(arrays[key])})
        _bad(_write(tmp_path / "bad.npz", meta, bad), match)
    meta["history"]["records"] = {"neurons": ["A", "Q"]}
    _bad(_write(tmp_path / "bad.npz", meta, arrays), "name neurons")


def test_loaded_network_trains_identically(tmp_path):
    d = ns.datasets.xor(n_samples=60)
    net = ns.presets.moons_net(seed=2)
    save(net, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    h1 = ns.train(net, d.X_train, d.y_train, epochs=3, lr=0.1)
    h2 = ns.train(back, d.X_train, d.y_train, epochs=3, lr=0.1)
    np.testing.assert_array_equal(h1.weights, h2.weights)


def test_save_rejects_bad_input(tmp_path):
    net = ns.presets.four_neuron()
    with pytest.raises(ValueError, match="Network"):
        save("not a net", tmp_path / "a.npz")
    with pytest.raises(ValueError, match="path"):
        save(net, 3)
    with pytest.raises(ValueError, match="directory"):
        save(net, tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        save(net, tmp_path / "nope" / "a.npz")
    d = ns.datasets.moons(n_samples=40)
    h = ns.train(ns.presets.moons_net(), d.X_train, d.y_train, epochs=1)
    with pytest.raises(ValueError, match="edge names"):
        save(net, tmp_path / "a.npz", history=h)
    with pytest.raises(ValueError, match="History"):
        save(net, tmp_path / "a.npz", history={"lr": 1})
    # a failed save leaves the existing file as it was, and no temporary file behind
    save(net, tmp_path / "keep.npz")
    before = (tmp_path / "keep.npz").read_bytes()
    bad = net.copy()
    bad.weights[0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        save(bad, tmp_path / "keep.npz")
    assert (tmp_path / "keep.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.npz"]


# -- hostile files ----------------------------------------------------------------------
def _parts(path):
    """(meta, {name: array}) of a saved .npz, read with numpy."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("meta").tobytes())
    return meta, arrays


def _write(path, meta, arrays):
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def good(tmp_path):
    net = ns.presets.four_neuron()
    path = save(net, tmp_path / "good.npz")
    return path, _parts(path)


def _bad(path, match):
    with pytest.raises(ValueError, match=match):
        load(path)


def test_truncated_and_garbage(good, tmp_path):
    path = good[0]
    data = path.read_bytes()
    for cut in (0, 1, 10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        p = tmp_path / f"cut{cut}.npz"
        p.write_bytes(data[:cut])
        _bad(p, "cannot load")
    p = tmp_path / "garbage.npz"
    p.write_bytes(bytes(range(256)) * 4)
    _bad(p, "cannot load")
    _bad(tmp_path / "missing.npz", "no such file")
    _bad(tmp_path, "no such file")


def test_inconsistent_contents(good, tmp_path):
    path, (meta, arrays) = good

    def variant(name, match, meta_change=None, array_change=None):
        m = json.loads(json.dumps(meta))
        a = dict(arrays)
        if meta_change:
            meta_change(m)
        if array_change:
            array_change(a)
        _bad(_write(tmp_path / f"{name}.npz", m, a), match)

    variant("fmt", "not a neurosim", lambda m: m.update(format="other"))
    variant("ver", "version", lambda m: m.update(version=99))
    variant("dtype", "dtype", lambda m: m.update(dtype="float16"))
    variant("loss", "unknown loss", lambda m: m.update(loss="hinge"))
    variant("act", "unknown activation", lambda m: m["activations"].update(A="swish"))
    variant("acts", "exactly the hidden", lambda m: m["activations"].pop("A"))
    variant("nedges", "shape", lambda m: m.update(n_edges=9))
    variant("neg", "non-negative", lambda m: m.update(n_edges=-1))
    variant("names", "each once", lambda m: m["neurons"].append("Z"))

    def rename(m):                      # a name with a space, consistently everywhere
        for k in ("hidden", "neurons"):
            m[k][m[k].index("A")] = "a b"
        m["activations"]["a b"] = m["activations"].pop("A")
    variant("name", "bad neuron name", rename)
    variant("extra_key", "unknown metadata", lambda m: m.update(code="import os"))
    variant("wdtype", "dtype",
            array_change=lambda a: a.update(weights=a["weights"].astype(np.float32)))
    variant("srcdtype", "dtype", array_change=lambda a: a.update(src=a["src"].astype(np.float64)))
    variant("wshape", "shape", array_change=lambda a: a.update(weights=a["weights"][:-1]))
    variant("zshape", "shape", array_change=lambda a: a.update(z=np.zeros(3)))
    variant("range", "out of range", array_change=lambda a: a.update(src=a["src"] + 100))
    variant("nan", "finite", array_change=lambda a: a.update(weights=a["weights"] * np.nan))
    variant("missing", "missing", array_change=lambda a: a.pop("deltas"))
    variant("extra", "unexpected", array_change=lambda a: a.update(payload=np.zeros(2)))
    variant("stray_history", "unexpected",          # history arrays, but no history
            array_change=lambda a: a.update({"history.train_loss": np.zeros(2)}))
    variant("biasout", "bias", array_change=lambda a: a.update(outs=np.zeros_like(a["outs"])))
    names = meta["neurons"]
    A, B, C, X = (names.index(n) for n in "ABCX")

    def cycle(a):                       # turn XA into BA, with AB already there -> A<->B
        s, d = a["src"].copy(), a["dst"].copy()
        s[(s == X) & (d == A)] = B
        s[(s == A) & (d == C)] = A
        d[(s == A) & (d == C)] = B
        a.update(src=s, dst=d)
    variant("cycle", "cycle", array_change=cycle)

    def dup(a):
        s, d = a["src"].copy(), a["dst"].copy()
        s[1], d[1] = s[0], d[0]
        a.update(src=s, dst=d)
    variant("dup", "duplicate", array_change=dup)

    def into_input(a):
        d = a["dst"].copy()
        d[0] = X
        a.update(dst=d)
    variant("into_input", "into an input", array_change=into_input)


def _npy_header(shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_huge_declared_sizes_and_pickles(good, tmp_path):
    path = good[0]
    # a member whose header declares 10^12 doubles but holds 16 bytes: refused unread
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["weights.npy"] = _npy_header((10 ** 12,)) + b"\0" * 16
    p = tmp_path / "huge.npz"
    with zipfile.ZipFile(p, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    _bad(p, "declares shape")
    # more data than max_bytes
    with pytest.raises(ValueError, match="max_bytes"):
        load(path, max_bytes=100)
    # an object array (a pickle) is refused without being unpickled
    class Boom:
        def __reduce__(self):
            return (exec, ("import builtins; builtins.NEUROSIM_PWNED = True",))
    buf = io.BytesIO()
    np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
    members["weights.npy"] = buf.getvalue()
    p = tmp_path / "pickle.npz"
    with zipfile.ZipFile(p, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    _bad(p, "not allowed")
    import builtins
    assert not hasattr(builtins, "NEUROSIM_PWNED")
    # members that are not .npy arrays
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("evil.py", "print('hi')")
    _bad(p, "unexpected member")


def test_hostile_json(tmp_path):
    net = ns.presets.four_neuron()
    path = save(net, tmp_path / "n.json")
    doc = json.loads(path.read_text())

    def variant(name, text, match):
        p = tmp_path / f"{name}.json"
        p.write_text(text)
        _bad(p, match)

    variant("nanconst", path.read_text().replace('"version": 1', '"version": NaN'), "NaN")
    variant("deep", "[" * 100000 + "]" * 100000, "cannot load")
    variant("list", "[1, 2]", "object")
    variant("notjson", "{nope", "JSON")
    d = json.loads(json.dumps(doc))
    d["arrays"]["weights"]["data"][0] = "1.0"
    variant("strweight", json.dumps(d), "not a <f8")
    d = json.loads(json.dumps(doc))
    d["arrays"]["weights"]["shape"] = [10 ** 15]
    variant("hugeshape", json.dumps(d), "flat list")
    d = json.loads(json.dumps(doc))
    d["arrays"]["src"]["data"][0] = 2 ** 70
    variant("bigint", json.dumps(d), "int64")


# -- fuzzing ------------------------------------------------------------------------------
# NEUROSIM_FUZZ_EXAMPLES=5000 runs a longer fuzz than the suite's default
FUZZ = int(os.environ.get("NEUROSIM_FUZZ_EXAMPLES", "120"))
_NET = ns.presets.moons_net(seed=3)
_BUF = io.BytesIO()
np.savez(_BUF, meta=np.frombuffer(json.dumps(ns.io._net_parts(_NET)[0]).encode(), np.uint8),
         **ns.io._net_parts(_NET)[1])
_GOOD = _BUF.getvalue()             # uncompressed, so flipped bytes hit headers and data


def _load_bytes(tmp_path, data, name):
    p = tmp_path / name
    p.write_bytes(data)
    try:
        net = load(p)
    except ValueError:
        return None
    assert isinstance(net, ns.Network)   # anything that loads is a valid network
    return net


@settings(max_examples=FUZZ, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(_GOOD) - 1), st.integers(0, 255)),
                min_size=1, max_size=6),
       st.integers(0, len(_GOOD)))
def test_fuzz_bytes(tmp_path, edits, cut):
    data = bytearray(_GOOD)
    for pos, val in edits:
        data[pos] = val
    _load_bytes(tmp_path, bytes(data[:cut] if cut < 40 else data), "fuzz.npz")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2 ** 64) | st.floats(allow_nan=False)
    | st.text(max_size=6) | st.sampled_from(["relu", "sigmoid", "A", "b", "float32"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=8)


@settings(max_examples=FUZZ, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(ns.io._net_parts(_NET)[0])), _json_values,
       st.sampled_from(["src", "dst", "weights", "z"]),
       st.lists(st.integers(-2, 14), min_size=0, max_size=40))
def test_fuzz_contents(tmp_path, key, value, arr, ints):
    meta, arrays = ns.io._net_parts(_NET)
    meta = dict(meta)
    meta[key] = value
    arrays = dict(arrays)
    a = np.array(ints, dtype=np.int64 if arr in ("src", "dst") else np.float64)
    arrays[arr] = a
    net = _load_bytes(tmp_path, _write(tmp_path / "x.npz", meta, arrays).read_bytes(), "c.npz")
    if net is not None:                  # e.g. the value given was the valid one
        ns.predict(net, np.zeros((1, net.n_inputs)))
