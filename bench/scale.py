"""Build, copy, save and load of a network with millions of edges: time and peak memory.

Usage:
    python bench/scale.py                          # Network.layered([2, 2048, 2048, 1])
    python bench/scale.py --sizes 2 1024 1024 1 --json --repeat 5

Each operation runs ``--repeat`` times (default 3) and the median wall time is printed;
then once more under ``tracemalloc`` for its peak (Python objects and NumPy arrays
allocated during the operation, above what was allocated before it), shown against the
size of the network's own arrays (its weights, edge list and indexes). The processor is
read from /proc/cpuinfo and the machine's load from /proc/loadavg. Issue 14's targets for
the 4.2M-edge net: each operation <= 1 s, peak <= 3x the arrays' size.
"""
import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import neurosim as ns  # noqa: E402


def processor():
    return ns.backends.cpu.device_name()


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def array_bytes(net):
    return sum(v.nbytes for v in vars(net).values() if isinstance(v, np.ndarray))


def run(fn, repeat):
    """(median seconds, peak traced bytes) of ``fn()``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return statistics.median(times), peak


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 2048, 2048, 1])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="also time .json save and load")
    a = ap.parse_args(argv)
    ns.Network.layered([2, 3, 1])                  # compile / load the helpers' caches
    net = ns.Network.layered(a.sizes, seed=0)
    arrays = array_bytes(net)
    print(f"processor: {processor()}; load average: {load_average()}; "
          f"{os.cpu_count()} CPUs; Python {platform.python_version()}, NumPy {np.__version__}")
    print(f"Network.layered({a.sizes}): {net.n_edges:,} edges, {net.n_neurons:,} neurons, "
          f"arrays {arrays / 2**20:.1f} MiB; median of {a.repeat}")
    print(f"{'operation':<14}{'seconds':>10}{'peak MiB':>11}{'peak/arrays':>13}")
    with tempfile.TemporaryDirectory() as d:
        ops = [("build", lambda: ns.Network.layered(a.sizes, seed=0), None),
               ("copy", net.copy, None)]
        for suf in [".npz"] + ([".json"] if a.json else []):
            p = os.path.join(d, "net" + suf)
            ops.append((f"save {suf}", lambda p=p: ns.save(net, p), p))
            ops.append((f"load {suf}", lambda p=p: ns.load(p), None))
        for name, fn, path in ops:
            t, peak = run(fn, a.repeat)
            extra = f"   file {os.path.getsize(path) / 2**20:.1f} MiB" if path else ""
            print(f"{name:<14}{t:>10.3f}{peak / 2**20:>11.1f}{peak / arrays:>13.2f}{extra}")
        back = ns.load(os.path.join(d, "net.npz"))
        assert np.array_equal(back.weights, net.weights)


if __name__ == "__main__":
    main()
