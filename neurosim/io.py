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
import io as _io
import json
import math
import os
import struct
import tempfile
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
_HIST_ARRAYS = ("train_loss", "train_acc", "weights", "epoch_time", "test_loss", "test_acc")


# =======================================================================================
# save
def _net_parts(net):
    """(metadata dict, {name: array}) for a network."""
    check_net(net)
    if not np.all(np.isfinite(net.weights)):
        raise ValueError("the network's weights are not all finite (did training "
                         "diverge?); such a network cannot be saved")
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


def save(net, path, history=None):
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
    if history is not None:
        hmeta, harrays = _history_parts(history, net)
        meta["history"] = hmeta
        arrays.update(harrays)
    arrays = {k: _as_le(a) for k, a in arrays.items()}
    if path.suffix.lower() == ".json":
        doc = dict(meta, arrays={k: {"dtype": a.dtype.str, "shape": list(a.shape),
                                     "data": [_json_scalar(x, k) for x in a.ravel().tolist()]}
                                 for k, a in arrays.items()})
        payload = json.dumps(doc, indent=1, allow_nan=False).encode()
    else:
        buf = _io.BytesIO()
        np.savez_compressed(buf, **{_META: np.frombuffer(json.dumps(
            meta, allow_nan=False).encode(), dtype=np.uint8)}, **arrays)
        payload = buf.getvalue()
    fd, tmp = tempfile.mkstemp(prefix=".neurosim-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
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
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > 10_000:
            raise _Bad("too many members")
        total = sum(i.file_size for i in infos)
        if total > max_bytes:
            raise _Bad(f"declares {total} bytes of data, more than max_bytes={max_bytes}")
        arrays, meta = {}, None
        for info in infos:
            name = info.filename
            if not name.endswith(".npy"):
                raise _Bad(f"unexpected member {name!r}")
            key = name[:-4]
            if key in arrays or (key == _META and meta is not None):
                raise _Bad(f"member {name!r} appears twice")
            with zf.open(info) as f:
                a = _read_npy(f, info.file_size, key)
            if key == _META:
                if a.dtype != np.uint8 or a.ndim != 1:
                    raise _Bad("the metadata member must be UTF-8 bytes")
                meta = _parse_json(a.tobytes())
            else:
                arrays[key] = a
    if meta is None:
        raise _Bad("no metadata member")
    return meta, arrays


def _read_npy(f, size, key):
    """Read one .npy member, checking its header against its byte size first."""
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
    count = math.prod(shape)
    header = f.tell()
    nbytes = count * dtype.itemsize
    if header + nbytes != size:
        raise _Bad(f"member {key!r}: header declares shape {shape} ({nbytes} bytes) but "
                   f"the member holds {size - header}")
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise _Bad(f"member {key!r} is truncated")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _parse_json(raw):
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise _Bad(f"the metadata is not valid JSON ({e})") from None


def _no_constant(name):
    raise _Bad(f"the metadata holds {name}, which JSON does not allow")


def _read_json(path, max_bytes):
    size = os.path.getsize(path)
    if size > max_bytes:
        raise _Bad(f"{size} bytes, more than max_bytes={max_bytes}")
    with open(path, "rb") as f:
        doc = _parse_json(f.read())
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
        vals = []
        for x in data:
            if isinstance(x, str) and x in ("nan", "inf", "-inf") and dt[1] == "f":
                x = float(x)
            if isinstance(x, bool) != (dt == "|b1") or not isinstance(x, (int, float)):
                raise _Bad(f"array {k!r}: {x!r} is not a {dt} value")
            if dt == "<i8" and (not isinstance(x, int) or not -2**63 <= x < 2**63):
                raise _Bad(f"array {k!r}: {x!r} is not an int64")
            vals.append(x)
        try:
            arrays[k] = np.array(vals, dtype=np.dtype(dt)).reshape(shape)
        except (OverflowError, ValueError) as e:
            raise _Bad(f"array {k!r}: {e}") from None
    return doc, arrays


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
              "activations", "neurons", "n_edges", "history"}


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
    edges = [(neurons[s], neurons[d], float(x)) for s, d, x in zip(src, dst, w)]
    try:
        net = Network.from_edges(edges, inputs=inputs, outputs=outputs, hidden=hidden,
                                 activation=dict(acts), loss=loss, bias=bias, dtype=dtype)
    except (ValueError, KeyError, TypeError) as e:
        raise _Bad(f"the network is invalid: {e}") from None
    pos = np.array([net.index[nm] for nm in neurons], dtype=np.int64)
    for k, a in state.items():
        getattr(net, k)[pos] = a
    if net.outs[net.bias] != 1.0:
        raise _Bad("the bias neuron's output must be 1")
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
             "compile_time": num and v >= 0, "method": isinstance(v, str)}
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
    e = len(kw["epoch_time"])
    if kw["epoch_time"].ndim != 1:
        raise _Bad("history.epoch_time must be 1-d")
    for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
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
    return "\n".join(lines)
