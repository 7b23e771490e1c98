"""Training (layer 4 of 4, the Python API): :func:`train` and the :class:`History` it returns."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import engine
from .graph import _check_seed
from .kernels import cpu


class DivergenceError(FloatingPointError):
    """Raised by ``train(..., on_divergence="raise")`` when weights or loss stop being finite."""


@dataclass
class History:
    """What one training run did, as NumPy arrays.

    Index 0 of every per-epoch array is the state *before* the first epoch, index k the
    state after epoch k, so arrays have ``epochs_run + 1`` rows.

    Attributes
    ----------
    train_loss, train_acc : ndarray (epochs_run + 1,)
        Mean error per sample and accuracy on the training set, with the weights of that
        epoch's end (a separate evaluation pass, not the running average during the epoch).
    test_loss, test_acc : ndarray (epochs_run + 1,) or None
        The same on the test set, if one was given.
    weights : ndarray (epochs_run + 1, n_edges)
        Every weight before the first epoch and after each epoch; columns follow
        ``edge_names``.
    epoch_time : ndarray (epochs_run,)
        Seconds spent in the training kernel per epoch (evaluation excluded).
    train_time : float
        Sum of ``epoch_time``.
    samples : int
        Sample steps performed (samples per epoch x epochs run).
    forward_passes : int
        Forward passes made while learning (one per sample step for gradient descent).
    cups : float
        Connection updates per second: ``n_edges * samples / train_time``. One connection
        update = forward, backward and weight change of one edge for one sample.
    diverged_epoch : int or None
        Epoch at which weights or loss became NaN/inf (training stopped there).
    compile_time : float
        Seconds spent compiling the training kernel (or loading it from Numba's on-disk
        cache) before the first epoch -- on CUDA also uploading the data; not part of
        ``epoch_time``.
    """
    lr: float
    batch_size: int
    edge_names: list
    train_loss: np.ndarray
    train_acc: np.ndarray
    weights: np.ndarray
    epoch_time: np.ndarray
    test_loss: np.ndarray | None = None
    test_acc: np.ndarray | None = None
    samples: int = 0
    forward_passes: int = 0
    diverged_epoch: int | None = None
    compile_time: float = 0.0
    method: str = "sgd"
    records: dict = field(default_factory=dict)

    @property
    def epochs(self):
        """Epochs actually run."""
        return len(self.epoch_time)

    @property
    def train_time(self):
        return float(np.sum(self.epoch_time))

    @property
    def cups(self):
        t = self.train_time
        return len(self.edge_names) * self.samples / t if t > 0 else float("nan")

    @property
    def diverged(self):
        return self.diverged_epoch is not None

    def weight(self, name):
        """History of one weight by edge name, shape (epochs_run + 1,)."""
        names = self.edge_names
        if name not in names and "->" in name:
            s, d = name.split("->", 1)
            name = s + d if s + d in names else name
        try:
            return self.weights[:, names.index(name)]
        except ValueError:
            raise KeyError(f"no edge {name!r} in this history") from None

    def first_epoch_at(self, acc=1.0, which="test"):
        """First epoch whose accuracy (``which``: "test" or "train") is >= ``acc``
        (0 = before training), or None."""
        if which not in ("test", "train"):
            raise ValueError(f"which must be 'test' or 'train', got {which!r}")
        a = self.test_acc if which == "test" else self.train_acc
        if a is None:
            raise ValueError("this history has no test set")
        hit = np.flatnonzero(a >= acc - 1e-12)
        return int(hit[0]) if len(hit) else None

    def __repr__(self):
        last = f"train acc {self.train_acc[-1]:.3f}"
        if self.test_acc is not None:
            last += f", test acc {self.test_acc[-1]:.3f}"
        div = f", diverged at epoch {self.diverged_epoch}" if self.diverged else ""
        return (f"History({self.method}, lr={self.lr:g}, {self.epochs} epochs, {last}, "
                f"{self.cups:.3g} CUPS{div})")


_check_int = engine.check_int      # kept under its old name for the API modules


def train(net, X, y, *, lr=0.05, epochs=10, batch_size=1, shuffle=True, seed=0,
          skip_zero_error=False, X_test=None, y_test=None, on_divergence="stop",
          record=None, progress=False, device="cpu"):
    """Train ``net`` in place by gradient descent; return a :class:`History`.

    Parameters
    ----------
    net : Network
    X : array_like (n_samples, n_inputs)
    y : array_like (n_samples,) or (n_samples, n_outputs)
        Targets fitting ``net``'s loss (see :func:`neurosim.engine.as_targets`).
    lr : float
        Learning rate (eta), > 0.
    epochs : int
    batch_size : int
        1 (default) is per-sample SGD as in the chapter: forward, deltas, update, next
        sample. Larger sizes average the gradient over the batch.
    shuffle : bool
        Reshuffle the samples every epoch with a generator seeded by ``seed``.
    skip_zero_error : bool
        The chapter's rule: make no update for a sample whose error is exactly 0.
    X_test, y_test : array_like, optional
        Evaluated after every epoch.
    on_divergence : {"stop", "raise"}
        If weights or loss become NaN/inf: ``stop`` warns, stops training and records the
        epoch in ``History.diverged_epoch``; ``raise`` raises :class:`DivergenceError`.
        The network keeps the non-finite weights either way.
    record : list of str or "all", optional
        Neurons whose output and delta are stored at every sample step
        (``History.records``, a :class:`neurosim.tracing.Records`: for each neuron
        ``{"output": ..., "delta": ...}`` arrays of shape (epochs_run, n_samples)).
    progress : bool
        Show a tqdm progress bar over epochs.
    device : {"cpu", "cuda"}

    Raises
    ------
    ValueError
        For bad input (shapes, NaN/inf, labels that don't fit the loss, lr <= 0), before
        any weight changes.
    """
    engine.check_device(device)
    Xa = engine.as_inputs(net, X)
    T = engine.as_targets(net, y, Xa.shape[0])
    lr = engine.check_lr(lr)
    epochs = engine.check_int(epochs, "epochs", 0)
    batch_size = engine.check_int(batch_size, "batch_size", 1)
    if on_divergence not in ("stop", "raise"):
        raise ValueError(f"on_divergence must be 'stop' or 'raise', got {on_divergence!r}")
    for flag, v in (("shuffle", shuffle), ("skip_zero_error", skip_zero_error),
                    ("progress", progress)):
        engine.check_bool(v, flag)
    _check_seed(seed)
    Xt, Tt = engine.as_test_set(net, X_test, y_test)
    rec = None
    if record is not None:
        if device != "cpu":
            raise ValueError("record= needs device='cpu' (the recorder is a CPU kernel)")
        from .tracing import _recorder
        rec = _recorder(net, record, epochs, Xa.shape[0])
    rng = np.random.default_rng(seed)
    n = Xa.shape[0]
    w = net.weights
    z, out, delta, g = engine.scratch(net)
    grad = np.zeros(net.n_edges, dtype=net.dtype)
    lr_t = net.dtype.type(lr)

    tl, ta = engine._evaluate(net, Xa, T)
    hist_w = [w.copy()]
    train_loss, train_acc = [tl], [ta]
    test_loss, test_acc = [], []
    if X_test is not None:
        a, b = engine._evaluate(net, Xt, Tt)
        test_loss.append(a)
        test_acc.append(b)
    times = []
    diverged = None
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc=f"lr={lr:g}", unit="epoch")
    # compile (or load from Numba's cache) before the clock starts: an empty epoch on the
    # CPU; on CUDA, TrainState compiles its kernels and uploads the data
    t0 = time.perf_counter()
    cuda_state = engine._cuda().TrainState(net, Xa, T, batch_size) if device == "cuda" else None
    if cuda_state is None and rec is None:
        cpu.train_epoch(Xa, T, np.zeros(0, np.int64), lr_t, batch_size, skip_zero_error,
                        net.loss, net.n_inputs, net.act, net.is_output, net.output_idx,
                        net.run_ptr, net.run_edge, net.run_src, net.run_len, w, z, out,
                        delta, g, grad)
    compile_time = time.perf_counter() - t0
    for ep in range(1, epochs + 1):
        perm = rng.permutation(n) if shuffle else np.arange(n)
        t0 = time.perf_counter()
        if cuda_state is not None:
            cuda_state.epoch(perm, lr, skip_zero_error)
        elif rec is not None:
            rec.epoch(ep - 1, Xa, T, perm, lr_t, batch_size, skip_zero_error, grad)
        else:
            cpu.train_epoch(Xa, T, perm, lr_t, batch_size, skip_zero_error, net.loss,
                            net.n_inputs, net.act, net.is_output, net.output_idx, net.run_ptr,
                            net.run_edge, net.run_src, net.run_len, w, z, out, delta, g,
                            grad)
        times.append(time.perf_counter() - t0)
        if cuda_state is not None:
            cuda_state.sync_weights()
        tl, ta = engine._evaluate(net, Xa, T)
        hist_w.append(w.copy())
        train_loss.append(tl)
        train_acc.append(ta)
        if X_test is not None:
            a, b = engine._evaluate(net, Xt, Tt)
            test_loss.append(a)
            test_acc.append(b)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{tl:.4f}", acc=f"{ta:.3f}")
        if not (np.isfinite(tl) and np.all(np.isfinite(w))):
            diverged = ep
            break
    if bar is not None:
        bar.close()
    hist = History(lr=lr, batch_size=batch_size, edge_names=net.edge_names,
                   train_loss=np.array(train_loss), train_acc=np.array(train_acc),
                   weights=np.array(hist_w), epoch_time=np.array(times),
                   test_loss=np.array(test_loss) if X_test is not None else None,
                   test_acc=np.array(test_acc) if X_test is not None else None,
                   samples=n * len(times), forward_passes=n * len(times),
                   diverged_epoch=diverged, compile_time=compile_time)
    if rec is not None:
        hist.records = rec.result(len(times))
    if diverged is not None:
        msg = (f"training diverged at epoch {diverged} (lr={lr:g}): weights or loss became "
               "NaN/inf; try a smaller learning rate")
        if on_divergence == "raise":
            raise DivergenceError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return hist
