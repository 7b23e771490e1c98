"""``neurosim animate``: a GIF (or MP4) of training, epoch by epoch.

Each frame shows the decision boundary over the test points, the accuracy and loss
curves up to that epoch, and the network drawn with that epoch's weights.

Examples::

    neurosim animate --net moons --lr 0.05 --epochs 21 -o moons.gif
    neurosim animate --layers 2 8 8 1 --data spirals --lr 0.02 --epochs 60 -o sp.gif
    neurosim animate --net trained.npz -o trained.gif     # replays the stored history

A preset or --layers net is trained here (per-sample SGD, the seed setting both the
initial weights and the shuffling). A saved network (from neurosim train -o) is
replayed from the history stored with it, over the test points of --data. The format
follows the extension: .gif (Pillow) or .mp4 (needs ffmpeg).
"""
import argparse
import difflib
import os
import pathlib
import sys

import numpy as np

from ..presets import PRESETS
from ._common import targets

PRESET_NAMES = tuple(PRESETS)
FORMATS = (".gif", ".mp4")


def add_parser(sub):
    from ..datasets import DATASETS
    p = sub.add_parser("animate", help="a GIF or MP4 of training: boundary, curves and "
                                       "weights epoch by epoch",
                       description=__doc__.replace("``", ""),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    net = p.add_mutually_exclusive_group()
    net.add_argument("--net", default=None, metavar="NAME|PATH",
                     help=f"a preset ({', '.join(PRESET_NAMES)}; default moons) or a saved "
                          "network with its history (.npz or .json)")
    net.add_argument("--layers", type=int, nargs="+", metavar="N",
                     help="a fully connected net with these layer sizes, e.g. 2 8 8 1")
    p.add_argument("--data", choices=sorted(DATASETS), default="moons",
                   help="data set (default moons: the book's 1,536/512 points)")
    p.add_argument("--lr", type=float, default=None, help="learning rate η (default 0.05)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 21)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the initial weights and the shuffling (default: the "
                        "preset's documented seed, 0 for --layers)")
    p.add_argument("-o", "--out", default="training.gif", metavar="PATH",
                   help="the file to write, .gif or .mp4 (default training.gif)")
    p.add_argument("--fps", type=float, default=4, help="frames per second (default 4)")
    p.add_argument("--frames", type=int, default=60,
                   help="at most this many epochs drawn, spread evenly (default 60)")
    p.add_argument("--dpi", type=int, default=72, help="resolution (default 72)")
    return p


def _network(args):
    """(net, History or None, name)."""
    from . import preset_network
    if args.layers is not None:
        from ..presets import Layered
        return Layered(args.layers)(0 if args.seed is None else args.seed), None, \
            "-".join(map(str, args.layers))
    name = args.net or "moons"
    if name in PRESET_NAMES:
        return preset_network(name, args.seed), None, name
    if os.path.isfile(name):
        given = [o for o, v in (("--lr", args.lr), ("--epochs", args.epochs),
                                ("--seed", args.seed)) if v is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: a saved network is replayed from its "
                             "stored history, not trained again")
        from .. import io
        net, hist = io.load(name, with_history=True)
        if hist is None:
            raise ValueError(f"{name} holds no training history to animate; save one "
                             "with neurosim train -o, or animate a preset")
        return net, hist, pathlib.Path(name).stem
    near = difflib.get_close_matches(name, PRESET_NAMES, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise ValueError(f"--net {name!r} is neither a preset ({', '.join(PRESET_NAMES)}) "
                     f"nor an existing file{hint}")


def run(args):
    from .. import datasets, train
    out = pathlib.Path(args.out)
    if out.suffix.lower() not in FORMATS:
        raise ValueError(f"cannot tell the format of {args.out!r} from its extension; use "
                         f"{', '.join(FORMATS)}")
    if not out.parent.is_dir():
        raise ValueError(f"folder {out.parent} does not exist")
    if out.suffix.lower() == ".mp4":
        from matplotlib import animation
        if not animation.writers.is_available("ffmpeg"):
            raise ValueError("writing .mp4 needs ffmpeg, which is not installed here; "
                             "write a .gif instead")
    lr = 0.05 if args.lr is None else args.lr
    epochs = 21 if args.epochs is None else args.epochs
    if epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {epochs}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"--lr must be a number > 0, got {lr:g}")
    if args.frames < 2:
        raise ValueError(f"--frames must be >= 2, got {args.frames}")
    if not args.fps > 0:
        raise ValueError(f"--fps must be > 0, got {args.fps}")
    if args.dpi < 20:
        raise ValueError(f"--dpi must be at least 20, got {args.dpi}")
    net, hist, name = _network(args)
    d = datasets.DATASETS[args.data]()
    if net.n_inputs != 2:
        raise ValueError(f"the net {name} has {net.n_inputs} inputs; the animation draws a "
                         "decision boundary over 2")
    ytr, yte = targets(net, d.y_train), targets(net, d.y_test)
    if hist is None:
        seed = args.seed
        if seed is None:
            seed = _preset_seed(name) if name in PRESET_NAMES else 0
        print(f"training {name} on {args.data}: η = {lr:g}, {epochs} epochs, seed {seed}",
              file=sys.stderr)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)      # shown as frames
            hist = train(net, d.X_train, ytr, lr=lr, epochs=epochs, seed=seed,
                         X_test=d.X_test, y_test=yte)
        if hist.diverged:
            print(f"training diverged at epoch {hist.diverged_epoch}", file=sys.stderr)
    from .. import plots
    print(f"drawing {min(args.frames, hist.weights.shape[0])} frames", file=sys.stderr)
    path = plots.animate_training(net, hist, d.X_test, d.y_test, out, fps=args.fps,
                                  max_frames=args.frames, dpi=args.dpi)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def _preset_seed(name):
    """The seed a preset is built with by default (the shuffling uses it too), 0 if none."""
    import inspect
    p = inspect.signature(PRESETS[name]).parameters.get("seed")
    return 0 if p is None else int(p.default)
