"""Argument checks (the bottom layer: imports nothing from the package).

Each check returns the value in canonical form or raises ``ValueError`` naming the
argument, so every entry point refuses bad input the same way and before any state changes.
"""
import math

import numpy as np


#: The largest integer an argument may be: everything reaches the kernels as an int64, and
#: a Python int past it would make Numba compile (and fail) a uint64 or object variant.
INT_MAX = 2 ** 63 - 1


def check_int(v, name, lo, hi=INT_MAX):
    """``v`` as an int, or ValueError if it is not an integer in ``lo..hi`` (bools refused)."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        bound = f">= {lo}" if hi == INT_MAX else f"in {lo}..{hi}"
        raise ValueError(f"{name} must be an integer {bound}, got {_short(v)}")
    return int(v)


def _short(v):
    """``repr(v)``, cut short (a huge int or a long list would make a huge message)."""
    try:
        r = repr(v)
    except Exception:                   # a hostile __repr__
        r = f"<{type(v).__name__}>"
    return r if len(r) <= 80 else r[:60] + f"... ({type(v).__name__})"


def as_float(v, name):
    """``v`` as a Python float, or ValueError: real numbers only (no strings, no complex,
    no bools, no None), finite or not, and none too large for a float (10**400)."""
    if isinstance(v, (str, bytes, complex, np.complexfloating, bool, np.bool_)) \
            or v is None or (isinstance(v, np.ndarray) and v.ndim > 0):
        raise ValueError(f"{name} must be a real number, got {_short(v)}")
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a real number a float can hold, "
                         f"got {_short(v)}") from None


def check_bool(v, name):
    """``v`` as a bool, or ValueError if it is not True or False."""
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {v!r}")
    return bool(v)


def check_positive(v, name, *, zero=False):
    """``v`` as a finite float > 0 (>= 0 with ``zero=True``), or ValueError."""
    f = as_float(v, name)
    if not math.isfinite(f) or f < 0 or (f == 0 and not zero):
        raise ValueError(f"{name} must be {'>= 0' if zero else '> 0'} and finite, "
                         f"got {_short(v)}")
    return f


def check_lr(lr, dtype=None):
    """A learning rate: a finite float > 0 -- and, given the network's ``dtype``, one that
    stays so in it (float32 rounds 1e-50 to 0, so nothing would learn, and 1e39 to inf)."""
    lr = check_positive(lr, "learning rate")
    if dtype is not None:
        with np.errstate(over="ignore", under="ignore"):
            t = np.asarray(lr, dtype=dtype)
        if not np.isfinite(t) or t == 0:
            raise ValueError(f"learning rate {lr!r} is {'0' if t == 0 else 'inf'} in "
                             f"{np.dtype(dtype).name}")
    return lr


def check_l2(l2, dtype=None):
    """The L2 penalty's strength lambda: a finite float >= 0 -- and, given the network's
    ``dtype``, one that stays finite in it (float32 makes 1e39 inf)."""
    l2 = check_positive(l2, "l2 (the L2 penalty's lambda)", zero=True)
    if dtype is not None:
        with np.errstate(over="ignore"):
            if not np.isfinite(np.asarray(l2, dtype=dtype)):
                raise ValueError(f"l2 {l2!r} is inf in {np.dtype(dtype).name}")
    return l2


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
