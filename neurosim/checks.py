"""Argument checks (the bottom layer: imports nothing from the package).

Each check returns the value in canonical form or raises ``ValueError`` naming the
argument, so every entry point refuses bad input the same way and before any state changes.
"""
import math

import numpy as np


def check_int(v, name, lo):
    """``v`` as an int, or ValueError if it is not an integer >= ``lo`` (bools refused)."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def check_bool(v, name):
    """``v`` as a bool, or ValueError if it is not True or False."""
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {v!r}")
    return bool(v)


def check_positive(v, name, *, zero=False):
    """``v`` as a finite float > 0 (>= 0 with ``zero=True``), or ValueError."""
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a number, got {v!r}") from None
    if not math.isfinite(f) or f < 0 or (f == 0 and not zero):
        raise ValueError(f"{name} must be {'>= 0' if zero else '> 0'} and finite, got {v!r}")
    return f


def check_lr(lr):
    """A learning rate: a finite float > 0."""
    return check_positive(lr, "learning rate")


def check_seed(seed):
    """``seed`` for ``numpy.random.default_rng``: None, an integer >= 0 or a Generator."""
    if not (seed is None or isinstance(seed, np.random.Generator)
            or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
                and seed >= 0)):
        raise ValueError(f"seed must be None, an integer >= 0 or a numpy Generator, "
                         f"got {seed!r}")
    return seed


def check_choice(v, name, choices):
    """``v`` if it is one of ``choices``, else ValueError listing them."""
    if not isinstance(v, str) or v not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {v!r}")
    return v
