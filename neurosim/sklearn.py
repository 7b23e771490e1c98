"""scikit-learn estimators around neurosim networks.

:class:`NeuronNetClassifier` and :class:`NeuronNetRegressor` build a fully connected
network (or copy one you give them), train it with :func:`neurosim.train` -- per-sample
SGD by default, exactly the chapter's algorithm -- and follow scikit-learn's contract:
``__init__`` only stores settings, ``fit`` returns ``self``, learned attributes end in
``_`` (``network_``, the trained :class:`~neurosim.graph.Network`; ``history_``, the
:class:`~neurosim.training.History` of the last fit or partial_fit). They work in
:class:`~sklearn.pipeline.Pipeline` and :class:`~sklearn.model_selection.GridSearchCV`.
The networks do not scale their inputs: put a ``StandardScaler`` in front.

>>> from sklearn.pipeline import make_pipeline                     # doctest: +SKIP
>>> from sklearn.preprocessing import StandardScaler
>>> clf = make_pipeline(StandardScaler(), NeuronNetClassifier((4, 4), epochs=20))
>>> clf.fit(X, y).score(X_test, y_test)
"""
from __future__ import annotations

import functools
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import ops
from .checks import check_bool, check_int, check_lr, check_positive
from .graph import INITS, Network
from .kernels.neuron import ACTIVATIONS
from .training import train


def _all_or_nothing(method):
    """``fit`` / ``partial_fit`` that leave the estimator as it was when they raise
    (``validate_data`` and the class set-up assign attributes before later checks can
    fail; the network itself only changes once ``train`` has checked its input)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(vars(self))
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(saved)
            raise
    return wrapper


class _NeuronNetBase(BaseEstimator):
    """Shared settings, checks and training of the two estimators."""

    def __init__(self, hidden_layer_sizes=(16,), activation="relu", lr=0.05, epochs=50,
                 batch_size=1, shuffle=True, init="glorot", scale=0.05, dtype="float64",
                 network=None, random_state=None, alpha=0.0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.init = init
        self.scale = scale
        self.dtype = dtype
        self.network = network
        self.random_state = random_state
        self.alpha = alpha

    # -- settings -------------------------------------------------------------------------
    def _check_params(self):
        """Validate every setting (raising ValueError) before anything is changed."""
        check_lr(self.lr)
        check_positive(self.alpha, "alpha", zero=True)
        check_int(self.epochs, "epochs", 0)
        check_int(self.batch_size, "batch_size", 1)
        check_bool(self.shuffle, "shuffle")
        if self.network is not None:
            if not isinstance(self.network, Network):
                raise ValueError("network must be a neurosim.Network or None, got "
                                 f"{type(self.network).__name__}")
            return
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise ValueError("hidden_layer_sizes must be a sequence of positive integers, "
                             f"got {self.hidden_layer_sizes!r}") from None
        if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
               for s in sizes):
            raise ValueError("hidden_layer_sizes must be a sequence of positive integers, "
                             f"got {self.hidden_layer_sizes!r}")
        if not isinstance(self.activation, str) or self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of "
                             f"{sorted(ACTIVATIONS)}")
        if not isinstance(self.init, str) or self.init not in INITS:
            raise ValueError(f"unknown init {self.init!r}; choose one of {list(INITS)}")
        check_positive(self.scale, "scale")
        if self.dtype not in ("float64", "float32", np.float64, np.float32):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        return [int(s) for s in sizes]

    def _make_network(self, n_in, n_out, output, loss, seed):
        hidden = self._check_params()
        if self.network is not None:
            net = self.network.copy()
            if net.n_inputs != n_in or len(net.output_idx) != n_out:
                raise ValueError(f"network has {net.n_inputs} inputs and "
                                 f"{len(net.output_idx)} outputs; the data needs {n_in} "
                                 f"and {n_out}")
            return net
        return Network.layered([n_in, *hidden, n_out], hidden=self.activation,
                               output=output, loss=loss, init=self.init, scale=self.scale,
                               seed=seed, dtype=np.dtype(self.dtype))

    def _train(self, net, X, T, epochs, rng):
        self.history_ = train(net, X, T, lr=self.lr, epochs=epochs,
                              batch_size=self.batch_size, shuffle=bool(self.shuffle),
                              seed=int(rng.randint(2 ** 31 - 1)),
                              l2=float(self.alpha) / int(self.batch_size))
        self.network_ = net
        self.n_iter_ = getattr(self, "n_iter_", 0) + self.history_.epochs
        self.loss_curve_ = self.history_.train_loss[1:].copy()

    def _check_X(self, X, reset):
        return validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])

    def _forward(self, X):
        check_is_fitted(self, "network_")
        X = self._check_X(X, reset=False)
        return ops.predict(self.network_, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags


class NeuronNetClassifier(ClassifierMixin, _NeuronNetBase):
    """A neurosim network as a scikit-learn classifier.

    Two classes: one sigmoid output with binary cross-entropy (the moons net's recipe).
    More: one identity output per class with ``softmax_ce``.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int
        Sizes of the hidden layers of a fully connected net (ignored with ``network``).
    activation : str
        Hidden activation: ``identity``, ``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``.
    lr : float
        Learning rate η > 0.
    epochs : int
        Epochs per ``fit`` (``partial_fit`` runs one).
    batch_size : int
        1 = per-sample SGD, as in the chapter.
    shuffle : bool
        Reshuffle the samples every epoch.
    init : {"normal", "glorot", "he"}
        Initial weights (biases start at 0); ``normal`` is N(0, ``scale``).
    scale : float
        Standard deviation of ``init="normal"``.
    dtype : {"float64", "float32"}
    network : Network, optional
        Train a copy of this network instead of a layered one; its inputs and outputs
        must fit the data (1 sigmoid output with ``bce`` for two classes, else one
        output per class).
    random_state : int, RandomState or None
        Draws the seeds of the initial weights and of the shuffling.
    alpha : float
        L2 penalty, scikit-learn's ``MLPClassifier(alpha=...)``: each minibatch's error
        gains ``alpha / (2 · batch_size) · Σ w²`` over the non-bias weights, as
        scikit-learn's does, i.e. ``train(..., l2=alpha / batch_size)``; 0 (default) is
        no penalty. ``loss_curve_`` includes it.

    Attributes
    ----------
    classes_ : ndarray
    network_ : Network
        The trained network.
    history_ : History
        Of the last ``fit`` / ``partial_fit`` call.
    loss_curve_ : ndarray
        Mean training loss after each epoch of the last call.
    n_iter_ : int
        Epochs trained in all.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When ``X`` had string column names.
    """

    def _encode(self, y):
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        if np.any(self.classes_[idx] != y):
            unknown = sorted(set(np.asarray(y)[self.classes_[idx] != y].tolist()))
            raise ValueError(f"y holds labels {unknown[:10]} not in classes_ {self.classes_}")
        if len(self.classes_) == 2:
            return idx.astype(np.float64)
        return idx

    def _make_network(self, n_in, n_out, output, loss, seed):
        net = super()._make_network(n_in, n_out, output, loss, seed)
        want = "sigmoid" if n_out == 1 else "identity"
        if (self.network is not None
                and (net.loss_name != loss
                     or any(net.activation(o) != want for o in net.output_names))):
            raise ValueError(f"for {max(n_out, 2)} classes the network needs "
                             f"{n_out} {want} output(s) and loss {loss!r}")
        return net

    def _setup(self, classes):
        self.classes_ = classes
        k = len(classes)
        if k < 2:
            raise ValueError(f"a classifier needs samples of at least 2 classes; got {k} "
                             f"class ({classes})")
        return (1, "sigmoid", "bce") if k == 2 else (k, "identity", "softmax_ce")

    @_all_or_nothing
    def fit(self, X, y):
        """Build a fresh network and train it for ``epochs`` epochs. Returns ``self``."""
        self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        n_out, output, loss = self._setup(np.unique(y))
        rng = check_random_state(self.random_state)
        net = self._make_network(X.shape[1], n_out, output, loss, rng.randint(2 ** 31 - 1))
        T = self._encode(y)
        self.n_iter_ = 0
        self._rng = rng
        self._train(net, X, T, self.epochs, rng)
        return self

    @_all_or_nothing
    def partial_fit(self, X, y, classes=None):
        """One epoch on ``(X, y)``; the first call needs ``classes`` (all labels).

        Returns ``self``.
        """
        first = not hasattr(self, "network_")
        self._check_params()
        if first and classes is None:
            raise ValueError("classes must be given on the first call to partial_fit")
        if not first and classes is not None and not np.array_equal(
                np.unique(classes), self.classes_):
            raise ValueError(f"classes {classes} differ from classes_ {self.classes_} of "
                             "the first call")
        X, y = validate_data(self, X, y, reset=first, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        if first:
            classes = np.unique(np.asarray(classes))
            n_out, output, loss = self._setup(classes)
            T = self._encode(y)
            self._rng = check_random_state(self.random_state)
            net = self._make_network(X.shape[1], n_out, output, loss,
                                     self._rng.randint(2 ** 31 - 1))
            self.n_iter_ = 0
        else:
            T = self._encode(y)
            net = self.network_
        self._train(net, X, T, 1, self._rng)
        return self

    def decision_function(self, X):
        """Scores: for two classes the logit of the sigmoid output (> 0 means
        ``classes_[1]``; ±inf where the sigmoid saturated to 0 or 1), else the logits
        of the softmax outputs."""
        Y = self._forward(X).astype(np.float64)
        if len(self.classes_) > 2:
            return Y
        p = Y[:, 0]
        with np.errstate(divide="ignore"):
            return np.log(p) - np.log1p(-p)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        check_is_fitted(self, "network_")
        X = self._check_X(X, reset=False)
        P = ops.predict_proba(self.network_, X).astype(np.float64)
        if len(self.classes_) == 2:
            P = np.column_stack([1.0 - P[:, 0], P[:, 0]])
        return P

    def predict(self, X):
        """Class labels, shape (n_samples,)."""
        P = self.predict_proba(X)
        return self.classes_[np.argmax(P, axis=1)]


class NeuronNetRegressor(RegressorMixin, _NeuronNetBase):
    """A neurosim network as a scikit-learn regressor: identity outputs, quadratic loss
    ½Σ(o − t)² (the chapter's cost), one output per target column.

    Parameters are those of :class:`NeuronNetClassifier`; ``network`` must have one
    output per target.

    Attributes
    ----------
    network_, history_, loss_curve_, n_iter_, n_features_in_, feature_names_in_
        As for :class:`NeuronNetClassifier`.
    n_outputs_ : int
    """

    def _targets(self, y):
        y = np.asarray(y, dtype=np.float64)
        return y if y.ndim == 2 else y[:, None]

    @_all_or_nothing
    def fit(self, X, y):
        """Build a fresh network and train it for ``epochs`` epochs. Returns ``self``."""
        self._check_params()
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=[np.float64, np.float32])
        T = self._targets(y)
        self._y_1d = y.ndim == 1
        self.n_outputs_ = T.shape[1]
        rng = check_random_state(self.random_state)
        net = self._make_network(X.shape[1], T.shape[1], "identity", "quadratic",
                                 rng.randint(2 ** 31 - 1))
        self.n_iter_ = 0
        self._rng = rng
        self._train(net, X, T, self.epochs, rng)
        return self

    @_all_or_nothing
    def partial_fit(self, X, y):
        """One epoch on ``(X, y)``. Returns ``self``."""
        first = not hasattr(self, "network_")
        self._check_params()
        X, y = validate_data(self, X, y, reset=first, multi_output=True, y_numeric=True,
                             dtype=[np.float64, np.float32])
        T = self._targets(y)
        if first:
            self._y_1d = y.ndim == 1
            self.n_outputs_ = T.shape[1]
            self._rng = check_random_state(self.random_state)
            net = self._make_network(X.shape[1], T.shape[1], "identity", "quadratic",
                                     self._rng.randint(2 ** 31 - 1))
            self.n_iter_ = 0
        else:
            if T.shape[1] != self.n_outputs_:
                raise ValueError(f"y has {T.shape[1]} targets; the network has "
                                 f"{self.n_outputs_}")
            net = self.network_
        self._train(net, X, T, 1, self._rng)
        return self

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs)."""
        Y = self._forward(X).astype(np.float64)
        return Y[:, 0] if self._y_1d else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
