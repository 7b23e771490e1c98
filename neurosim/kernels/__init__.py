"""Kernels (layer 2 of 4): Numba functions over plain arrays and scalars only.

``cpu`` holds the ``@njit`` kernels; ``cuda`` (imported only on request) mirrors them with
``@cuda.jit``. Both call the per-neuron scalar math in ``neurosim._scalar``.
"""
