"""Backends: ``cpu`` and ``cuda``, mirror-image drivers with the same public names.

:func:`get` returns the driver module for a device name (CUDA imported only then);
:func:`usable` says whether a device can run here without raising.
"""
import importlib

DEVICES = ("cpu", "cuda")


def get(device):
    """The backend module for ``device``; ValueError for an unknown name, and
    :class:`neurosim.backends.cuda.CudaUnavailableError` (an ImportError saying what is
    missing) when CUDA cannot be used here."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    return importlib.import_module(f"{__name__}.{device}")


def usable(device="cuda"):
    """True if ``device`` can run kernels here (for CUDA: a GPU, or Numba's simulator)."""
    try:
        return get(device).usable()
    except ImportError:
        return False


def real_gpu():
    """None if a real GPU (not Numba's simulator) runs the CUDA kernels here, else the
    reason why not, as a short string (for benchmarks: simulator timings mean nothing)."""
    try:
        from numba import config as nbconfig
        if getattr(nbconfig, "ENABLE_CUDASIM", 0):
            return "no GPU (CUDA simulator active)"
        from numba import cuda
        if not cuda.is_available():
            return "no GPU"
        get("cuda")
    except Exception as exc:                            # noqa: BLE001 (any reason is "no")
        return f"no GPU ({type(exc).__name__})"
    return None
