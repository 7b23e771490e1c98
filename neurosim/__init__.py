"""neurosim: a neuron-level backpropagation simulator (Glassner, *Deep Learning: A Visual
Approach*, chapter 14), compiled with Numba.

Layers, each importing only from those below it (enforced by tests/test_layers.py):
checks, config -> kernels -> graph, presets, datasets, inputs -> backends -> ops ->
training -> tracing, numgrad, curves, sweeps -> plots -> demo, io, sklearn, interop, cli.
"""
import importlib

from . import datasets, presets
from .graph import Network
from .ops import backward, evaluate, forward, gradient, predict, predict_proba, step, update
from .training import DivergenceError, History, ManyHistory, train, train_many

__version__ = "0.1.0"

# Names served lazily from modules that pull in heavier dependencies.
_LAZY = {
    "trace": "neurosim.tracing", "Trace": "neurosim.tracing",
    "gradcheck": "neurosim.numgrad", "error_curve": "neurosim.curves",
    "slow_learn": "neurosim.training",
    "sweep": "neurosim.sweeps",
    "save": "neurosim.io", "load": "neurosim.io",
    "kernel_source": "neurosim.backends.cpu",
}
_SUBMODULES = ("plots", "backends", "sklearn", "io", "interop", "sweeps", "tracing",
               "numgrad", "curves", "demo", "training", "ops", "checks", "inputs", "config",
               "kernels")

__all__ = ["Network", "History", "ManyHistory", "DivergenceError", "train", "train_many",
           "forward", "backward", "gradient", "update", "step", "predict", "predict_proba",
           "evaluate", "datasets", "presets", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"neurosim.{name}")
    raise AttributeError(f"module 'neurosim' has no attribute {name!r}")
