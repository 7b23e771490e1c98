"""Save and load networks (and their training History) without pickle.

One file holds everything needed to rebuild a :class:`~neurosim.graph.Network` exactly:
neuron names and roles, per-neuron activations, the loss, the bias neuron's name, the
dtype, the edge list with its weights, and the state of the last pass (``z``, ``outs``,
``deltas``). Two formats, chosen by the file name:

* ``.json``: one JSON document, weights as decimal numbers (exact: Python writes floats
  with ``repr``); readable, good for small nets.
* anything else (normally ``.npz``): a NumPy ``.npz`` archive of plain numeric arrays plus
  one JSON metadata member, read with ``allow_pickle=False``.

Loading never executes anything from the file: no pickle, no ``eval``. Each array member
is checked (name, dtype, shape against its actual byte size) before it is read, sizes are
bounded, and the network is rebuilt through :meth:`Network.from_edges`, so a file with a
cycle, a duplicate or dangling edge, an unknown activation or loss, or sizes that don't
agree raises :class:`ValueError` with the reason.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import secrets
import struct
import sys
import zipfile
import zlib

import numpy as np

from .checks import check_int
from .graph import Network
from .inputs import check_net
from .training import History, Records

FORMAT = "neurosim-network"
VERSION = 1
#: Default bound on the bytes a file may hold (decompressed), against zip bombs and
#: absurd declared sizes; pass ``max_bytes`` to :func:`load` to change it.
MAX_BYTES = 2 ** 31
_META = "meta"
_DTYPES = {"float64": np.float64, "float32": np.float32}
# array members: name -> allowed dtypes (as numpy .npy descr strings)
_FLOATS = ("<f8", "<f4")
_NET_ARRAYS = {"src": ("<i8",), "dst": ("<i8",), "weights": _FLOATS, "z": _FLOATS,
               "outs": _FLOATS, "deltas": _FLOATS}
_HIST_PREFIX = "history."
_REC_PREFIX = "history.records."
_HIST_FIELDS = {f.name: f for f in dataclasses.fields(History)}
_RECORDS_ARRAYS = ("output", "delta", "sample", "error")    # a Records, stacked by neuron
_HIST_ARRAYS = ("train_loss", "train_acc", "weights", "epoch_time", "test_loss", "test_acc",
                "train_data_loss", "test_data_loss", "penalty")
#: The per-epoch ones, (epochs + 1,) each.
_HIST_CURVES = ("train_loss", "train_acc", "test_loss", "test_acc", "train_data_loss",
                "test_data_loss", "penalty")


# =======================================================================================
# save
def _net_parts(net):
    """(metadata dict, {name: array}) for a network."""
    check_net(net)
    if not np.all(np.isfinite(net.weights)):
        raise ValueError("the network's weights are not all finite (did training "
                         "diverge?); such a network cannot be saved")
    for k in ("z", "outs", "deltas"):
        if np.any(np.isnan(getattr(net, k))):
            raise ValueError(f"the network's {k} from the last pass holds NaN (an overflow "
                             "in that pass); run forward on a finite sample before saving")
    names = net.neuron_names
    roles = [net.role(nm) for nm in names]
    meta = {
        "format": FORMAT, "version": VERSION,
        "dtype": net.dtype.name, "loss": net.loss_name, "bias": net.bias_name,
        "inputs": [nm for nm, r in zip(names, roles) if r == "input"],
        "hidden": [nm for nm, r in zip(names, roles) if r == "hidden"],
        "outputs": [nm for nm, r in zip(names, roles) if r == "output"],
        "activations": {nm: net.activation(nm) for nm, r in zip(names, roles)
                        if r in ("hidden", "output")},
        "neurons": names, "n_edges": int(net.n_edges),
    }
    arrays = {"src": net.src.astype("<i8"), "dst": net.dst.astype("<i8"),
              "weights": net.weights.copy(), "z": net.z.copy(), "outs": net.outs.copy(),
              "deltas": net.deltas.copy()}
    return meta, arrays


def _json_scalar(v, what):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else repr(v)      # "nan", "inf" as strings
    raise ValueError(f"cannot save {what} of type {type(v).__name__}")


def _history_parts(hist, net):
    if not isinstance(hist, History):
        raise ValueError(f"history must be a neurosim.History or None, got {type(hist).__name__}")
    if list(hist.edge_names) != net.edge_names:
        raise ValueError("the history's edge names do not match the network's")
    meta, arrays = {}, {}
    for name in _HIST_FIELDS:
        v = getattr(hist, name)
        if name == "records":
            if isinstance(v, Records):          # what train(..., record=...) stores
                if not v or any(nm not in net.index for nm in v):
                    raise ValueError("history.records must name neurons of the network")
                meta["records"] = {"neurons": list(v)}
                for part in ("output", "delta"):
                    arrays[_REC_PREFIX + part] = np.stack([v[nm][part] for nm in v], axis=-1)
                arrays[_REC_PREFIX + "sample"] = v.sample
                arrays[_REC_PREFIX + "error"] = v.error
                continue
            if not isinstance(v, dict):
                raise ValueError("history.records must be a dict of arrays")
            for k, a in v.items():
                if not isinstance(k, str) or not isinstance(a, np.ndarray) \
                        or a.dtype.kind not in "fiub":
                    raise ValueError(f"cannot save history record {k!r}: records must map "
                                     "names to numeric arrays")
                arrays[_REC_PREFIX + k] = a
            meta["records"] = sorted(v)
        elif isinstance(v, np.ndarray):
            arrays[_HIST_PREFIX + name] = v
            meta[name] = {"array": True}
        elif name == "edge_names":
            meta[name] = [str(e) for e in v]
        else:
            meta[name] = _json_scalar(v, f"history.{name}")
    return meta, arrays


def _as_le(a):
    """A C-contiguous little-endian array of a saveable dtype."""
    a = np.ascontiguousarray(a)
    if a.dtype.kind == "f":
        return a.astype("<f8" if a.dtype.itemsize > 4 else "<f4", copy=False)
    if a.dtype.kind in "iu":
        return a.astype("<i8", copy=False)
    if a.dtype.kind == "b":
        return a.astype("|b1", copy=False)
    raise ValueError(f"cannot save an array of dtype {a.dtype}")


def _json_document(meta, arrays):
    """The .json file: the metadata indented, each array's data list on one line. The
    lists are written by json's C encoder (an indented dump is pure Python, ~7 s for a
    million edges) and spliced in where a unique placeholder string stands."""
    import uuid
    tag = uuid.uuid4().hex
    spec, data = {}, {}
    for i, (k, a) in enumerate(arrays.items()):
        token = f"@@{tag}-{i}@@"
        spec[k] = {"dtype": a.dtype.str, "shape": list(a.shape), "data": token}
        vals = a.ravel().tolist()
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            vals = [_json_scalar(x, k) for x in vals]       # "nan", "inf" as strings
        data[json.dumps(token)] = json.dumps(vals, allow_nan=False)
    text = json.dumps(dict(meta, arrays=spec), indent=1, allow_nan=False)
    parts = re.split("(" + "|".join(re.escape(t) for t in data) + ")", text) if data \
        else [text]
    return "".join(data.get(p, p) for p in parts).encode()


def _write_npz(f, arrays):
    """An .npz archive (what ``np.load`` reads) written member by member into ``f``:
    integer and metadata members deflated, float members stored as they are (random
    weights shrink by 4% at the cost of most of the time of a save)."""
    with zipfile.ZipFile(f, "w", allowZip64=True) as zf:
        for name, a in arrays.items():
            packed = a.dtype.kind != "f"
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if packed else zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as m:
                np.lib.format.write_array(m, a, allow_pickle=False)


def check_save_path(path):
    """``path`` as a :class:`pathlib.Path` that :func:`save` can write: a file name (not a
    folder) in an existing folder; else ValueError."""
    import pathlib
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"path must be a file name, got {path!r}")
    path = pathlib.Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory")
    if not path.parent.is_dir():
        raise ValueError(f"folder {path.parent} does not exist")
    return path


def _versions():
    import platform
    import numba
    from . import __version__
    return {"neurosim": __version__, "numpy": np.__version__, "numba": numba.__version__,
            "python": platform.python_version()}


def _provenance_part(net, provenance, sample):
    """The ``provenance`` metadata: versions and time of saving, the caller's fields
    (seed, data, ...), and a sample (x, target) to trace by default."""
    import datetime
    doc = {"saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    doc.update(_versions())
    if provenance is not None:
        if not isinstance(provenance, dict) or not all(isinstance(k, str) for k in provenance):
            raise ValueError("provenance must be a dict with string keys")
        try:
            json.dumps(provenance, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ValueError(f"provenance must hold JSON values only ({e})") from None
        clash = sorted(set(provenance) & (set(doc) | {"sample"}))
        if clash:
            raise ValueError(f"provenance may not set {clash}: neurosim records them")
        doc.update(provenance)
    if sample is not None:
        try:
            x, t = sample
            x = np.asarray(x, dtype=float).reshape(-1)
            t = np.asarray(t, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError("sample must be a pair (x, target) of numbers") from None
        if x.shape != (net.n_inputs,) or len(t) not in (1, len(net.output_idx)) \
                or not (np.all(np.isfinite(x)) and np.all(np.isfinite(t))):
            raise ValueError(f"sample must be (x, target) with {net.n_inputs} finite inputs "
                             f"and 1 or {len(net.output_idx)} finite targets")
        doc["sample"] = {"x": x.tolist(), "target": t.tolist()}
    return doc


def save(net, path, history=None, *, provenance=None, sample=None):
    """Save a network (and optionally its training :class:`History`) to ``path``.

    Parameters
    ----------
    net : Network
        Its weights must be finite.
    path : str or os.PathLike
        ``*.json`` writes JSON; any other name writes an ``.npz`` archive (no suffix is
        added). The file is written to a temporary name first and then renamed, so a
        failed save leaves any existing file untouched.
    history : History, optional
        Stored alongside, e.g. the result of ``neurosim.train(net, ...)``; its edge names
        must be the network's.
    provenance : dict, optional
        Where the network came from, e.g. ``{"init_seed": 3, "shuffle_seed": 3, "data":
        {"name": "moons"}}`` (JSON values). The file always records the time of saving
        and the neurosim, NumPy, Numba and Python versions; :func:`provenance` reads it
        all back.
    sample : (x, target), optional
        One sample stored with the network (``neurosim trace --net FILE`` traces it by
        default), e.g. the first training point.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        For a non-network, non-finite weights, a mismatched history, or a bad path.
    """
    path = check_save_path(path)
    meta, arrays = _net_parts(net)
    meta["provenance"] = _provenance_part(net, provenance, sample)
    if history is not None:
        hmeta, harrays = _history_parts(history, net)
        meta["history"] = hmeta
        arrays.update(harrays)
    arrays = {k: _as_le(a) for k, a in arrays.items()}
    if path.suffix.lower() == ".json":
        payload = _json_document(meta, arrays)
    else:
        payload = None
        arrays = {_META: np.frombuffer(json.dumps(meta, allow_nan=False).encode(),
                                       dtype=np.uint8), **arrays}
    # a new file with mode 0o666 less the umask, like any other file the user writes
    # (mkstemp would make it 0o600); renamed over ``path`` once complete
    for _ in range(100):
        tmp = str(path.parent / f".neurosim-{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
            break
        except FileExistsError:
            continue
    else:
        raise ValueError(f"cannot create a temporary file in {path.parent}")
    try:
        with os.fdopen(fd, "wb") as f:
            if payload is None:
                _write_npz(f, arrays)
            else:
                f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


# =======================================================================================
# load: read (bounded, checked) -> rebuild (validated)
class _Bad(ValueError):
    pass


# what the zip and zlib modules raise on a damaged archive
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
               NotImplementedError, RuntimeError, zlib.error, struct.error,
               UnicodeDecodeError, KeyError, IndexError)


def _read_npz(path, max_bytes):
    try:
        return _read_npz_checked(path, max_bytes)
    except _Bad:
        raise
    except _ZIP_ERRORS as e:
        raise _Bad(f"not a readable neurosim .npz archive ({type(e).__name__}: {e})") from None


def _read_npz_checked(path, max_bytes):
    """(metadata, arrays) of an archive, in three bounded steps: the zip directory's
    declared sizes (nothing inflated yet), the metadata (its parse cost bounded before
    parsing) and every member's .npy header checked against the metadata, and only then
    the data, read straight into arrays of the checked shapes."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > 10_000:
            raise _Bad("too many members")
        total = sum(i.file_size for i in infos)
        if total > max_bytes:
            raise _Bad(f"declares {total} bytes of data, more than max_bytes={max_bytes}")
        members = {}
        for info in infos:
            name = info.filename
            if not name.endswith(".npy"):
                raise _Bad(f"unexpected member {name!r}")
            if name[:-4] in members:
                raise _Bad(f"member {name!r} appears twice")
            members[name[:-4]] = info
        if _META not in members:
            raise _Bad("no metadata member")
        with zf.open(members[_META]) as f:
            shape, dtype, size = _npy_header(f, members[_META].file_size, _META)
            if dtype != np.uint8 or len(shape) != 1:
                raise _Bad("the metadata member must be UTF-8 bytes")
            raw = _read_bytes(f, size)
        meta = _parse_json(raw, max_bytes - total)
        del raw
        headers = {}
        for key, info in members.items():
            if key != _META:
                with zf.open(info) as f:
                    headers[key] = _npy_header(f, info.file_size, key)
        _check_shapes(meta, {k: (h[0], h[1]) for k, h in headers.items()})
        _check_rebuild_cost(meta, total, max_bytes)
        arrays = {}
        for key, info in members.items():
            if key != _META:
                with zf.open(info) as f:
                    shape, dtype, size = _npy_header(f, info.file_size, key)
                    arrays[key] = _read_array(f, shape, dtype, key)
    return meta, arrays


def _npy_header(f, size, key):
    """(shape, dtype, data bytes) of one .npy member, checked against its byte size."""
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(f, max_header_size=10_000)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(f, max_header_size=10_000)
    else:
        raise _Bad(f"member {key!r}: unsupported .npy version {version}")
    if dtype.str not in ("<f8", "<f4", "<i8", "|u1", "|b1") or dtype.hasobject:
        raise _Bad(f"member {key!r}: dtype {dtype} is not allowed")
    if fortran:
        raise _Bad(f"member {key!r}: Fortran order is not allowed")
    if len(shape) > 8 or any(not isinstance(s, int) or s < 0 for s in shape):
        raise _Bad(f"member {key!r}: bad shape {shape}")
    header = f.tell()
    nbytes = math.prod(shape) * dtype.itemsize
    if header + nbytes != size:
        raise _Bad(f"member {key!r}: header declares shape {shape} ({nbytes} bytes) but "
                   f"the member holds {size - header}")
    return shape, dtype, nbytes


_CHUNK = 1 << 20


def _read_bytes(f, nbytes):
    """``nbytes`` from ``f`` into one bytearray, a chunk at a time (no second copy)."""
    buf = bytearray(nbytes)
    _fill(f, memoryview(buf), "the metadata")
    return buf


def _read_array(f, shape, dtype, key):
    a = np.empty(shape, dtype=dtype)
    _fill(f, memoryview(a.reshape(-1).view(np.uint8)), f"member {key!r}")
    return a


def _fill(f, view, what):
    pos, n = 0, len(view)
    while pos < n:
        chunk = f.read(min(_CHUNK, n - pos))
        if not chunk:
            raise _Bad(f"{what} is truncated")
        view[pos:pos + len(chunk)] = chunk
        pos += len(chunk)


#: How deep JSON may nest: a file's document is 5 levels deep (history -> records ->
#: neurons), so this only refuses hostile nesting, before the parser recurses into it.
MAX_DEPTH = 32


def _json_cost(text):
    """An upper bound on the bytes a parse of ``text`` holds, counted in one pass over
    it: the raw bytes, the text and every string in it (each at most its size), and
    per value, container, key and string the Python objects they become (a float 24
    bytes, an empty list 56, each list slot 8, a dict entry with its hash slots ~100)."""
    return (3 * sys.getsizeof(text) + 4096 + 16 * text.count("\\")
            + 40 * (text.count(",") + text.count("[") + text.count(":") + 1)
            + 100 * (text.count("[") + text.count("{") + text.count(":"))
            + 40 * text.count('"'))


def _json_depth(raw):
    """Deepest nesting of brackets outside strings in JSON bytes (numpy over the bytes,
    a chunk at a time; an escaped quote is one after an odd run of backslashes)."""
    a = np.frombuffer(raw, dtype=np.uint8)
    none = np.zeros(0, dtype=np.intp)
    quotes, slashes, brackets = [none], [none], [none]
    for i in range(0, len(a), 1 << 24):
        c = a[i:i + (1 << 24)]
        quotes.append(np.flatnonzero(c == 34) + i)
        slashes.append(np.flatnonzero(c == 92) + i)
        brackets.append(np.flatnonzero((c == 91) | (c == 93) | (c == 123) | (c == 125)) + i)
    q, bs, br = (np.concatenate(x) for x in (quotes, slashes, brackets))
    if len(bs):                                     # drop escaped quotes
        brk = np.flatnonzero(np.diff(bs) != 1)
        ends = bs[np.append(brk, len(bs) - 1)]
        starts = bs[np.concatenate([[0], brk + 1])]
        odd_end = ends[(ends - starts + 1) % 2 == 1]
        q = q[~np.isin(q, odd_end + 1)]
    inside = np.searchsorted(q, br) % 2 == 1        # an odd number of quotes before it
    br = br[~inside]
    if not len(br):
        return 0
    step = np.where((a[br] == 91) | (a[br] == 123), 1, -1).astype(np.int32)
    return int(np.cumsum(step).max())


def _parse_json(raw, budget, what="the metadata"):
    """Parse JSON bytes after checking that the parse fits in ``budget`` bytes and that
    the nesting is at most :data:`MAX_DEPTH`."""
    need = len(raw) * (2 if raw.isascii() else 5)    # the bytes and their text
    if need > budget:
        raise _Bad(f"{what} ({len(raw)} bytes) would take {need} bytes to decode, more "
                   f"than max_bytes allows ({max(budget, 0)} bytes left)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _Bad(f"{what} is not valid JSON ({e})") from None
    cost = _json_cost(text)
    if cost > budget:
        raise _Bad(f"{what} would take about {cost} bytes of memory to parse, more than "
                   f"max_bytes allows ({max(budget, 0)} bytes left)")
    if _json_depth(raw) > MAX_DEPTH:
        raise _Bad(f"{what} nests deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (json.JSONDecodeError, RecursionError) as e:
        raise _Bad(f"{what} is not valid JSON ({e})") from None


def _no_constant(name):
    raise _Bad(f"the metadata holds {name}, which JSON does not allow")


def _check_shapes(meta, specs):
    """Before any data is read: refuse members the metadata has no place for, and members
    larger than the metadata says they are, so that a small archive declaring large data
    is refused without inflating it. (Everything is checked in full, with the precise
    reason, when the network is rebuilt.)"""
    if not isinstance(meta, dict):
        raise _Bad("the metadata must be a JSON object")
    hist = meta.get("history")
    extra = sorted(k for k in specs if k not in _NET_ARRAYS
                   and not (isinstance(hist, dict) and k.startswith(_HIST_PREFIX)))
    if extra:
        raise _Bad(f"unexpected arrays {extra}")
    m = meta.get("n_edges")
    neurons = meta.get("neurons")
    if type(m) is not int or m < 0 or not isinstance(neurons, list):
        return                                      # _rebuild says what is wrong
    n = len(neurons)
    size = {k: math.prod(shape) for k, (shape, _) in specs.items()}
    want = {"src": m, "dst": m, "weights": m, "z": n, "outs": n, "deltas": n}
    et = specs.get(_HIST_PREFIX + "epoch_time")
    if isinstance(hist, dict) and et is not None and len(et[0]) == 1:
        e = et[0][0]
        want[_HIST_PREFIX + "weights"] = (e + 1) * m
        for name in _HIST_CURVES:
            want[_HIST_PREFIX + name] = e + 1
    for key, count in want.items():
        if size.get(key, 0) > count:
            raise _Bad(f"array {key!r} declares {size[key]} values, more than the "
                       f"metadata's {count}")


#: Bytes of working memory per edge and per neuron that rebuilding a network takes on
#: top of the arrays read (its own arrays and indexes, and the checks' temporaries).
_REBUILD_PER_EDGE = 96
_REBUILD_PER_NEURON = 1024


def _check_rebuild_cost(meta, data_bytes, max_bytes):
    m, neurons = meta.get("n_edges"), meta.get("neurons")
    if type(m) is not int or not isinstance(neurons, list):
        return
    cost = data_bytes + _REBUILD_PER_EDGE * m + _REBUILD_PER_NEURON * len(neurons)
    if cost > max_bytes:
        raise _Bad(f"rebuilding this network ({m} edges) would take about {cost} bytes, "
                   f"more than max_bytes={max_bytes}")


def _read_json(path, max_bytes):
    size = os.path.getsize(path)
    if 2 * size > max_bytes:                        # the bytes and at least their text
        raise _Bad(f"{size} bytes, which take at least {2 * size} to read as JSON, more "
                   f"than max_bytes={max_bytes}")
    with open(path, "rb") as f:
        raw = f.read(size + 1)
    if len(raw) > size:
        raise _Bad("the file grew while it was read")
    if raw.lstrip()[:1] not in (b"{", b"["):
        raise _Bad("not a neurosim file (neither an .npz archive nor a JSON document; "
                   "neurosim files are written by neurosim.save or neurosim train -o)")
    doc = _parse_json(raw, max_bytes, "the document")
    del raw
    if not isinstance(doc, dict):
        raise _Bad("the document must be a JSON object")
    spec = doc.pop("arrays", None)
    if not isinstance(spec, dict):
        raise _Bad("'arrays' must be an object of {name: {dtype, shape, data}}")
    arrays = {}
    for k, v in spec.items():
        if not isinstance(v, dict) or set(v) != {"dtype", "shape", "data"}:
            raise _Bad(f"array {k!r} must be {{dtype, shape, data}}")
        dt, shape, data = v["dtype"], v["shape"], v["data"]
        if dt not in ("<f8", "<f4", "<i8", "|u1", "|b1"):
            raise _Bad(f"array {k!r}: dtype {dt!r} is not allowed")
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(type(s) is int and s >= 0 for s in shape)):
            raise _Bad(f"array {k!r}: bad shape {shape!r}")
        if not isinstance(data, list) or len(data) != math.prod(shape):
            raise _Bad(f"array {k!r}: data must be a flat list of {math.prod(shape)} numbers")
        arrays[k] = _json_array(k, dt, shape, data)
        v["data"] = data = None                     # let the list go
    _check_rebuild_cost(doc, sum(a.nbytes for a in arrays.values()), max_bytes)
    return doc, arrays


def _json_array(k, dt, shape, data):
    """A JSON data list as an array of dtype ``dt``: the element types checked for the
    whole list at once (``set(map(type, ...))`` runs at C speed), then one conversion."""
    allowed = {"|b1": {bool}, "<i8": {int}, "|u1": {int, float}}.get(dt, {int, float, str})
    if not set(map(type, data)) <= allowed:
        bad = next(x for x in data if type(x) not in allowed)
        raise _Bad(f"array {k!r}: {bad!r} is not a {dt} value")
    types = allowed
    if str in types:                                # non-finite floats are written "nan" ...
        spec = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
        for x in data:
            if type(x) is str and x not in spec:
                raise _Bad(f"array {k!r}: {x!r} is not a {dt} value")
        data = [spec[x] if type(x) is str else x for x in data]
    try:
        return np.array(data, dtype=np.dtype(dt)).reshape(shape)
    except (OverflowError, ValueError) as e:
        what = {"<i8": "an int64", "|u1": "a uint8"}.get(dt, dt)
        raise _Bad(f"array {k!r}: a value is not {what} ({e})") from None


# -- rebuild ----------------------------------------------------------------------------
def _names(meta, key):
    v = meta.get(key)
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise _Bad(f"{key!r} must be a list of neuron names")
    return v


def _array(arrays, key, shape, dtypes):
    if key not in arrays:
        raise _Bad(f"array {key!r} is missing")
    a = arrays[key]
    if a.dtype.str not in dtypes:
        raise _Bad(f"array {key!r} has dtype {a.dtype}, expected one of {dtypes}")
    if a.shape != shape:
        raise _Bad(f"array {key!r} has shape {a.shape}, expected {shape}")
    return a


_META_KEYS = {"format", "version", "dtype", "loss", "bias", "inputs", "hidden", "outputs",
              "activations", "neurons", "n_edges", "history", "provenance"}


def _rebuild(meta, arrays):
    if not isinstance(meta, dict):
        raise _Bad("the metadata must be a JSON object")
    if meta.get("format") != FORMAT:
        raise _Bad(f"not a neurosim network file (format {meta.get('format')!r})")
    if type(meta.get("version")) is not int or meta["version"] != VERSION:
        raise _Bad(f"unsupported file version {meta.get('version')!r}; this neurosim "
                   f"reads version {VERSION}")
    extra = sorted(set(meta) - _META_KEYS)
    if extra:
        raise _Bad(f"unknown metadata keys {extra}")
    dtype = meta.get("dtype")
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise _Bad(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
    dtype = np.dtype(_DTYPES[dtype])
    loss = meta.get("loss")
    if not isinstance(loss, str):
        raise _Bad(f"loss must be a string, got {loss!r}")
    bias = meta.get("bias")
    if not isinstance(bias, str):
        raise _Bad(f"bias must be a neuron name, got {bias!r}")
    inputs, hidden, outputs = (_names(meta, k) for k in ("inputs", "hidden", "outputs"))
    neurons = _names(meta, "neurons")
    if sorted(neurons) != sorted(inputs + [bias] + hidden + outputs) \
            or len(set(neurons)) != len(neurons):
        raise _Bad("'neurons' must list the inputs, the bias, the hidden and the output "
                   "neurons, each once")
    acts = meta.get("activations")
    if not isinstance(acts, dict) or not all(isinstance(v, str) for v in acts.values()):
        raise _Bad("'activations' must map neuron names to activation names")
    if set(acts) != set(hidden) | set(outputs):
        raise _Bad("'activations' must name exactly the hidden and output neurons")
    m = meta.get("n_edges")
    if type(m) is not int or m < 0:
        raise _Bad(f"n_edges must be a non-negative integer, got {m!r}")
    n = len(neurons)
    src = _array(arrays, "src", (m,), ("<i8",))
    dst = _array(arrays, "dst", (m,), ("<i8",))
    w = _array(arrays, "weights", (m,), (dtype.str,))
    state = {k: _array(arrays, k, (n,), (dtype.str,)) for k in ("z", "outs", "deltas")}
    if m and (src.min() < 0 or dst.min() < 0 or src.max() >= n or dst.max() >= n):
        raise _Bad("edge indexes out of range")
    if not np.all(np.isfinite(w)):
        raise _Bad("edge weights must be finite")
    for k, a in state.items():      # inf is possible (a saturated bce delta), NaN is not
        if np.any(np.isnan(a)):
            raise _Bad(f"the stored {k} holds NaN")
    try:                        # index arrays, not a list of millions of edge tuples
        net = Network._from_index_arrays(neurons, src, dst, w, inputs=inputs,
                                         outputs=outputs, hidden=hidden,
                                         activation=dict(acts), loss=loss, bias=bias,
                                         dtype=dtype)
    except (ValueError, KeyError, TypeError) as e:
        raise _Bad(f"the network is invalid: {e}") from None
    pos = np.array([net.index[nm] for nm in neurons], dtype=np.int64)
    for k, a in state.items():
        getattr(net, k)[pos] = a
    if net.outs[net.bias] != 1.0:
        raise _Bad("the bias neuron's output must be 1")
    prov = meta.get("provenance", {})          # absent in files saved before it existed
    if not isinstance(prov, dict):
        raise _Bad("'provenance' must be a JSON object")
    hist = None
    if "history" in meta and meta["history"] is not None:
        hist = _rebuild_history(meta["history"], arrays, net)
    used = set(_NET_ARRAYS)                 # _rebuild_history checks its own arrays
    if hist is not None:
        used |= {k for k in arrays if k.startswith(_HIST_PREFIX)}
    extra = sorted(set(arrays) - used)
    if extra:
        raise _Bad(f"unexpected arrays {extra}")
    return net, hist


_NUMBER = (int, float)


def _scalar_ok(name, v):
    """Type/range rules for History's scalar fields (unknown future fields: any JSON scalar)."""
    num = type(v) in _NUMBER
    rules = {"lr": num and v > 0, "batch_size": type(v) is int and v >= 1,
             "samples": type(v) is int and v >= 0, "forward_passes": type(v) is int and v >= 0,
             "diverged_epoch": v is None or (type(v) is int and v >= 0),
             "compile_time": num and v >= 0, "method": isinstance(v, str),
             "l2": num and 0 <= v < float("inf")}
    return rules.get(name, v is None or type(v) in (bool, str, int, float))


def _rebuild_history(h, arrays, net):
    if not isinstance(h, dict):
        raise _Bad("'history' must be a JSON object")
    unknown = sorted(set(h) - set(_HIST_FIELDS))
    if unknown:
        raise _Bad(f"unknown history fields {unknown}")
    kw, used, records = {}, set(), None
    for name, v in h.items():
        if name == "records":
            if isinstance(v, dict):              # a Records: checked once shapes are known
                records = v
                used.update(_REC_PREFIX + k for k in _RECORDS_ARRAYS)
                continue
            if not isinstance(v, list) or not all(isinstance(k, str) for k in v):
                raise _Bad("history.records must list record names")
            keys = [_REC_PREFIX + k for k in v]
            if any(k not in arrays for k in keys):
                raise _Bad("a history record is missing")
            kw[name] = {k: arrays[key] for k, key in zip(v, keys)}
            used.update(keys)
        elif name in _HIST_ARRAYS:
            if v is None and name.startswith("test_"):
                kw[name] = None
            elif v == {"array": True} and _HIST_PREFIX + name in arrays:
                a = arrays[_HIST_PREFIX + name]
                if a.dtype.kind != "f":
                    raise _Bad(f"history.{name} must be a float array")
                kw[name] = a
                used.add(_HIST_PREFIX + name)
            else:
                raise _Bad(f"history array {name!r} is missing")
        elif name == "edge_names":
            if v != net.edge_names:
                raise _Bad("the history's edge names do not match the network's")
            kw[name] = list(v)
        else:
            if isinstance(v, str) and v in ("nan", "inf", "-inf") and name != "method":
                v = float(v)
            if not _scalar_ok(name, v):
                raise _Bad(f"history.{name}: bad value {v!r}")
            kw[name] = v
    extra = sorted(k for k in arrays if k.startswith(_HIST_PREFIX) and k not in used)
    if extra:
        raise _Bad(f"unexpected arrays {extra}")
    missing = [f.name for f in _HIST_FIELDS.values()
               if f.name not in kw and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise _Bad(f"history fields missing: {missing}")
    if kw["epoch_time"].ndim != 1:
        raise _Bad("history.epoch_time must be 1-d")
    e = len(kw["epoch_time"])
    for name in _HIST_CURVES:
        a = kw.get(name)
        if a is not None and a.shape != (e + 1,):
            raise _Bad(f"history.{name} must have shape ({e + 1},), not {a.shape}")
    if kw["weights"].shape != (e + 1, net.n_edges):
        raise _Bad(f"history.weights must have shape ({e + 1}, {net.n_edges})")
    if records is not None:
        kw["records"] = _rebuild_records(records, arrays, net, e)
    try:
        return History(**kw)
    except (TypeError, ValueError) as err:
        raise _Bad(f"bad history: {err}") from None


def _rebuild_records(meta, arrays, net, epochs):
    """A :class:`~neurosim.training.Records` from its metadata and four arrays, checked."""
    names = meta.get("neurons")
    if set(meta) != {"neurons"} or not isinstance(names, list) or not names \
            or not all(isinstance(nm, str) and nm in net.index for nm in names) \
            or len(set(names)) != len(names):
        raise _Bad("history.records must name neurons of the network, each once")
    a = {}
    for k in _RECORDS_ARRAYS:
        if _REC_PREFIX + k not in arrays:
            raise _Bad(f"history record array {k!r} is missing")
        a[k] = arrays[_REC_PREFIX + k]
    if a["sample"].dtype.str != "<i8" or any(a[k].dtype.kind != "f"
                                             for k in ("output", "delta", "error")):
        raise _Bad("history records: sample must be int64, the others floats")
    shape = a["sample"].shape
    if len(shape) != 2 or shape[0] != epochs or a["error"].shape != shape \
            or any(a[k].shape != (*shape, len(names)) for k in ("output", "delta")):
        raise _Bad(f"history records must have {epochs} rows (one per epoch) and agree "
                   "in shape")
    if a["sample"].size and (a["sample"].min() < 0 or a["sample"].max() >= shape[1]):
        raise _Bad("history records: sample indexes out of range")
    data = {nm: {"output": a["output"][..., q].copy(), "delta": a["delta"][..., q].copy()}
            for q, nm in enumerate(names)}
    return Records(data, a["sample"], a["error"])


def load(path, *, with_history=False, max_bytes=MAX_BYTES):
    """Load a network saved by :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.json`` file or an ``.npz`` archive (recognised by content, not by name).
    with_history : bool
        Also return the stored :class:`History` (None if the file has none).
    max_bytes : int
        Refuse files holding more than this many bytes (decompressed).

    Returns
    -------
    Network, or (Network, History or None) with ``with_history=True``

    Raises
    ------
    ValueError
        If the file is missing, truncated, malformed or inconsistent: wrong dtypes,
        sizes that don't agree or exceed ``max_bytes``, unknown activation or loss
        names, cycles, duplicate edges, ... Nothing in the file is ever executed.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"path must be a file name, got {path!r}")
    max_bytes = check_int(max_bytes, "max_bytes", 1)
    if not isinstance(with_history, bool):
        raise ValueError(f"with_history must be True or False, got {with_history!r}")
    if not os.path.isfile(path):
        raise ValueError(f"no such file: {path}")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
        if head[:2] == b"PK":
            meta, arrays = _read_npz(path, max_bytes)
        else:
            meta, arrays = _read_json(path, max_bytes)
        net, hist = _rebuild(meta, arrays)
    except _Bad as e:
        raise ValueError(f"cannot load {path}: {e}") from None
    except (MemoryError, RecursionError, OverflowError) as e:
        raise ValueError(f"cannot load {path}: {type(e).__name__} {e}") from None
    return (net, hist) if with_history else net


def provenance(path, *, max_bytes=MAX_BYTES):
    """Where a saved network came from: a dict with the time of saving (``saved``), the
    ``neurosim``, ``numpy``, ``numba`` and ``python`` versions that wrote it, what the
    saver passed as ``provenance`` (``neurosim train`` records ``init_seed``,
    ``shuffle_seed``, ``data``, ``network``), and ``sample`` ({"x", "target"}) if one was
    stored. Files saved before neurosim recorded this give ``{}``. The file is checked
    as by :func:`load` (ValueError if it is not a valid neurosim file)."""
    meta = _load_meta(path, max_bytes)
    return dict(meta.get("provenance", {}))


def _load_meta(path, max_bytes):
    load(path, max_bytes=max_bytes)                 # every check, with its messages
    with open(path, "rb") as f:
        head = f.read(4)
    try:
        meta = (_read_npz(path, max_bytes) if head[:2] == b"PK"
                else _read_json(path, max_bytes))[0]
    except _Bad as e:
        raise ValueError(f"cannot load {path}: {e}") from None
    return meta


def info(path, **kw):
    """A short text description of a saved network (what ``neurosim info`` prints)."""
    net, hist = load(path, with_history=True, **kw)
    lines = [f"{path}: {net}",
             f"neurons: {' '.join(net.neuron_names)}",
             "activations: " + ", ".join(f"{nm}={net.activation(nm)}"
                                         for nm in net.neuron_names[net.first:])]
    lines.append("weights: " + ", ".join(f"{e}={w:.6g}"
                                         for e, w in zip(net.edge_names[:40], net.weights)))
    if net.n_edges > 40:
        lines[-1] += f", ... ({net.n_edges} in all)"
    lines.append(f"history: {hist!r}" if hist is not None else "history: none")
    prov = provenance(path, **kw)
    if prov:
        rest = {k: v for k, v in prov.items() if k not in ("sample",) + tuple(_versions())}
        lines.append("saved by: " + ", ".join(f"{k} {prov[k]}" for k in _versions()
                                              if k in prov))
        lines += [f"{k}: {_short(v)}" for k, v in rest.items()]
        if "sample" in prov:
            lines.append(f"sample: x={prov['sample']['x']}, target={prov['sample']['target']}")
    else:
        lines.append("provenance: not recorded (saved by an older neurosim)")
    return "\n".join(lines)


def _short(v):
    if isinstance(v, dict):
        return ", ".join(f"{k}={_short(x)}" for k, x in v.items())
    if isinstance(v, list):
        if len(v) > 8:
            return "[" + ", ".join(_short(x) for x in v[:8]) + f", … ({len(v)} in all)]"
        return "[" + ", ".join(_short(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
