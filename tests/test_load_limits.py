"""Loading is bounded by max_bytes (issue 14, part 2): hostile files are refused before
their data is inflated or their metadata parsed, and the peak memory of each load is
measured in a fresh process (tracemalloc's peak over the load, which counts Python
objects and NumPy arrays; the resident-size high-water mark would hide anything under
the peak that importing Numba already reached)."""
import json
import os
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib

import numpy as np
import pytest

import neurosim as ns
from neurosim.io import load, save

MiB = 2 ** 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = textwrap.dedent("""
    import json, sys, time, tracemalloc
    import neurosim as ns
    from neurosim.io import load
    load(sys.argv[1])                                  # warm-up: imports, first allocations
    kw = json.loads(sys.argv[3])
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t = time.perf_counter()
    try:
        net = load(sys.argv[2], **kw)
        err = None
    except Exception as e:
        err = [type(e).__name__, str(e)[:500]]
    dt = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"grew": peak - base, "err": err, "seconds": dt}))
""")


def measure(tmp_path, path, **kw):
    """(peak bytes allocated during the load, (exception type, message) or None, seconds)
    of ``load(path, **kw)`` in a fresh process."""
    good = tmp_path / "warmup.npz"
    if not good.exists():
        save(ns.presets.four_neuron(), good)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", CHILD, str(good), str(path), json.dumps(kw)],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    return out["grew"], out["err"], out["seconds"]


def members_of(path):
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def npy(shape, descr="<f8"):
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def meta_member(text):
    b = text.encode()
    return npy((len(b),), "|u1") + b


def write_zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, v in members.items():
            zf.writestr(k, v)


def zero_deflate(nbytes, chunk=8 * MiB):
    """A raw deflate stream of ``nbytes`` zeros, built from one compressed chunk repeated:
    after a full flush, deflate output does not depend on what came before."""
    assert nbytes % chunk == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    seg = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    return seg * (nbytes // chunk) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def write_raw_zip(path, members):
    """A zip written by hand from ``(name, data)`` members and one ``(name, header,
    deflated_zeros, n_zeros)`` member, with honest declared sizes: too big to compress in
    a test, cheap to write. (The big member's CRC is left 0: it is never read.)"""
    out, central = bytearray(), bytearray()
    for item in members:
        if len(item) == 2:
            name, raw = item
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            data, size, crc = c.compress(raw) + c.flush(), len(raw), zlib.crc32(raw)
        else:
            name, header, zeros, n = item
            c = zlib.compressobj(0, zlib.DEFLATED, -15)   # the header as a stored block
            data, size, crc = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH) + zeros, \
                len(header) + n, 0
        nm = name.encode()
        off = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data),
                           size, len(nm), 0) + nm + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                               len(data), size, len(nm), 0, 0, 0, 0, 0, off) + nm
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                      len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))


@pytest.fixture
def four(tmp_path):
    return members_of(save(ns.presets.four_neuron(), tmp_path / "four.npz"))


def test_metadata_that_inflates_is_refused_before_parsing(tmp_path, four):
    """The issue's case: a 50 KB .npz whose metadata inflates to 50 MB of "[]," peaked at
    1.47 GiB while parsed. Now refused from a count over the text, at the default
    max_bytes, holding only the text itself."""
    m = four.copy()
    m["meta.npy"] = meta_member("[" + "[]," * (50 * MiB // 3) + "[]]")
    p = tmp_path / "inflate.npz"
    write_zip(p, m)
    assert p.stat().st_size < 200_000
    grew, err, dt = measure(tmp_path, p)
    assert err and err[0] == "ValueError" and "to parse" in err[1], err
    assert grew < 3 * 50 * MiB, grew                 # the bytes, their text, no objects
    assert dt < 3


def test_metadata_parse_fits_max_bytes(tmp_path, four):
    """A metadata member whose parse would fit is parsed; with a small max_bytes the same
    one is refused, and the peak stays below that max_bytes."""
    m = four.copy()
    m["meta.npy"] = meta_member("[" + "[]," * (MiB // 4) + "[]]")
    p = tmp_path / "inflate.npz"
    write_zip(p, m)
    grew, err, _ = measure(tmp_path, p, max_bytes=32 * MiB)
    assert err and "to parse" in err[1] and "max_bytes" in err[1], err
    assert grew < 32 * MiB, grew
    with pytest.raises(ValueError, match="JSON object"):  # fits the default: parsed
        load(p)


def test_json_of_nested_empty_lists(tmp_path):
    """The issue's 100 MB .json of nested empty lists peaked at 2.7 GiB."""
    p = tmp_path / "lists.json"
    with open(p, "w") as f:
        f.write('{"a": [')
        f.write("[[]]," * (100 * MiB // 5))
        f.write("[]]}")
    grew, err, dt = measure(tmp_path, p)
    assert err and err[0] == "ValueError" and "to parse" in err[1], err
    assert grew < 3 * 100 * MiB, grew
    t = time.perf_counter()                          # refused from its size alone
    with pytest.raises(ValueError, match="to read as JSON, more than max_bytes"):
        load(p, max_bytes=150 * MiB)
    assert time.perf_counter() - t < 0.5


def test_deep_nesting_is_refused_before_the_parser_recurses(tmp_path, four):
    m = four.copy()
    m["meta.npy"] = meta_member("[" * 200_000 + "]" * 200_000)
    p = tmp_path / "deep.npz"
    write_zip(p, m)
    with pytest.raises(ValueError, match="nests deeper"):
        load(p)
    p = tmp_path / "deep.json"
    p.write_text('{"a": ' + "[" * 40 + "]" * 40 + "}")
    with pytest.raises(ValueError, match="nests deeper"):
        load(p)
    # brackets inside strings, escaped quotes, do not count
    p.write_text('{"a": "' + "[" * 100 + '\\"' + "[" * 100 + '", "b": "\\\\"}')
    with pytest.raises(ValueError, match="'arrays' must be"):
        load(p)


def test_zip_bomb_with_honest_sizes_is_refused_unread(tmp_path, four):
    """The issue's 2 MB zip bomb declaring just under 2 GiB was refused only after 17 s at
    a 4.19 GiB peak: its weights member declares far more values than the metadata's
    8 edges. Now refused from its header, before a byte of it is inflated."""
    n = 2 ** 31 - 64 * MiB                      # zeros: 2 GiB less 64 MiB
    members = [(k, v) for k, v in four.items() if k != "weights.npy"]
    members.append(("weights.npy", npy((n // 8,)), zero_deflate(n), n))
    p = tmp_path / "bomb.npz"
    write_raw_zip(p, members)
    assert p.stat().st_size < 8 * MiB
    with zipfile.ZipFile(p) as zf:
        declared = sum(i.file_size for i in zf.infolist())
    assert 2 ** 31 - 128 * MiB < declared < 2 ** 31
    grew, err, dt = measure(tmp_path, p)
    assert err and err[0] == "ValueError" and "more than the metadata" in err[1], err
    assert grew < 16 * MiB, grew
    assert dt < 1


def test_declared_sizes_over_max_bytes_are_refused_from_the_directory(tmp_path, four):
    m = four.copy()
    m["history.junk.npy"] = npy((24 * MiB // 8,)) + bytes(24 * MiB)
    p = tmp_path / "big.npz"
    write_zip(p, m)
    with pytest.raises(ValueError, match="max_bytes"):    # from the zip directory alone
        load(p, max_bytes=16 * MiB)
    # under the limit but with no place in the metadata: refused before inflating
    grew, err, dt = measure(tmp_path, p)
    assert err and "unexpected arrays" in err[1], err
    assert grew < 16 * MiB, grew


def test_a_consistent_big_network_is_refused_when_its_rebuild_would_not_fit(tmp_path):
    net = ns.Network.layered([2, 300, 300, 1], seed=0)           # 91k edges
    p = save(net, tmp_path / "big.npz")
    data = net.n_edges * 24
    with pytest.raises(ValueError, match="rebuilding this network"):
        load(p, max_bytes=data + 1000 * net.n_edges // 100)
    back = load(p)                                               # fits the default
    np.testing.assert_array_equal(back.weights, net.weights)


def test_real_load_peak_is_a_small_multiple_of_the_arrays(tmp_path):
    """A genuine 2-512-512-1 net (264k edges): the load's peak stays within 4x the
    arrays it holds (src, dst and weights: 24 bytes an edge)."""
    net = ns.Network.layered([2, 512, 512, 1], seed=0)
    p = save(net, tmp_path / "real.npz")
    grew, err, dt = measure(tmp_path, p)
    assert err is None, err
    assert grew < 4 * 24 * net.n_edges + 8 * MiB, grew
