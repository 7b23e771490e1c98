"""What a training run returns: :class:`History` (one network), :class:`ManyHistory`
(many networks of one topology), :class:`Records` (recorded neuron values), one base for
the properties they share.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class DivergenceError(FloatingPointError):
    """Raised by ``train(..., on_divergence="raise")`` when weights or loss stop being finite."""


def _no_penalty(h):
    """A run given without the data/penalty split (no penalty: ``slow_learn``, files
    saved before it existed): the data terms are the losses, the penalty 0."""
    if h.penalty is None:
        h.penalty = np.zeros_like(np.asarray(h.train_loss, dtype=np.float64))
    if h.train_data_loss is None:
        h.train_data_loss = h.train_loss
    if h.test_data_loss is None and h.test_loss is not None:
        h.test_data_loss = h.test_loss


class _RunStats:
    """What History and ManyHistory share: epochs run, kernel time and CUPS."""

    n_nets = 1

    @property
    def epochs(self):
        """Epochs actually run."""
        return len(self.epoch_time)

    @property
    def train_time(self):
        """Seconds in the training kernel (sum of ``epoch_time``; evaluation excluded)."""
        return float(np.sum(self.epoch_time))

    @property
    def cups(self):
        """Connection updates per second (over all networks): edges x sample steps / s."""
        t = self.train_time
        return (self.n_nets * len(self.edge_names) * self.samples / t if t > 0
                else float("nan"))


@dataclass
class History(_RunStats):
    """What one training run did, as NumPy arrays.

    Index 0 of every per-epoch array is the state *before* the first epoch, index k the
    state after epoch k, so arrays have ``epochs_run + 1`` rows.

    Attributes
    ----------
    train_loss, train_acc : ndarray (epochs_run + 1,)
        Mean error per sample and accuracy on the training set, with the weights of that
        epoch's end (a separate evaluation pass, not the running average during the epoch).
        The error is the whole error minimised: ``train_data_loss + penalty``.
    test_loss, test_acc : ndarray (epochs_run + 1,) or None
        The same on the test set, if one was given (``test_data_loss + penalty``, as
        Keras reports a regularised model's validation loss).
    train_data_loss, test_data_loss : ndarray (epochs_run + 1,) or None
        The data term alone (the loss function's mean over the samples).
    penalty : ndarray (epochs_run + 1,)
        The L2 term ``l2/2 * sum w^2`` over the non-bias weights at that epoch's end
        (zeros when ``l2 == 0``).
    l2 : float
        The penalty's lambda.
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
    l2: float = 0.0
    train_data_loss: np.ndarray | None = None
    test_data_loss: np.ndarray | None = None
    penalty: np.ndarray | None = None

    def __post_init__(self):
        _no_penalty(self)

    @property
    def diverged(self):
        return self.diverged_epoch is not None

    def weight(self, name):
        """History of one weight by edge name, shape (epochs_run + 1,)."""
        names = self.edge_names
        if not isinstance(name, str):
            raise KeyError(f"no edge {name!r} in this history (edge names are strings)")
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


@dataclass
class ManyHistory(_RunStats):
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
        (evaluated on the device with that epoch's final weights); the error includes
        the L2 penalty: ``train_data_loss + penalty``.
    test_loss, test_acc : ndarray (n_nets, epochs + 1) or None
    train_data_loss, test_data_loss, penalty : ndarray (n_nets, epochs + 1)
        The data term and the L2 term apart (as in :class:`History`).
    l2 : ndarray (n_nets,)
        Each network's penalty lambda.
    weights_history : ndarray (epochs + 1, n_nets, n_edges) or None
        With ``keep_weights=True``.
    epoch_time : ndarray (epochs,)
        Seconds of each epoch: on CUDA the training launch alone; on the CPU the compiled
        call's wall time per epoch, evaluation included (so ``cups`` is end to end).
    samples : int
        Sample steps per network.
    diverged_epoch : ndarray (n_nets,) int
        First epoch after which a network's loss or weights were not finite, -1 if never.
        The others are unaffected. On the CPU a diverged network stops there (as
        ``train`` does) and its later rows repeat that epoch's values; on CUDA it keeps
        training (its weights stay NaN/inf).
    device : str
        The processor or GPU, by name.
    compile_time : float
        Seconds compiling (or loading from Numba's cache) and the first evaluation.
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
    compile_time: float = 0.0
    l2: np.ndarray | None = None
    train_data_loss: np.ndarray | None = None
    test_data_loss: np.ndarray | None = None
    penalty: np.ndarray | None = None

    def __post_init__(self):
        _no_penalty(self)

    @property
    def n_nets(self):
        return self.weights.shape[0]

    @property
    def diverged(self):
        return self.diverged_epoch >= 0

    def __repr__(self):
        acc = self.train_acc[:, -1]
        return (f"ManyHistory({self.n_nets} nets, {self.epochs} epochs, train acc "
                f"{acc.min():.3f}..{acc.max():.3f}, {int(self.diverged.sum())} diverged, "
                f"{self.cups:.3g} CUPS on {self.device})")


class Records(dict):
    """What ``train(..., record=...)`` stored: ``{neuron: {"output": A, "delta": B}}``.

    ``A`` and ``B`` have shape ``(epochs_run, n_samples)``: entry ``[e, s]`` is the
    neuron's output / delta at sample step ``s`` of epoch ``e + 1`` (0-based ``e``),
    computed before that step's weight change.

    Attributes
    ----------
    sample : ndarray (epochs_run, n_samples) int64
        Index (into X) of the sample used at each step (the epoch's shuffle).
    error : ndarray (epochs_run, n_samples)
        That sample's error at that step.
    """

    def __init__(self, data, sample, error):
        super().__init__(data)
        self.sample = sample
        self.error = error

    def __repr__(self):
        shape = self.sample.shape
        return f"Records({list(self)}, shape {shape})"
