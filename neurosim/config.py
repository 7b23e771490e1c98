"""Tunables of the CUDA variant, in one place so tests and benchmarks can patch them.

Every value is read when a kernel is launched (never at import), so
``monkeypatch.setattr(neurosim.config, "THREADS_PER_BLOCK", 2)`` takes effect at once. The
CPU path never reads this module.

Launch configurations chosen automatically (``None`` below) are:

* per-level kernels (one thread per neuron of a level, per sample) and per-edge kernels:
  ``THREADS_PER_BLOCK`` threads, as many blocks as the level (times the samples) needs, at
  most ``MAX_BLOCKS`` (grid-stride loops do the rest);
* the block-per-network kernels (many-networks mode, and per-sample SGD of a small net):
  the widest level rounded up to a warp, clamped to ``[WARP, MAX_BLOCK_THREADS]``.
"""

#: Threads per block of the per-level and per-edge kernels (wide layers, minibatches,
#: the single-sample API, prediction).
THREADS_PER_BLOCK = 128

#: Upper bound on the blocks of one per-level/per-edge launch; the kernels loop
#: (grid-stride) over whatever is left.
MAX_BLOCKS = 65535

#: Threads per block of the block-per-network kernels (``train_many`` and per-sample SGD
#: of a small net); ``None`` = automatic (see the module docstring).
BLOCK_THREADS = None

#: Warp size used to round automatic block sizes.
WARP = 32

#: Largest automatic block of the block-per-network kernels.
MAX_BLOCK_THREADS = 256

#: ``train(..., device="cuda")``, per-sample SGD or a minibatch: a network with at most
#: this many edges trains a whole epoch inside one single-block launch (levels separated
#: by block barriers); a larger one launches one kernel per level and sample (per-sample)
#: or per level and minibatch (threads over sample x neuron). ``skip_zero_error`` with
#: ``batch_size > 1`` always uses the single-block kernel (its batches depend on the
#: errors seen so far, see ``neurosim.backends.cuda``).
SGD_BLOCK_MAX_EDGES = 4096

#: Samples per launch of ``predict`` (threads over sample x neuron).
PREDICT_CHUNK = 65536
