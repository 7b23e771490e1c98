"""The CPU backend: hands a Network's bundles to :mod:`neurosim.kernels.cpu`.

Mirror of :mod:`neurosim.backends.cuda`: the same public names and contracts (inputs
already checked by the caller, results in the Network's arrays or returned).
"""
from __future__ import annotations

import functools
import os
import time

import numpy as np

from ..kernels import cpu as K
from ..kernels import planner

__all__ = ["usable", "device_name", "kernel_source", "forward", "backward", "gradient",
           "sum_sq", "decays",
           "update", "predict",
           "evaluate", "Trainer", "ManyTrainer", "scratch", "no_record"]


#: A long epoch is cut into kernel calls of about this many seconds of work, so that a
#: KeyboardInterrupt (Ctrl-C) reaches Python within a second.
PIECE_SECONDS = 0.25


def usable():
    """The CPU can always run the kernels."""
    return True


@functools.lru_cache(maxsize=None)
def device_name():
    """The processor's model name (``platform.processor()`` where /proc/cpuinfo is absent);
    read once per process."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def kernel_source(net):
    """The source of the per-sample SGD epoch the planner generates for ``net`` (what
    ``train`` runs for networks of up to ``kernels.planner.MAX_EDGES`` edges)."""
    from ..inputs import check_net
    return planner.source(check_net(net))


def scratch(net):
    """Fresh per-neuron work arrays ``S = (z, out, delta, dedz)``."""
    n = net.n_neurons
    return tuple(np.zeros(n, dtype=net.dtype) for _ in range(4))


def no_record(net):
    """The empty ``rec`` bundle of :func:`kernels.cpu.train_epoch` (nothing recorded)."""
    return (np.zeros(0, np.int64), np.zeros((0, 0), net.dtype), np.zeros((0, 0), net.dtype),
            np.zeros(0, net.dtype))


# ---------------------------------------------------------------------------------------
# one sample
def forward(net, x):
    """One sample forward; sets ``net.z``, ``net.outs``; returns the outputs."""
    K.forward(x, net.topo, net.weights, net.z, net.outs)
    return net.outs[net.output_idx].copy()


def backward(net, t):
    """Deltas of every neuron for target ``t`` after :func:`forward`; returns the error E.
    Sets ``net.deltas`` (dE/d output) and ``net.dedz`` (dE/dz)."""
    dedz = np.zeros(net.n_neurons, dtype=net.dtype)
    E = K.backward(net.loss, net.topo, net.weights, net.z, net.outs, t, net.deltas, dedz)
    net.dedz = dedz
    return float(E)


def gradient(net):
    """dE/dw of every edge from the last forward/backward pass."""
    grad = np.empty(net.n_edges, dtype=net.dtype)
    K.gradient(net.topo, net.outs, net.dedz, grad)
    return grad


def update(net, lr):
    """``w -= lr * o_src * dedz_dst`` from the last forward/backward pass, in place."""
    K.update(net.topo, net.outs, net.dedz, net.weights, lr)


# ---------------------------------------------------------------------------------------
# many samples
def predict(net, X):
    """Outputs of the output neurons for every sample, shape (n_samples, n_outputs)."""
    Y = np.empty((X.shape[0], len(net.output_idx)), dtype=net.dtype)
    K.predict(X, net.topo, net.weights, scratch(net), Y)
    return Y


def evaluate(net, X, T):
    """(mean error per sample, accuracy) over a data set, the weights fixed (the planner's
    generated evaluation for a small net: same bits as the general kernel)."""
    n = X.shape[0]
    piece = max(1, int(PIECE_SECONDS / (0.5e-9 * max(1, net.n_edges))))   # forward only
    tot, right = 0.0, 0
    if planner.fits(net) and planner.loaded(net):      # training generated it
        ev = planner.kernels(net).evaluate
        for a in range(0, n, piece):
            tot, right = ev(X[a:a + piece], T[a:a + piece], net.weights, tot, right)
    else:
        S = scratch(net)
        for a in range(0, n, piece):
            tot, right = K.evaluate(X[a:a + piece], T[a:a + piece], net.loss, net.topo,
                                    net.weights, S, tot, right)
    return tot / n, right / n


def sum_sq(net, w=None):
    """Sum of the squares of the non-bias weights (``net.weights`` unless ``w``), in edge
    order in float64, as every kernel sums it: the L2 penalty is ``l2 / 2`` times it."""
    w = net.weights if w is None else np.ascontiguousarray(w, dtype=net.dtype)
    return float(K.sum_sq(w, net.topo[10], net.topo[0]))


def decays(net, lrs, l2):
    """Per-network ``lr * l2`` in the network's dtype (the kernels' ``decay``), the
    product rounded once, as :class:`Trainer` rounds it."""
    lrs = np.asarray(lrs, dtype=net.dtype)
    if l2 is None:
        return np.zeros_like(lrs)
    return np.ascontiguousarray(lrs * np.broadcast_to(np.asarray(l2, net.dtype), lrs.shape))


# ---------------------------------------------------------------------------------------
# training one network
class Trainer:
    """One network's training state for :func:`neurosim.train` on the CPU.

    ``compile_time`` is what compiling (or loading from Numba's cache) the epoch kernel
    took; :meth:`epoch` runs one epoch in place on ``net.weights``. With ``watch`` (neuron
    indexes) every step's outputs and deltas of those neurons are recorded
    (:meth:`records`), by the same epoch body compiled with recording on.
    """

    def __init__(self, net, X, T, batch_size=1, watch=None, epochs=0, l2=0.0, running=False):
        self.net, self.X, self.T, self.batch = net, X, T, int(batch_size)
        self.running = bool(running)
        self.l2 = net.dtype.type(l2)
        self.S = scratch(net)
        self.grad = np.zeros(net.n_edges, dtype=net.dtype)
        self.epochs_done = 0
        self.planned = None
        if watch is None:
            self.watch = None
            if self.batch == 1:           # one body compiled: the per-sample or minibatch one
                self.kernel = K.sgd_running if running else K.sgd_epoch
            else:
                self.kernel = K.minibatch_running if running else K.minibatch_epoch
            self.rec = no_record(net)
            if self.batch == 1 and planner.fits(net, steps=epochs * X.shape[0]):
                mod = planner.kernels(net)
                # the penalised twin whatever l2 is (decay 0 skips the penalty: the bits
                # and the speed of sgd_epoch), so l2 = 0 and l2 > 0 share one compilation
                self.planned = mod.sgd_running_l2 if running else mod.sgd_epoch_l2
        else:
            if running:
                raise ValueError("a running loss is not recorded: record= needs the "
                                 "evaluated train_loss")
            n, k = X.shape[0], len(watch)
            self.kernel, self.watch = K.record_epoch, np.asarray(watch, dtype=np.int64)
            self.out = np.zeros((epochs, n, k), dtype=net.dtype)
            self.delta = np.zeros((epochs, n, k), dtype=net.dtype)
            self.err = np.zeros((epochs, n), dtype=net.dtype)
            self.sample = np.zeros((epochs, n), dtype=np.int64)
            self.rec = (self.watch, np.zeros((0, k), net.dtype), np.zeros((0, k), net.dtype),
                        np.zeros(0, net.dtype))
        t0 = time.perf_counter()
        zero = net.dtype.type(0.0)
        self._run(np.zeros(0, np.int64), zero, zero, False, self.rec)
        self.compile_time = time.perf_counter() - t0

    def _run(self, perm, lr, decay, skip_zero, rec):
        net = self.net
        if self.planned is not None:
            return self.planned(self.X, self.T, perm, lr, decay, skip_zero, net.weights)
        if self.batch == 1 and self.watch is None:
            return self.kernel(self.X, self.T, perm, lr, decay, skip_zero, net.loss, net.topo,
                               net.weights, self.S, rec)
        return self.kernel(self.X, self.T, perm, lr, decay, self.batch, skip_zero, net.loss,
                           net.topo, net.weights, self.S, self.grad, rec)

    def epoch(self, perm, lr, skip_zero=False):
        """One epoch over the samples in ``perm`` order; returns (sum of E, updates), and
        with ``running`` (sum of E, updates, samples classified right before their step).

        A long epoch runs as several kernel calls of about :data:`PIECE_SECONDS` each (whole
        minibatches; one call for minibatches under ``skip_zero``, whose batches depend on
        the errors seen), with the same results, so Python sees a Ctrl-C within a second."""
        perm = np.ascontiguousarray(perm, dtype=np.int64)
        lr = self.net.dtype.type(lr)
        decay = lr * self.l2          # in the network's dtype, as train_many computes it
        rec = self.rec
        if self.watch is not None:
            e = self.epochs_done
            rec = (self.watch, self.out[e], self.delta[e], self.err[e])
            self.sample[e] = perm
        self.epochs_done += 1
        n = perm.shape[0]
        piece = self._piece(skip_zero)
        if piece >= n:
            return self._run(perm, lr, decay, bool(skip_zero), rec)
        acc = None
        for a in range(0, n, piece):
            r = rec if self.watch is None else tuple(x[a:a + piece] if x.ndim and i else x
                                                     for i, x in enumerate(rec))
            got = self._run(perm[a:a + piece], lr, decay, bool(skip_zero), r)
            acc = got if acc is None else tuple(x + y for x, y in zip(acc, got))
        return acc

    def evaluate_rows(self, W, X, T):
        """Sum of E and correct samples over (X, T) with each row of ``W`` (n_rows, n_edges)
        as the weights: two arrays (n_rows,), by the planner's generated evaluation where
        training runs generated code, else the general kernel; the same bits as
        :func:`evaluate` row by row. Calls of about PIECE_SECONDS of work."""
        net, rows = self.net, W.shape[0]
        loss, right = np.zeros(rows), np.zeros(rows, np.int64)
        per = max(1, int(PIECE_SECONDS / (0.5e-9 * max(1, net.n_edges) * max(1, X.shape[0]))))
        mod = planner.kernels(net) if self.planned is not None else None
        S = scratch(net)
        for a in range(0, rows, per):
            b = min(rows, a + per)
            if mod is not None:
                mod.evaluate_rows(X, T, W[a:b], loss[a:b], right[a:b])
            else:
                K.evaluate_rows(X, T, net.loss, net.topo, W[a:b], S, loss[a:b], right[a:b])
        return loss, right

    def _piece(self, skip_zero):
        """Sample steps per kernel call: about PIECE_SECONDS of work at ~2 ns per edge."""
        if self.batch > 1 and skip_zero:
            return 1 << 62
        steps = max(1, int(PIECE_SECONDS / (2e-9 * max(1, self.net.n_edges))))
        return max(self.batch, steps // self.batch * self.batch)

    def sync_weights(self):
        """Nothing to copy: the CPU kernels work on ``net.weights`` itself."""

    def records(self, names):
        """``(data, sample, error)`` of the epochs run, for :class:`neurosim.training.Records`."""
        e = self.epochs_done
        data = {nm: {"output": self.out[:e, :, q].copy(), "delta": self.delta[:e, :, q].copy()}
                for q, nm in enumerate(names)}
        return data, self.sample[:e].copy(), self.err[:e].copy()


# ---------------------------------------------------------------------------------------
# many networks at once (neurosim.train_many(..., device="cpu"))
def many_planned(net, k, epochs, n, batch_size):
    """Whether :class:`ManyTrainer` runs the kernel generated for ``net``'s topology on a
    call of ``k`` networks, ``epochs`` epochs of ``n`` samples and this batch size."""
    from ..kernels import plan_many
    return batch_size == 1 and plan_many.fits(net, steps=k * max(1, epochs) * n)


class ManyTrainer:
    """``k`` networks of one topology, weights ``W[edge, net]`` (networks innermost).

    :meth:`run` trains a stretch of epochs with their evaluations in compiled calls that
    release the GIL, on ``threads`` threads (default: one per core) that take chunks of
    networks one at a time. A small float64 net under per-sample SGD runs the kernel
    generated for its topology (:mod:`neurosim.kernels.plan_many`, ``planned``), anything
    else the general one (:func:`neurosim.kernels.many.train_many`).

    The data orders of :meth:`run` are ``order = (mode, perms, seeds)``: mode 0 the samples
    in order; 1 network i visits ``perms[i % len(perms), e]`` in epoch e of the stretch;
    2 network i draws its own from ``default_rng(seeds[i])``; 3 one order for every
    network from ``default_rng(seeds[0])`` -- modes 2 and 3 inside the compiled call.
    """

    def __init__(self, net, X, T, W0, lrs, batch_size, sets, keep_weights=False, epochs=0,
                 threads=None, l2=None, planned=None):
        from ..kernels import many as KM
        from ..kernels import plan_many
        self.KM, self.net, self.X, self.T = KM, net, X, T
        self.k = k = W0.shape[0]
        self.W = np.ascontiguousarray(W0.T)
        self.lrs = np.ascontiguousarray(lrs, dtype=net.dtype)
        self.decays = decays(net, self.lrs, l2)
        self.batch = int(batch_size)
        self.threads = threads or os.cpu_count() or 1
        if planned is None:
            planned = many_planned(net, k, epochs, X.shape[0], self.batch)
        self.mod = plan_many.kernels(net) if planned else None
        self.planned = self.mod is not None
        self.chunk = (self.mod.C if self.planned
                      else max(1, min(64, -(-k // self.threads))))
        self.n_chunks = -(-k // self.chunk)
        empty = (np.zeros((0, X.shape[1]), net.dtype), np.zeros((0, T.shape[1]), net.dtype))
        Xt, Tt = sets[1] if len(sets) > 1 else empty
        self.Xt, self.Tt, self.has_test = Xt, Tt, len(sets) > 1
        self.stopped = np.full(k, -1, np.int64)
        self.states = np.zeros((k, 6), np.uint64)
        rows = epochs + 1
        self.loss_tr, self.acc_tr = np.zeros((k, rows)), np.zeros((k, rows))
        self.loss_te, self.acc_te = np.zeros((k, rows)), np.zeros((k, rows))
        self.sq = np.zeros((k, rows))
        self.snaps = np.zeros((rows if keep_weights else 0, k, net.n_edges), net.dtype)
        if keep_weights:
            self.snaps[0] = W0
        self.done = 0
        t0 = time.perf_counter()
        self._compile()
        if not self.planned:        # the generated kernel evaluates epoch 0 itself
            self.sq[:, 0] = [sum_sq(net, w) for w in W0]
            self._chunks(self._evaluate)
        self.compile_time = time.perf_counter() - t0

    def _compile(self):
        """One tiny call with the real calls' argument types (compiles, or loads from
        Numba's cache), on scratch copies."""
        net, k = self.net, self.k
        n = min(2, self.X.shape[0])
        W = self.W[:, :1].copy()
        z = np.zeros((1, 1))
        args = (self.X[:n], self.T[:n], self.Xt[:0], self.Tt[:0])
        hist = (np.full(1, -1, np.int64), z, z.copy(), z.copy(), z.copy(), z.copy(),
                np.zeros((0, 1, net.n_edges), net.dtype))
        if self.planned:
            fn = self.mod.train_chunk if not np.any(self.decays) else self.mod.train_chunk_l2
            fn(*args, 0, np.zeros((1, 0, n), np.int64), np.zeros(1, np.int64),
               np.zeros((1, 6), np.uint64), self.lrs[:1], self.decays[:1], False, W, 0, 1, 1,
               0, *hist)
        else:
            self.KM.train_many(args[0], args[1], np.zeros((1, 0, n), np.int64), self.lrs[:1],
                               self.decays[:1], self.batch, False, net.loss, net.topo, W, 0,
                               0, 1, 0, 0, *args[2:], *hist)
        del k

    def _chunks(self, fn):
        """``fn(b)`` for every chunk b, on up to ``threads`` threads taking the next
        chunk as they finish one (the work per chunk varies: diverged networks, cores
        shared with other programs)."""
        n_chunks = self.n_chunks
        workers = min(self.threads, n_chunks)
        if workers <= 1:
            for b in range(n_chunks):
                fn(b)
            return
        import itertools
        import threading
        counter = itertools.count()
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    b = next(counter)
                if b >= n_chunks:
                    return
                fn(b)

        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(workers) as ex:
            for f in [ex.submit(worker) for _ in range(workers)]:
                f.result()

    def _evaluate(self, b):
        net, KM = self.net, self.KM
        KM.evaluate_many(self.X, self.T, net.loss, net.topo, self.W, self.chunk, b, b + 1,
                         self.loss_tr[:, 0], self.acc_tr[:, 0])
        if self.has_test:
            KM.evaluate_many(self.Xt, self.Tt, net.loss, net.topo, self.W, self.chunk, b,
                             b + 1, self.loss_te[:, 0], self.acc_te[:, 0])

    def run(self, order, count, skip_zero=False):
        """The next ``count`` epochs (see the class's ``order``)."""
        mode, perms, seeds = order
        first = self.done
        perms = (np.zeros((1, 0, 0), np.int64) if perms is None
                 else np.ascontiguousarray(perms, dtype=np.int64))
        seeds = (np.zeros(1, np.int64) if seeds is None
                 else np.ascontiguousarray(seeds, dtype=np.int64))
        skip = bool(skip_zero)
        if self.planned:
            fn = self.mod.train_chunk if not np.any(self.decays) else self.mod.train_chunk_l2
            C = self.chunk

            def one(b):
                k0 = b * C
                fn(self.X, self.T, self.Xt, self.Tt, mode, perms, seeds, self.states,
                   self.lrs, self.decays, skip, self.W, k0, min(C, self.k - k0), first, count,
                   self.stopped, self.loss_tr, self.acc_tr, self.loss_te, self.acc_te,
                   self.sq, self.snaps)
        else:
            if mode >= 2:           # the general kernel takes the orders drawn beforehand
                from ..kernels import rng
                perms = self._general_orders(rng, mode, seeds, count)
            elif mode == 0:
                perms = np.arange(self.X.shape[0])[None, None].repeat(count, 1)
            net, C = self.net, self.chunk

            def one(b):
                self.KM.train_many(self.X, self.T, perms, self.lrs, self.decays, self.batch,
                                   skip, net.loss, net.topo, self.W, first, count, C, b, b + 1,
                                   self.Xt, self.Tt, self.stopped, self.loss_tr, self.acc_tr,
                                   self.loss_te, self.acc_te, self.sq, self.snaps)
        self._chunks(one)
        self.done += count

    def _general_orders(self, rng, mode, seeds, count):
        """The orders of the next ``count`` epochs for the general kernel, drawn by the
        compiled generator, which keeps each network's state between stretches."""
        n = self.X.shape[0]
        rows = 1 if mode == 3 else self.k
        if self.done == 0:
            for i in range(rows):
                rng.seed(int(seeds[0 if mode == 3 else i]), self.states, i)
        return rng.draw_permutations(self.states[:rows], count, n)

    def weights(self):
        """Every network's weights as a new array (k, n_edges)."""
        return np.ascontiguousarray(self.W.T)
