import os

# The CUDA path runs under Numba's CUDA simulator unless a caller asks otherwise; this must
# happen before numba is imported anywhere.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402


def _cuda_usable():
    from neurosim import backends
    return backends.usable("cuda")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not _cuda_usable(), reason="CUDA cannot be used here (no GPU, no simulator)"))])
def device(request):
    """Each test that takes it runs once per device: the CPU always, CUDA where it can be
    used (Numba's simulator in CI, a real GPU where there is one)."""
    return request.param
