"""Data sets: the chapter's two moons exactly as the book made them, and playground toys.

Every function returns a :class:`Split` ``(X_train, X_test, y_train, y_test)`` -- the same
order as scikit-learn's ``train_test_split`` -- with float64 inputs and float labels: 0/1
for the two-class sets, 0 .. n_classes - 1 for :func:`blobs`.
"""
from collections import namedtuple

import numpy as np

Split = namedtuple("Split", "X_train X_test y_train y_test")


def _real(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) \
        and np.isfinite(v)


def _check(n, noise, test_size, seed=None, scale=True):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 4:
        raise ValueError(f"n_samples must be an integer >= 4, got {n!r}")
    if not _real(noise) or noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    if not _real(test_size) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or not 0 <= seed < 2 ** 32):
        raise ValueError(f"seed must be None or an integer in [0, 2**32), got {seed!r}")
    if not isinstance(scale, (bool, np.bool_)):
        raise ValueError(f"scale must be True or False, got {scale!r}")


def _finish(X, y, test_size, rng, scale):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, random_state=rng)
    if scale:
        sc = StandardScaler().fit(Xtr)
        Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
    return Split(np.asarray(Xtr, float), np.asarray(Xte, float),
                 np.asarray(ytr, float), np.asarray(yte, float))


def moons(n_samples=2048, noise=0.08, test_size=0.25, seed=42, scale=True):
    """The chapter's two moons (Fig 14-28).

    With the defaults this is the book's data exactly: ``make_moons(2048, noise=0.08)``
    then ``train_test_split(test_size=0.25)``, both drawing from one
    ``RandomState(42)`` in that order (the book seeded NumPy's global generator), giving
    1,536 training and 512 test points; a ``StandardScaler`` fitted on the training part
    is applied to both.
    """
    from sklearn.datasets import make_moons
    _check(n_samples, noise, test_size, seed, scale)
    rng = np.random.RandomState(seed)
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=rng)
    return _finish(X, y, test_size, rng, scale)


def circles(n_samples=500, noise=0.05, test_size=0.25, seed=0, scale=True):
    """A disc inside a ring (TensorFlow Playground's 'circle')."""
    from sklearn.datasets import make_circles
    _check(n_samples, noise, test_size, seed, scale)
    rng = np.random.RandomState(seed)
    X, y = make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=rng)
    return _finish(X, y, test_size, rng, scale)


def xor(n_samples=500, noise=0.05, test_size=0.25, seed=0, scale=True):
    """Four quadrants, label 1 where x*y > 0 (Playground's 'exclusive or')."""
    _check(n_samples, noise, test_size, seed, scale)
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, (n_samples, 2))
    X += np.sign(X) * 0.05            # a small margin around the axes
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    X += rng.normal(0, noise, X.shape)
    return _finish(X, y, test_size, rng, scale)


def gaussians(n_samples=500, noise=0.5, test_size=0.25, seed=0, scale=True):
    """Two Gaussian blobs (Playground's 'gaussian'); ``noise`` is their std."""
    from sklearn.datasets import make_blobs
    _check(n_samples, noise, test_size, seed, scale)
    rng = np.random.RandomState(seed)
    X, y = make_blobs(n_samples=n_samples, centers=[(-1, -1), (1, 1)],
                      cluster_std=max(noise, 1e-9), random_state=rng)
    return _finish(X, y, test_size, rng, scale)


def spirals(n_samples=500, noise=0.05, test_size=0.25, seed=0, scale=True, turns=1.5):
    """Two interleaved spirals (Playground's 'spiral')."""
    _check(n_samples, noise, test_size, seed, scale)
    if not _real(turns) or turns <= 0:
        raise ValueError(f"turns must be > 0, got {turns!r}")
    rng = np.random.RandomState(seed)
    n0 = n_samples // 2
    y = np.r_[np.zeros(n0), np.ones(n_samples - n0)]
    r = np.r_[np.linspace(0.1, 1, n0), np.linspace(0.1, 1, n_samples - n0)]
    theta = 2 * np.pi * turns * r + np.pi * y
    X = np.c_[r * np.cos(theta), r * np.sin(theta)] + rng.normal(0, noise, (n_samples, 2))
    return _finish(X, y, test_size, rng, scale)


def blobs(n_samples=500, n_classes=5, noise=0.5, test_size=0.25, seed=0, scale=True):
    """``n_classes`` Gaussian blobs, labels 0 .. n_classes - 1 (Fig 14-1's five classes).

    The centres sit on a circle around the origin, neighbours 2.5 apart (radius
    1.25 / sin(pi / n_classes)), so every class touches two others; ``noise`` is each
    blob's std (the default 0.5 leaves a few points on the wrong side of a boundary).
    ``n_samples`` is shared out as evenly as ``make_blobs`` does.
    """
    from sklearn.datasets import make_blobs
    _check(n_samples, noise, test_size, seed, scale)
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) \
            or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if 2 * n_classes > n_samples:
        raise ValueError(f"n_samples = {n_samples} is too few for {n_classes} classes: give "
                         f"at least 2 per class ({2 * n_classes})")
    rng = np.random.RandomState(seed)
    angle = 2 * np.pi * np.arange(n_classes) / n_classes
    centers = 1.25 / np.sin(np.pi / n_classes) * np.c_[np.cos(angle), np.sin(angle)]
    X, y = make_blobs(n_samples=n_samples, centers=centers, cluster_std=max(noise, 1e-9),
                      random_state=rng)
    return _finish(X, y, test_size, rng, scale)


DATASETS = {"moons": moons, "circles": circles, "xor": xor, "gaussians": gaussians,
            "spirals": spirals, "blobs": blobs}
