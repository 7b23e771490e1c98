"""scikit-learn estimators: the estimator checks, pipelines, grid search, and that fit is
exactly neurosim.train."""
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import neurosim as ns
from neurosim.sklearn import NeuronNetClassifier, NeuronNetRegressor

#: Checks expected to fail, with the reason. None today. (check_array_api_input is
#: *skipped* by scikit-learn itself unless SCIPY_ARRAY_API=1 is set; the estimators
#: compute with NumPy and Numba only, so array-API namespaces are not supported.)
EXPECTED_FAILED = {}


@parametrize_with_checks([NeuronNetClassifier(), NeuronNetRegressor(),
                          NeuronNetClassifier(hidden_layer_sizes=(3, 3), activation="tanh",
                                              batch_size=4, dtype="float32")],
                         expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_checks(estimator, check):
    import warnings
    with warnings.catch_warnings():
        # some checks fit unscaled targets in the hundreds: plain SGD diverges there
        # (reported as a RuntimeWarning; the checks only test the API)
        warnings.filterwarnings("ignore", "training diverged", RuntimeWarning)
        check(estimator)


@pytest.fixture(scope="module")
def moons():
    return ns.datasets.moons(n_samples=300, seed=0)


def test_fit_is_train(moons):
    d = moons
    clf = NeuronNetClassifier(network=ns.presets.moons_net(seed=1), lr=0.05, epochs=4,
                              random_state=7).fit(d.X_train, d.y_train)
    rng = np.random.RandomState(7)
    rng.randint(2 ** 31 - 1)                        # the (unused) init seed
    net = ns.presets.moons_net(seed=1)
    h = ns.train(net, d.X_train, d.y_train, lr=0.05, epochs=4, seed=rng.randint(2 ** 31 - 1))
    np.testing.assert_array_equal(clf.network_.weights, net.weights)
    np.testing.assert_array_equal(clf.history_.train_loss, h.train_loss)
    np.testing.assert_array_equal(clf.predict_proba(d.X_test)[:, 1],
                                  ns.predict(net, d.X_test)[:, 0])
    assert clf.score(d.X_test, d.y_test) == pytest.approx(ns.evaluate(net, d.X_test,
                                                                      d.y_test)[1])
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 4


def test_pipeline_and_grid_search(moons):
    d = moons
    pipe = make_pipeline(StandardScaler(), NeuronNetClassifier(epochs=15, random_state=0))
    grid = GridSearchCV(pipe, {"neuronnetclassifier__lr": [0.05, 1e-5],
                               "neuronnetclassifier__hidden_layer_sizes": [(4, 4), (8,)]},
                        cv=2)
    grid.fit(d.X_train, d.y_train)
    assert grid.best_params_["neuronnetclassifier__lr"] == 0.05     # 1e-5 barely moves
    assert grid.score(d.X_test, d.y_test) > 0.95
    assert isinstance(grid.best_estimator_[-1].network_, ns.Network)


def test_multiclass_labels_and_proba():
    X, y = ns.datasets.gaussians(n_samples=200, seed=1)[::2]
    labels = np.array(["cat", "dog", "eel"])[(y + (X[:, 0] > 1)).astype(int)]
    clf = NeuronNetClassifier(epochs=10, random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["cat", "dog", "eel"]
    assert clf.network_.loss_name == "softmax_ce" and len(clf.network_.output_idx) == 3
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1.0)
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert np.array_equal(clf.predict(X), clf.classes_[clf.decision_function(X).argmax(1)])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:3], ["cat", "dog", "fox"])


def test_partial_fit(moons):
    d = moons
    clf = NeuronNetClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be given"):
        clf.partial_fit(d.X_train, d.y_train)
    assert not hasattr(clf, "network_")
    losses = []
    for _ in range(5):
        clf.partial_fit(d.X_train, d.y_train, classes=[0, 1])
        losses.append(clf.history_.train_loss[-1])
    assert clf.n_iter_ == 5 and losses[-1] < losses[0]
    w = clf.network_.weights.copy()
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(np.c_[d.X_train, d.X_train], d.y_train)
    np.testing.assert_array_equal(clf.network_.weights, w)


def test_regressor_multioutput():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    Y = np.c_[X @ [0.5, -1.0, 0.2], np.tanh(X[:, 0])]
    reg = NeuronNetRegressor(hidden_layer_sizes=(8,), activation="tanh", epochs=40,
                             random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (120, 2) and reg.n_outputs_ == 2
    assert reg.score(X, Y) > 0.9
    assert reg.network_.loss_name == "quadratic"
    one = NeuronNetRegressor(epochs=5, random_state=0).fit(X, Y[:, 0])
    assert one.predict(X).shape == (120,)


def test_network_param_must_fit():
    X = np.zeros((10, 3))
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="inputs"):
        NeuronNetClassifier(network=ns.presets.moons_net()).fit(X, y)
    with pytest.raises(ValueError, match="2 outputs"):     # 2 classes need 1 output
        NeuronNetClassifier(network=ns.presets.four_neuron()).fit(X[:, :2], y)
    with pytest.raises(ValueError, match="sigmoid"):       # ... and it must be a sigmoid
        NeuronNetClassifier(network=ns.Network.layered([2, 3, 1])).fit(X[:, :2], y)
    with pytest.raises(ValueError, match="softmax_ce"):   # 3 classes need softmax_ce
        NeuronNetClassifier(network=ns.Network.layered([2, 3, 3])).fit(X[:, :2],
                                                                     np.arange(10) % 3)
    with pytest.raises(ValueError, match="Network"):
        NeuronNetClassifier(network="moons").fit(X, y)
