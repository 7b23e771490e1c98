"""Kernels: Numba functions over plain arrays and scalars only. ``neuron`` (per-neuron
math), ``cpu`` (``@njit`` passes and epochs), ``cuda`` (``@cuda.jit``, imported only on
request), ``probe`` (perturbation, gradient checks) and ``slow`` (the slow learner).
"""
