"""The CUDA variant: host drivers for :mod:`neurosim.kernels.cuda` and its public API.

Three layers, as in the CPU path: the ``@cuda.jit`` kernels see only arrays; the drivers here
copy arrays to the device, pick launch configurations (:mod:`neurosim.config`) and copy
results back; the public functions have the CPU signatures plus ``device="cuda"`` (through
:mod:`neurosim.engine` and :func:`neurosim.train`) or are new (:func:`train_many`).

Modes
-----
* **Single sample** (:func:`forward`, :func:`backward`, :func:`update`, :func:`gradient`):
  one launch per topological level, one thread per neuron of the level; one thread per
  edge for the update. :func:`predict` does the same for many samples at once;
  :func:`evaluate` runs the many-networks evaluation kernel with one network.
* **Per-sample SGD** (``train(..., device="cuda")``, :class:`TrainState`): a network with at
  most ``config.SGD_BLOCK_MAX_EDGES`` edges runs each epoch as one single-block launch
  (levels separated by block barriers); a wider one launches, for every sample, one kernel
  per level forward, one for the loss, one per level backward and one for the update -- the
  sample index is a kernel argument, so nothing is copied inside the epoch.
* **Minibatch** (``batch_size > 1``): threads over (sample x neuron) per level, gradients
  summed per edge by one thread per edge.
* **Many networks** (:func:`train_many`): the same topology with different initial weights
  and/or learning rates, one block per network, a whole epoch per launch.

Every mode gives the results of the CPU kernels for the same network, data order and
learning rate: to rounding in float64 (~1e-12 relative; FMA contraction on a real GPU is
the only difference) and to float32 rounding in float32.

Importing this module raises :class:`CudaUnavailableError` (an ``ImportError``) saying what
is missing when numba-cuda is not installed or no GPU is usable, unless Numba's CUDA
simulator is enabled (``NUMBA_ENABLE_CUDASIM=1`` before numba is imported).
"""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

import numpy as np

from . import config, engine
from .graph import Network, _check_seed


class CudaUnavailableError(ImportError):
    """``device="cuda"`` was asked for, but CUDA cannot be used here (the message says why)."""


_INSTALL = ("Install the CUDA extra with `pip install 'neurosim[cuda]'` (or `pip install "
            "numba-cuda`) on a machine with an NVIDIA GPU and driver, or set "
            "NUMBA_ENABLE_CUDASIM=1 before numba is imported to run the CUDA kernels on "
            "Numba's (slow) CUDA simulator.")


def _require_cuda():
    """``numba.cuda`` if it can run kernels (a GPU, or the simulator); else raise."""
    try:
        import numba
        from numba import cuda as nbcuda
    except ImportError as e:
        raise CudaUnavailableError(
            f"device='cuda' needs numba-cuda, which could not be imported ({e}). "
            + _INSTALL) from e
    if numba.config.ENABLE_CUDASIM:
        return nbcuda
    try:
        ok = nbcuda.is_available()
    except Exception:                       # a broken driver install raises here
        ok = False
    if not ok:
        raise CudaUnavailableError(
            "device='cuda' found no usable NVIDIA GPU: numba.cuda.is_available() is False "
            "(no GPU, no CUDA driver, or a driver too old for numba-cuda; "
            "`python -c 'from numba import cuda; cuda.detect()'` says more). " + _INSTALL)
    return nbcuda


nbcuda = _require_cuda()

from .kernels import cuda as K  # noqa: E402  (only once CUDA is known to be usable)

__all__ = ["CudaUnavailableError", "forward", "backward", "update", "gradient", "predict",
           "evaluate", "TrainState", "train_many", "ManyHistory", "device_name", "levels"]


# ---------------------------------------------------------------------------------------
# topology on the device
def levels(net):
    """Neurons grouped by topological level: ``(lvl_ptr, lvl_node)``.

    Level 0 holds the inputs and the bias neuron; the neurons of level L are
    ``lvl_node[lvl_ptr[L]:lvl_ptr[L+1]]`` and only read outputs of lower levels.

    Returns
    -------
    lvl_ptr : ndarray (n_levels + 1,) int64
    lvl_node : ndarray (n_neurons,) int64
    """
    lev = np.asarray(net.level, dtype=np.int64)   # >= 1 after the bias, even with no inputs
    lvl_node = np.argsort(lev, kind="stable").astype(np.int64)
    lvl_ptr = np.zeros(int(lev.max()) + 2, dtype=np.int64)
    np.cumsum(np.bincount(lev), out=lvl_ptr[1:])
    return lvl_ptr, lvl_node


class _Topology:
    """A network's index arrays on the device (they never change, weights aside)."""

    def __init__(self, net):
        self.lvl_ptr, self.lvl_node = levels(net)
        self.widths = np.diff(self.lvl_ptr)
        self.n_levels = len(self.widths)
        self.n, self.m, self.n_in = net.n_neurons, net.n_edges, net.n_inputs
        self.n_out = len(net.output_idx)
        self.loss = net.loss
        self.dtype = net.dtype
        td = nbcuda.to_device
        self.act, self.is_out, self.outputs = td(net.act), td(net.is_output), td(net.output_idx)
        self.run_ptr, self.run_edge = td(net.run_ptr), td(net.run_edge)
        self.run_src, self.run_len = td(net.run_src), td(net.run_len)
        self.out_ptr, self.out_edge = td(net.out_ptr), td(net.out_edge)
        self.src, self.dst = td(net.src), td(net.dst)
        self.d_lvl_ptr, self.d_lvl_node = td(self.lvl_ptr), td(self.lvl_node)

    def fwd(self):
        return (self.n_in, self.act, self.run_ptr, self.run_edge, self.run_src, self.run_len)

    def bwd(self):
        return (self.n_in, self.act, self.is_out, self.out_ptr, self.out_edge, self.dst)


_TOPOLOGIES = weakref.WeakKeyDictionary()    # Network -> _Topology, nothing stored on it


def _topology(net):
    t = _TOPOLOGIES.get(net)
    if t is None or t.dtype != net.dtype:
        t = _TOPOLOGIES[net] = _Topology(net)
    return t


# ---------------------------------------------------------------------------------------
# launch configuration
def _grid(items):
    """(blocks, threads) for ``items`` independent work items (grid-stride beyond)."""
    tpb = max(1, int(config.THREADS_PER_BLOCK))
    blocks = max(1, min(int(config.MAX_BLOCKS), -(-int(items) // tpb)))
    return blocks, tpb


def _block_threads(topo):
    """Threads of a block-per-network kernel: the widest level, rounded up to a warp."""
    if config.BLOCK_THREADS:
        return max(1, int(config.BLOCK_THREADS))
    warp = int(config.WARP)
    widest = max(int(topo.widths.max(initial=1)), 1)
    t = -(-widest // warp) * warp
    return max(warp, min(t, int(config.MAX_BLOCK_THREADS)))


def device_name():
    """Name of the current CUDA device ("CUDA simulator" under the simulator)."""
    import numba
    if numba.config.ENABLE_CUDASIM:
        return "Numba CUDA simulator"
    name = nbcuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


# ---------------------------------------------------------------------------------------
# level sweeps (host side of the per-level kernels)
def _forward_levels(t, X, rows, start, nb, w, Z, OUT):
    """Every level forward for samples rows[start:start+nb] (one launch per level)."""
    for L in range(t.n_levels):
        lo, hi = int(t.lvl_ptr[L]), int(t.lvl_ptr[L + 1])
        if hi == lo:
            continue
        K.forward[_grid((hi - lo) * nb)](X, rows, start, nb, *t.fwd(), w, Z, OUT,
                                         t.d_lvl_node, lo, hi)


def _backward_levels(t, w, Z, OUT, DELTA, G, nb, rev, lowest):
    """Every level from the top down to ``lowest`` backward (one launch per level)."""
    for L in range(t.n_levels - 1, lowest - 1, -1):
        lo, hi = int(t.lvl_ptr[L]), int(t.lvl_ptr[L + 1])
        if hi == lo:
            continue
        K.backward[_grid((hi - lo) * nb)](*t.bwd(), w, Z, OUT, DELTA, G, t.d_lvl_node, lo,
                                          hi, nb, rev)


def _column(net, v):
    """A per-neuron vector as an (n_neurons, 1) device array of the network's dtype."""
    return nbcuda.to_device(np.ascontiguousarray(np.asarray(v, dtype=net.dtype)[:, None]))


_ROW0 = np.zeros(1, dtype=np.int64)


# ---------------------------------------------------------------------------------------
# one sample (the engine's device="cuda" calls)
def forward(net, x):
    """One sample forward on the device; sets ``net.z``, ``net.outs``; returns the outputs.

    Parameters
    ----------
    net : Network
    x : ndarray (n_inputs,) of net.dtype

    Returns
    -------
    ndarray (n_outputs,) of net.dtype
    """
    t = _topology(net)
    X = nbcuda.to_device(np.ascontiguousarray(x, dtype=net.dtype)[None, :])
    rows = nbcuda.to_device(_ROW0)
    w = nbcuda.to_device(net.weights)
    Z = nbcuda.device_array((t.n, 1), dtype=net.dtype)
    OUT = nbcuda.device_array((t.n, 1), dtype=net.dtype)
    _forward_levels(t, X, rows, 0, 1, w, Z, OUT)
    net.z[:] = Z.copy_to_host()[:, 0]
    net.outs[:] = OUT.copy_to_host()[:, 0]
    return net.outs[net.output_idx].copy()


def backward(net, t):
    """Deltas of every neuron for target ``t`` after :func:`forward`; returns the error E.

    Sets ``net.deltas`` (dE/d output) and ``net._g`` (dE/dz), as the CPU path does.

    Parameters
    ----------
    t : ndarray (n_outputs,) of net.dtype
    """
    top = _topology(net)
    w = nbcuda.to_device(net.weights)
    Z, OUT = _column(net, net.z), _column(net, net.outs)
    DELTA = nbcuda.to_device(np.zeros((top.n, 1), dtype=net.dtype))
    G = nbcuda.to_device(np.zeros((top.n, 1), dtype=net.dtype))
    T = nbcuda.to_device(np.ascontiguousarray(t, dtype=net.dtype)[None, :])
    rows = nbcuda.to_device(_ROW0)
    E = nbcuda.device_array(1, dtype=np.float64)
    K.output_layer[1, 1](top.loss, top.act, top.outputs, Z, OUT, T, rows, 0, 1, DELTA, G, E,
                         True)
    _backward_levels(top, w, Z, OUT, DELTA, G, 1, False, 0)
    net.deltas[:] = DELTA.copy_to_host()[:, 0]
    net._g = G.copy_to_host()[:, 0].copy()
    return float(E.copy_to_host()[0])


def _signal(net):
    g = getattr(net, "_g", None)
    if g is None:
        raise RuntimeError("run forward and backward first")
    return g


def gradient(net):
    """dE/dw of every edge from the last forward/backward pass, a thread per edge.

    Returns
    -------
    ndarray (n_edges,) of net.dtype
    """
    t = _topology(net)
    out = nbcuda.to_device(net.outs)
    g = nbcuda.to_device(np.ascontiguousarray(_signal(net), dtype=net.dtype))
    grad = nbcuda.device_array(t.m, dtype=net.dtype)
    K.gradient[_grid(t.m)](t.src, t.dst, out, g, grad)
    return grad.copy_to_host()


def update(net, lr):
    """Apply the gradient step of the last forward/backward pass on the device:
    ``w -= lr * o_src * g_dst`` (a thread per edge); ``net.weights`` changes in place."""
    t = _topology(net)
    out = nbcuda.to_device(net.outs)
    g = nbcuda.to_device(np.ascontiguousarray(_signal(net), dtype=net.dtype))
    w = nbcuda.to_device(net.weights)
    K.update[_grid(t.m)](t.src, t.dst, out, g, w, float(lr))
    w.copy_to_host(net.weights)


def predict(net, X):
    """Outputs of the output neurons for every sample, threads over (sample x neuron).

    Parameters
    ----------
    X : ndarray (n_samples, n_inputs) of net.dtype

    Returns
    -------
    ndarray (n_samples, n_outputs) of net.dtype
    """
    t = _topology(net)
    N = X.shape[0]
    chunk = max(1, min(int(config.PREDICT_CHUNK), N))
    dX = nbcuda.to_device(np.ascontiguousarray(X, dtype=net.dtype))
    rows = nbcuda.to_device(np.arange(N, dtype=np.int64))
    w = nbcuda.to_device(net.weights)
    Z = nbcuda.device_array((t.n, chunk), dtype=net.dtype)
    OUT = nbcuda.device_array((t.n, chunk), dtype=net.dtype)
    Y = nbcuda.device_array((N, t.n_out), dtype=net.dtype)
    for start in range(0, N, chunk):
        nb = min(chunk, N - start)
        _forward_levels(t, dX, rows, start, nb, w, Z, OUT)
        K.predict[_grid(nb * t.n_out)](OUT, t.outputs, Y, start, nb)
    return Y.copy_to_host()


def evaluate(net, X, T):
    """Mean error per sample and accuracy over a data set on the device (the weights fixed;
    the block-per-network kernel of :func:`train_many` with one network).

    Parameters
    ----------
    X : ndarray (n_samples, n_inputs) of net.dtype
    T : ndarray (n_samples, n_outputs) of net.dtype

    Returns
    -------
    (mean error, accuracy) : float, float
    """
    t = _topology(net)
    Zn, On, Dn, Gn, _, totals, _ = _block_scratch(t, 1)
    rights = nbcuda.device_array(1, dtype=np.int64)
    W = nbcuda.to_device(np.ascontiguousarray(net.weights[None, :]))
    K.evaluate[1, _block_threads(t)](
        nbcuda.to_device(X), nbcuda.to_device(T), t.loss, t.n_in, t.act, t.outputs,
        t.run_ptr, t.run_edge, t.run_src, t.run_len, t.d_lvl_ptr, t.d_lvl_node, W, Zn, On,
        Dn, Gn, totals, rights)
    n = X.shape[0]
    return float(totals.copy_to_host()[0]) / n, int(rights.copy_to_host()[0]) / n


# ---------------------------------------------------------------------------------------
# training one network (train(..., device="cuda"))
class TrainState:
    """One network's training data, weights and scratch, resident on the device.

    ``neurosim.train(..., device="cuda")`` makes one, calls :meth:`epoch` once per epoch
    and :meth:`sync_weights` after it. Inside an epoch nothing is copied between host and
    device: the data order is uploaded once per epoch and every per-sample launch gets the
    sample's position as an argument.

    Parameters
    ----------
    net : Network
    X : ndarray (n_samples, n_inputs) of net.dtype
    T : ndarray (n_samples, n_outputs) of net.dtype
    batch_size : int
    """

    def __init__(self, net, X, T, batch_size=1):
        self.net = net
        self.t = _topology(net)
        self.batch = int(batch_size)
        self.n_samples = X.shape[0]
        self.X = nbcuda.to_device(np.ascontiguousarray(X, dtype=net.dtype))
        self.T = nbcuda.to_device(np.ascontiguousarray(T, dtype=net.dtype))
        self.W = nbcuda.to_device(np.ascontiguousarray(net.weights[None, :]))
        self._block = None
        self._levels = None
        self.mode = None
        t0 = time.perf_counter()
        self.compile()
        self.compile_time = time.perf_counter() - t0

    def compile(self):
        """JIT-compile (or load) every kernel :meth:`epoch` may launch, by launching each on
        empty work with a scratch copy of the weights, so that epoch times exclude it."""
        t, net = self.t, self.net
        W = nbcuda.to_device(np.zeros((1, t.m), dtype=net.dtype))
        empty = nbcuda.to_device(np.zeros((1, 0), dtype=np.int64))
        lr0 = net.dtype.type(0.0)
        for mode in sorted({self._mode(False), self._mode(True)}):
            if mode.startswith("block"):
                Zn, On, Dn, Gn, GRAD, totals, upd = _block_scratch(t, 1)
                K.train_epoch[1, 1](
                    self.X, self.T, empty, nbcuda.to_device(np.array([lr0])), self.batch,
                    False, t.loss, t.n_in, t.act, t.is_out, t.outputs, t.run_ptr, t.run_edge,
                    t.run_src, t.run_len, t.out_ptr, t.out_edge, t.src, t.dst, t.d_lvl_ptr,
                    t.d_lvl_node, W, Zn, On, Dn, Gn, GRAD, totals, upd)
                continue
            Z, OUT, DELTA, G = (nbcuda.to_device(np.zeros((t.n, 1), dtype=net.dtype))
                                for _ in range(4))
            E = nbcuda.to_device(np.zeros(1))
            rows, w = empty[0], W[0]
            K.forward[1, 1](self.X, rows, 0, 0, *t.fwd(), w, Z, OUT, t.d_lvl_node, 0, 0)
            K.output_layer[1, 1](t.loss, t.act, t.outputs, Z, OUT, self.T, rows, 0, 0, DELTA,
                                 G, E, False)
            K.backward[1, 1](*t.bwd(), w, Z, OUT, DELTA, G, t.d_lvl_node, 0, 0, 0, True)
            if mode == "sgd-levels":
                K.sgd_update[1, 1](t.src, t.dst, OUT, G, w, lr0, E, 0, False)
            else:
                K.batch_update[1, 1](t.src, t.dst, OUT, G, w, 0.0, 0)
        nbcuda.synchronize()

    def _mode(self, skip_zero):
        if self.t.m <= int(config.SGD_BLOCK_MAX_EDGES) or (self.batch > 1 and skip_zero):
            return "block" if self.batch == 1 else "block-batch"
        return "sgd-levels" if self.batch == 1 else "minibatch-levels"

    def epoch(self, perm, lr, skip_zero=False):
        """One epoch over the samples in ``perm`` order with learning rate ``lr``.

        Parameters
        ----------
        perm : ndarray (n_samples,) of int
        lr : float
        skip_zero : bool
            No update for a sample whose error is 0 (decided on the device).
        """
        t, net = self.t, self.net
        self.mode = mode = self._mode(skip_zero)
        lr_t = net.dtype.type(lr)
        d_perm = nbcuda.to_device(np.ascontiguousarray(perm, dtype=np.int64)[None, :])
        if mode.startswith("block"):
            if self._block is None:
                self._block = _block_scratch(t, 1)
            Zn, On, Dn, Gn, GRAD, totals, upd = self._block
            lrs = nbcuda.to_device(np.array([lr_t]))
            K.train_epoch[1, _block_threads(t)](
                self.X, self.T, d_perm, lrs, self.batch, bool(skip_zero), t.loss, t.n_in,
                t.act, t.is_out, t.outputs, t.run_ptr, t.run_edge, t.run_src, t.run_len,
                t.out_ptr, t.out_edge, t.src, t.dst, t.d_lvl_ptr, t.d_lvl_node, self.W, Zn,
                On, Dn, Gn, GRAD, totals, upd)
        else:
            nb_max = 1 if mode == "sgd-levels" else min(self.batch, self.n_samples)
            if self._levels is None or self._levels[0].shape[1] != nb_max:
                self._levels = tuple(nbcuda.device_array((t.n, nb_max), dtype=net.dtype)
                                     for _ in range(4)) + (
                    nbcuda.device_array(self.n_samples, dtype=np.float64),)
            Z, OUT, DELTA, G, E = self._levels
            rows = d_perm[0]
            w = self.W[0]
            if mode == "sgd-levels":
                for s in range(self.n_samples):
                    self._sample_pass(rows, s, 1, w, Z, OUT, DELTA, G, E, bool(skip_zero))
                    K.sgd_update[_grid(t.m)](t.src, t.dst, OUT, G, w, lr_t, E, s,
                                             bool(skip_zero))
            else:
                for start in range(0, self.n_samples, self.batch):
                    nb = min(self.batch, self.n_samples - start)
                    self._sample_pass(rows, start, nb, w, Z, OUT, DELTA, G, E, False)
                    K.batch_update[_grid(t.m)](t.src, t.dst, OUT, G, w, float(lr_t) / nb,
                                               nb)
        nbcuda.synchronize()

    def _sample_pass(self, rows, start, nb, w, Z, OUT, DELTA, G, E, want_E):
        t = self.t
        _forward_levels(t, self.X, rows, start, nb, w, Z, OUT)
        K.output_layer[_grid(nb)](t.loss, t.act, t.outputs, Z, OUT, self.T, rows, start, nb,
                                  DELTA, G, E, want_E)
        _backward_levels(t, w, Z, OUT, DELTA, G, nb, True, 1)

    def sync_weights(self):
        """Copy the device weights into ``net.weights`` (in place)."""
        self.W.copy_to_host(self.net.weights.reshape(1, -1))

    def weights(self):
        """The device weights as a new host array (n_edges,)."""
        return self.W.copy_to_host()[0]


def _block_scratch(t, k):
    """Per-network scratch of the block kernels for ``k`` networks."""
    da = nbcuda.device_array
    Zn, On, Dn, Gn = (nbcuda.to_device(np.zeros((k, t.n), dtype=t.dtype)) for _ in range(4))
    GRAD = nbcuda.to_device(np.zeros((k, t.m), dtype=t.dtype))
    return Zn, On, Dn, Gn, GRAD, da(k, dtype=np.float64), da(k, dtype=np.int64)


# ---------------------------------------------------------------------------------------
# many networks at once
@dataclass
class ManyHistory:
    """What :func:`train_many` did, one row per network.

    Attributes
    ----------
    lr : ndarray (n_nets,)
        Learning rate of each network.
    batch_size : int
    edge_names : list of str
    weights : ndarray (n_nets, n_edges)
        Final weights.
    train_loss, train_acc : ndarray (n_nets, epochs + 1)
        Mean error per sample and accuracy before training and after every epoch
        (evaluated on the device with that epoch's final weights).
    test_loss, test_acc : ndarray (n_nets, epochs + 1) or None
    weights_history : ndarray (epochs + 1, n_nets, n_edges) or None
        With ``keep_weights=True``.
    epoch_time : ndarray (epochs,)
        Seconds in the training launch of each epoch (evaluation excluded).
    samples : int
        Sample steps per network.
    diverged_epoch : ndarray (n_nets,) int
        First epoch after which a network's loss or weights were not finite, -1 if never.
        A diverged network keeps training (its weights stay NaN/inf); the others are
        unaffected.
    device : str
    """
    lr: np.ndarray
    batch_size: int
    edge_names: list
    weights: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    epoch_time: np.ndarray
    samples: int
    diverged_epoch: np.ndarray
    test_loss: np.ndarray | None = None
    test_acc: np.ndarray | None = None
    weights_history: np.ndarray | None = None
    device: str = ""

    @property
    def n_nets(self):
        return self.weights.shape[0]

    @property
    def epochs(self):
        return len(self.epoch_time)

    @property
    def train_time(self):
        return float(np.sum(self.epoch_time))

    @property
    def cups(self):
        """Aggregate connection updates per second over all networks."""
        t = self.train_time
        return (self.n_nets * len(self.edge_names) * self.samples / t if t > 0
                else float("nan"))

    @property
    def diverged(self):
        return self.diverged_epoch >= 0

    def __repr__(self):
        acc = self.train_acc[:, -1]
        return (f"ManyHistory({self.n_nets} nets, {self.epochs} epochs, train acc "
                f"{acc.min():.3f}..{acc.max():.3f}, {int(self.diverged.sum())} diverged, "
                f"{self.cups:.3g} CUPS on {self.device})")


def _stack_networks(nets, weights):
    """(template net, list of nets or None, initial weights (k, m))."""
    if isinstance(nets, Network):
        base, many = nets, None
        W = np.array(nets.weights[None, :], dtype=nets.dtype) if weights is None else weights
    else:
        many = list(nets)
        if not many or not all(isinstance(n, Network) for n in many):
            raise ValueError("nets must be a Network or a non-empty list of Networks")
        base = many[0]
        key = _topology_key(base)
        bad = [i for i, n in enumerate(many) if _topology_key(n) != key]
        if bad:
            raise ValueError(f"networks {bad[:10]} differ from network 0 in topology, "
                             "activations, loss or dtype; train_many needs one topology")
        if weights is not None:
            raise ValueError("give weights with a single Network, not with a list")
        W = np.stack([n.weights for n in many])
    W = np.asarray(W, dtype=np.float64)
    if W.ndim == 1:
        W = W[None, :]
    if W.ndim != 2 or W.shape[1] != base.n_edges or W.shape[0] == 0:
        raise ValueError(f"weights must have shape (n_nets, {base.n_edges}), got {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("initial weights must be finite")
    return base, many, np.ascontiguousarray(W, dtype=base.dtype)


def _topology_key(net):
    return (net.n_inputs, net.dtype.str, net.loss, net.src.tobytes(), net.dst.tobytes(),
            net.act.tobytes(), net.output_idx.tobytes())


def train_many(nets, X, y, *, lr=0.05, epochs=10, weights=None, batch_size=1, shuffle=True,
               seed=0, skip_zero_error=False, X_test=None, y_test=None, keep_weights=False):
    """Train many networks of one topology side by side, one CUDA block per network.

    Network k does exactly what ``neurosim.train(net_k, X, y, lr=lr[k], epochs=epochs,
    batch_size=batch_size, shuffle=shuffle, seed=seed[k], skip_zero_error=...)`` does on
    the CPU (same data order, same per-sample SGD), the whole epoch inside one launch.

    Parameters
    ----------
    nets : Network or list of Network
        A list: networks of one topology (same edges, activations, loss, dtype); their
        weights are the starting points and are replaced by the trained ones in place.
        A single Network: the template; its weights are the starting point of every
        network unless ``weights`` is given, and it is not modified.
    X : array_like (n_samples, n_inputs)
    y : array_like (n_samples,) or (n_samples, n_outputs)
    lr : float or array_like (n_nets,)
        One learning rate for all, or one per network (a single template net with one
        weight vector is then repeated for every learning rate).
    epochs : int
    weights : array_like (n_nets, n_edges), optional
        Initial weights, with a single template Network.
    batch_size : int
        1 = per-sample SGD; larger = minibatches (as the CPU path).
    shuffle : bool
    seed : int or sequence of int
        Seeds of the per-epoch reshuffle: one for all networks, or one per network.
    skip_zero_error : bool
    X_test, y_test : array_like, optional
    keep_weights : bool
        Also return every network's weights after every epoch.

    Returns
    -------
    ManyHistory
    """
    base, many, W0 = _stack_networks(nets, weights)
    Xa = engine.as_inputs(base, X)
    T = engine.as_targets(base, y, Xa.shape[0])
    epochs = engine.check_int(epochs, "epochs", 0)
    batch_size = engine.check_int(batch_size, "batch_size", 1)
    lrs = np.atleast_1d(np.asarray(lr, dtype=np.float64))
    if lrs.ndim != 1 or lrs.shape[0] == 0:
        raise ValueError("lr must be a number or a 1-d sequence of numbers")
    for v in lrs:
        engine.check_lr(v)
    k = max(W0.shape[0], lrs.shape[0])
    if W0.shape[0] not in (1, k) or lrs.shape[0] not in (1, k):
        raise ValueError(f"{W0.shape[0]} weight rows and {lrs.shape[0]} learning rates do "
                         "not broadcast to one number of networks")
    if many is not None and k != len(many):
        raise ValueError(f"{len(many)} networks but {lrs.shape[0]} learning rates")
    W0 = np.ascontiguousarray(np.broadcast_to(W0, (k, base.n_edges)))
    lrs = np.broadcast_to(lrs, (k,)).astype(base.dtype)
    one_seed = seed is None or np.isscalar(seed) or isinstance(seed, np.random.Generator)
    if one_seed:
        _check_seed(seed)
        seeds = None
    else:
        seeds = np.array([engine.check_int(s, "seed", 0) for s in seed], dtype=np.int64)
    if seeds is not None and seeds.shape != (k,):
        raise ValueError(f"seed must be one integer or {k} integers, got shape {seeds.shape}")
    for flag, v in (("shuffle", shuffle), ("skip_zero_error", skip_zero_error),
                    ("keep_weights", keep_weights)):
        engine.check_bool(v, flag)
    Xt, Tt = engine.as_test_set(base, X_test, y_test)
    n = Xa.shape[0]
    t = _topology(base)
    d = nbcuda.to_device
    dX, dT = d(Xa), d(T)
    dW, dlr = d(W0), d(lrs)
    scratch = _block_scratch(t, k)
    Zn, On, Dn, Gn, GRAD, totals, upd = scratch
    blocks = max(1, min(k, int(config.MAX_BLOCKS)))
    threads = _block_threads(t)
    sets = [(dX, dT, n)]
    if Xt is not None:
        sets.append((d(Xt), d(Tt), Xt.shape[0]))
    rights = nbcuda.device_array(k, dtype=np.int64)

    def evaluate():
        res = []
        for sX, sT, ns in sets:
            K.evaluate[blocks, threads](sX, sT, t.loss, t.n_in, t.act, t.outputs, t.run_ptr,
                                        t.run_edge, t.run_src, t.run_len, t.d_lvl_ptr,
                                        t.d_lvl_node, dW, Zn, On, Dn, Gn, totals, rights)
            res.append((totals.copy_to_host() / ns, rights.copy_to_host() / ns))
        return res

    rngs = ([np.random.default_rng(int(s)) for s in seeds] if seeds is not None
            else [np.random.default_rng(seed)])
    hist = [evaluate()]
    wh = [W0.copy()] if keep_weights else None
    w_ok = [np.ones(k, dtype=bool)]
    times = []
    for ep in range(epochs):
        perms = np.stack([r.permutation(n) if shuffle else np.arange(n) for r in rngs])
        dperm = d(perms.astype(np.int64))
        t0 = time.perf_counter()
        K.train_epoch[blocks, threads](
            dX, dT, dperm, dlr, batch_size, bool(skip_zero_error), t.loss, t.n_in, t.act,
            t.is_out, t.outputs, t.run_ptr, t.run_edge, t.run_src, t.run_len, t.out_ptr,
            t.out_edge, t.src, t.dst, t.d_lvl_ptr, t.d_lvl_node, dW, Zn, On, Dn, Gn, GRAD,
            totals, upd)
        nbcuda.synchronize()
        times.append(time.perf_counter() - t0)
        hist.append(evaluate())
        Wk = dW.copy_to_host()              # between epochs: k x n_edges, for divergence
        w_ok.append(np.all(np.isfinite(Wk), axis=1))
        if keep_weights:
            wh.append(Wk)
    Wf = dW.copy_to_host()
    tl = np.stack([h[0][0] for h in hist], axis=1)
    ta = np.stack([h[0][1] for h in hist], axis=1)
    bad = ~np.isfinite(tl) | ~np.stack(w_ok, axis=1)
    div = np.where(bad.any(axis=1), bad.argmax(axis=1), -1).astype(np.int64)
    out = ManyHistory(lr=lrs.astype(np.float64), batch_size=batch_size,
                      edge_names=base.edge_names, weights=Wf, train_loss=tl, train_acc=ta,
                      epoch_time=np.array(times), samples=n * epochs, diverged_epoch=div,
                      weights_history=np.array(wh) if keep_weights else None,
                      device=device_name())
    if X_test is not None:
        out.test_loss = np.stack([h[1][0] for h in hist], axis=1)
        out.test_acc = np.stack([h[1][1] for h in hist], axis=1)
    if many is not None:
        for net, w in zip(many, Wf):
            net.weights[:] = w
    return out
