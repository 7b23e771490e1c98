"""The CUDA backend: host drivers for :mod:`neurosim.kernels.cuda`, mirror of
:mod:`neurosim.backends.cpu` (same names), plus :class:`ManyTrainer` (a block per network).
Importing it raises :class:`CudaUnavailableError` (an ImportError saying why) without CUDA.
"""
from __future__ import annotations

import time
import weakref

import numpy as np

from .. import config


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

from ..kernels import cuda as K  # noqa: E402  (only once CUDA is known to be usable)


def usable():
    """True: importing this module succeeded, so a GPU (or the simulator) is here."""
    return True


__all__ = ["CudaUnavailableError", "usable", "forward", "backward", "update", "gradient", "predict",
           "evaluate", "Trainer", "ManyTrainer", "device_name", "levels"]


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

    Sets ``net.deltas`` (dE/d output) and ``net.dedz`` (dE/dz), as the CPU path does.

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
    net.dedz = G.copy_to_host()[:, 0].copy()
    return float(E.copy_to_host()[0])


def gradient(net):
    """dE/dw of every edge from the last forward/backward pass, a thread per edge.

    Returns
    -------
    ndarray (n_edges,) of net.dtype
    """
    t = _topology(net)
    out = nbcuda.to_device(net.outs)
    g = nbcuda.to_device(np.ascontiguousarray(net.dedz, dtype=net.dtype))
    grad = nbcuda.device_array(t.m, dtype=net.dtype)
    K.gradient[_grid(t.m)](t.src, t.dst, out, g, grad)
    return grad.copy_to_host()


def update(net, lr):
    """Apply the gradient step of the last forward/backward pass on the device:
    ``w -= lr * o_src * g_dst`` (a thread per edge); ``net.weights`` changes in place."""
    t = _topology(net)
    out = nbcuda.to_device(net.outs)
    g = nbcuda.to_device(np.ascontiguousarray(net.dedz, dtype=net.dtype))
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
class Trainer:
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

    def __init__(self, net, X, T, batch_size=1, l2=0.0):
        self.net = net
        self.t = _topology(net)
        self.batch = int(batch_size)
        self.l2 = net.dtype.type(l2)
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
                    self.X, self.T, empty, nbcuda.to_device(np.array([lr0])),
                    nbcuda.to_device(np.array([lr0])), self.batch, False, t.loss, t.n_in,
                    t.act, t.is_out, t.outputs, t.run_ptr, t.run_edge, t.run_src, t.run_len,
                    t.out_ptr, t.out_edge, t.src, t.dst, t.d_lvl_ptr, t.d_lvl_node, W, Zn, On,
                    Dn, Gn, GRAD, totals, upd)
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
                K.sgd_update[1, 1](t.src, t.dst, OUT, G, w, lr0, lr0, t.n_in, E, 0, False)
            else:
                K.batch_update[1, 1](t.src, t.dst, OUT, G, w, 0.0, lr0, t.n_in, 0)
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
        dec = lr_t * self.l2               # as the CPU rounds it
        d_perm = nbcuda.to_device(np.ascontiguousarray(perm, dtype=np.int64)[None, :])
        if mode.startswith("block"):
            if self._block is None:
                self._block = _block_scratch(t, 1)
            Zn, On, Dn, Gn, GRAD, totals, upd = self._block
            lrs = nbcuda.to_device(np.array([lr_t]))
            K.train_epoch[1, _block_threads(t)](
                self.X, self.T, d_perm, lrs, nbcuda.to_device(np.array([dec])), self.batch,
                bool(skip_zero), t.loss, t.n_in,
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
                    K.sgd_update[_grid(t.m)](t.src, t.dst, OUT, G, w, lr_t, dec, t.n_in, E,
                                             s, bool(skip_zero))
            else:
                for start in range(0, self.n_samples, self.batch):
                    nb = min(self.batch, self.n_samples - start)
                    self._sample_pass(rows, start, nb, w, Z, OUT, DELTA, G, E, False)
                    K.batch_update[_grid(t.m)](t.src, t.dst, OUT, G, w, float(lr_t) / nb,
                                               dec, t.n_in, nb)
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


# ---------------------------------------------------------------------------------------
# many networks at once (neurosim.train_many(..., device="cuda"))
class ManyTrainer:
    """``k`` networks of one topology resident on the device, one block per network.

    Parameters
    ----------
    net : Network
        The topology (its weights are not used).
    X, T : ndarray
        Training data, checked, of ``net.dtype``.
    W0 : ndarray (k, n_edges)
        Initial weights.
    lrs : ndarray (k,)
    batch_size : int
    sets : list of (X, T)
        Data sets :meth:`evaluate` runs on (training set first).
    """

    def __init__(self, net, X, T, W0, lrs, batch_size, sets, l2=None):
        from .cpu import decays
        self.t = t = _topology(net)
        self.k = k = W0.shape[0]
        self.n = X.shape[0]
        self.batch = int(batch_size)
        d = nbcuda.to_device
        self.dX, self.dT = d(X), d(T)
        self.dW, self.dlr = d(np.ascontiguousarray(W0)), d(np.ascontiguousarray(lrs))
        self.ddec = d(decays(net, lrs, l2))
        self.scratch = _block_scratch(t, k)
        self.blocks = max(1, min(k, int(config.MAX_BLOCKS)))
        self.threads = _block_threads(t)
        self.sets = [(d(sX), d(sT), sX.shape[0]) for sX, sT in sets]
        self.rights = nbcuda.device_array(k, dtype=np.int64)
        self.compile_time = 0.0

    def evaluate(self):
        """[(mean error (k,), accuracy (k,)) for each data set]."""
        t = self.t
        Zn, On, Dn, Gn, _, totals, _ = self.scratch
        res = []
        for sX, sT, ns in self.sets:
            K.evaluate[self.blocks, self.threads](
                sX, sT, t.loss, t.n_in, t.act, t.outputs, t.run_ptr, t.run_edge, t.run_src,
                t.run_len, t.d_lvl_ptr, t.d_lvl_node, self.dW, Zn, On, Dn, Gn, totals,
                self.rights)
            res.append((totals.copy_to_host() / ns, self.rights.copy_to_host() / ns))
        return res

    def epoch(self, perms, skip_zero=False):
        """One epoch; network i visits the samples in order ``perms[i % len(perms)]``."""
        t = self.t
        Zn, On, Dn, Gn, GRAD, totals, upd = self.scratch
        dperm = nbcuda.to_device(np.ascontiguousarray(perms, dtype=np.int64))
        K.train_epoch[self.blocks, self.threads](
            self.dX, self.dT, dperm, self.dlr, self.ddec, self.batch, bool(skip_zero), t.loss,
            t.n_in,
            t.act, t.is_out, t.outputs, t.run_ptr, t.run_edge, t.run_src, t.run_len,
            t.out_ptr, t.out_edge, t.src, t.dst, t.d_lvl_ptr, t.d_lvl_node, self.dW, Zn, On,
            Dn, Gn, GRAD, totals, upd)
        nbcuda.synchronize()

    def weights(self):
        """Every network's weights as a new host array (k, n_edges)."""
        return self.dW.copy_to_host()
