"""neurosim: a neuron-level backpropagation simulator (Glassner, *Deep Learning: A Visual
Approach*, chapter 14), compiled with Numba.

Layers, imports pointing one way: ``graph`` (names, edge list, indexes) -> ``kernels``
(arrays only) -> ``engine`` (drivers) -> the API here (training, tracing, plots, CLI).
"""
import importlib

from . import datasets, presets
from .engine import (backward, evaluate, forward, gradient, predict, predict_proba, step,
                     update)
from .graph import Network
from .training import DivergenceError, History, train

__version__ = "0.1.0"

# Names served lazily from modules that pull in heavier dependencies.
_LAZY = {
    "trace": "neurosim.tracing", "Trace": "neurosim.tracing",
    "gradcheck": "neurosim.tracing", "error_curve": "neurosim.tracing",
    "slow_learn": "neurosim.slow",
    "sweep": "neurosim.sweeps",
    "save": "neurosim.io", "load": "neurosim.io",
}
_SUBMODULES = ("plots", "cuda", "sklearn", "io", "interop", "bench", "sweeps", "tracing",
               "slow", "curves", "demo")

__all__ = ["Network", "History", "DivergenceError", "train", "forward", "backward",
           "gradient", "update", "step", "predict", "predict_proba", "evaluate",
           "datasets", "presets", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"neurosim.{name}")
    raise AttributeError(f"module 'neurosim' has no attribute {name!r}")
