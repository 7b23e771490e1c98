"""Progress while things are slow: a spinner while Numba compiles, and labelled bars.

Numba compiles neurosim's kernels the first time they run on a machine (``cache=True``
keeps them on disk, so later runs load them in a fraction of a second). Compiling takes
tens of seconds on a small machine, and a progress bar whose first step holds the compile
shows an absurd estimate. :func:`warm_up` runs the kernels once on two samples, on a copy
of the network, under a :class:`Spinner` that says what is happening; training afterwards
starts with the kernels ready, so its bar's estimates are real.

>>> from neurosim import progress
>>> progress.warm_up(ns.train, net, X, y, X_test=X_test, y_test=y_test)  # doctest: +SKIP
>>> ns.train(net, X, y, progress=True)                           # doctest: +SKIP
"""
from __future__ import annotations

import itertools
import sys
import threading
import time

COMPILING = "compiling kernels, once per machine (Numba caches them on disk)…"
_FRAMES = "|/-\\"


class Spinner:
    """A context manager that shows ``message`` on ``stream`` (default stderr) while its
    block runs, if the block takes longer than ``delay`` seconds.

    On a terminal the message gets a turning spinner and the seconds elapsed, and is
    replaced by ``message … done in X s`` at the end. On anything else (a pipe, a log file)
    it writes the message once, after ``delay``, and the ``done`` line at the end. With
    ``enabled=False`` it shows nothing. ``elapsed`` holds the block's duration afterwards.
    """

    def __init__(self, message, *, stream=None, delay=0.5, interval=0.1, enabled=True):
        self.message = message
        self.stream = stream
        self.delay = delay
        self.interval = interval
        self.enabled = enabled
        self.elapsed = None
        self.shown = False
        self._stop = threading.Event()
        self._thread = None
        self._t0 = None

    def _out(self):
        return self.stream if self.stream is not None else sys.stderr

    def _tty(self):
        try:
            return self._out().isatty()
        except (AttributeError, ValueError):
            return False

    def _write(self, text):
        out = self._out()
        try:
            out.write(text)
            out.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def _run(self):
        if self._stop.wait(self.delay):
            return
        self.shown = True
        if not self._tty():
            self._write(self.message + "\n")
            return
        for frame in itertools.cycle(_FRAMES):
            self._write(f"\r{frame} {self.message} {time.perf_counter() - self._t0:.0f} s")
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        self._t0 = time.perf_counter()
        if self.enabled:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self._t0
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            if self.shown:
                end = "done" if exc[0] is None else "failed"
                lead = "\r\033[K" if self._tty() else ""
                self._write(f"{lead}{self.message} {end} in {self.elapsed:.1f} s\n")
        return False


def warm_up(prepare, net, X, y, *, message=COMPILING, enabled=True, stream=None, delay=0.5,
            **kw):
    """Compile (or load from Numba's cache) the kernels a training call will run, under a
    :class:`Spinner`: ``prepare(net, X, y, **kw)`` -- normally
    :func:`neurosim.training.prepare` with the call's ``epochs``, ``batch_size``, test set
    and ``many=True`` for ``train_many`` / ``sweep`` (passed in, so that this module stays
    below the training layer). ``net`` is not changed. Returns the seconds it took."""
    with Spinner(message, enabled=enabled, stream=stream, delay=delay) as sp:
        prepare(net, X, y, **kw)
    return sp.elapsed


def bar(total, desc, unit="it", enabled=True, **kw):
    """A tqdm bar with a description (or a do-nothing stand-in with ``enabled=False``)."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit=unit, **kw)


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, *a, **k):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
