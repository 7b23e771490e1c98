import os

# The CUDA path runs under Numba's CUDA simulator unless a caller asks otherwise; this must
# happen before numba is imported anywhere.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
