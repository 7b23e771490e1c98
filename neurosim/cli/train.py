"""``neurosim train``: train a preset (or a layered net) on a data set and save it.

Examples::

    neurosim train --net moons --data moons --lr 0.05 --epochs 21 -o moons.npz
    neurosim train --layers 2 8 8 1 --data spirals --epochs 200 --lr 0.02 -o sp.json
    neurosim info moons.npz
    neurosim trace --net moons.npz --neuron P

The saved file holds the trained network and its History (see ``neurosim.io``); load it
with ``neurosim.load(path)``.
"""
import argparse
import time

import numpy as np


def add_parser(sub):
    from ..datasets import DATASETS
    from ..presets import PRESETS
    p = sub.add_parser("train", help="train a preset or layered net on a data set and "
                                     "save it", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    net = p.add_mutually_exclusive_group()
    net.add_argument("--net", choices=sorted(PRESETS), default=None,
                     help="a preset network (default moons)")
    net.add_argument("--layers", type=int, nargs="+", metavar="N",
                     help="a fully connected net with these layer sizes, e.g. 2 4 4 1 "
                          "(ReLU hidden layers; one output: sigmoid + bce, several: "
                          "softmax_ce)")
    p.add_argument("--data", choices=sorted(DATASETS), default="moons",
                   help="data set (default moons: the book's 1,536/512 points)")
    p.add_argument("--n-samples", type=int, default=None,
                   help="samples to generate (default: the data set's)")
    p.add_argument("--noise", type=float, default=None, help="data noise (default: the "
                                                             "data set's)")
    p.add_argument("--data-seed", type=int, default=None, help="data seed (default: the "
                                                               "data set's)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate η (default 0.05)")
    p.add_argument("--epochs", type=int, default=21, help="epochs (default 21)")
    p.add_argument("--batch-size", type=int, default=1,
                   help="1 = per-sample SGD as in the chapter (default)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the initial weights and the shuffling (default: the "
                        "preset's documented seed, 0 for --layers)")
    p.add_argument("-o", "--out", metavar="PATH",
                   help="save the trained network and its history here (.npz, or .json "
                        "for a readable file)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _network(args):
    from ..presets import Layered
    from . import preset_network
    if args.layers is not None:
        return Layered(args.layers)(0 if args.seed is None else args.seed), \
            "-".join(map(str, args.layers))
    name = args.net or "moons"
    return preset_network(name, args.seed), name


def _targets(net, y):
    """Class labels -> one-hot rows for a net with several outputs (except softmax_ce)."""
    m = len(net.output_idx)
    if m > 1 and net.loss_name != "softmax_ce":
        if np.any((y < 0) | (y >= m)):
            raise ValueError(f"the data's labels do not fit a net with {m} outputs")
        return np.eye(m)[y.astype(int)]
    return y


def run(args):
    from .. import datasets, io, train
    kw = {k: v for k, v in (("n_samples", args.n_samples), ("noise", args.noise),
                            ("seed", args.data_seed)) if v is not None}
    d = datasets.DATASETS[args.data](**kw)
    net, name = _network(args)
    if net.n_inputs != d.X_train.shape[1]:
        raise ValueError(f"the {args.data} data has {d.X_train.shape[1]} inputs; the net "
                         f"{name} has {net.n_inputs}")
    ytr, yte = _targets(net, d.y_train), _targets(net, d.y_test)
    if args.out is not None:          # refuse a bad output path before training
        io.check_save_path(args.out)
    print(f"{args.data}: {len(d.X_train)} train / {len(d.X_test)} test points; "
          f"{name}: {net}")
    t0 = time.perf_counter()
    h = train(net, d.X_train, ytr, lr=args.lr, epochs=args.epochs,
              batch_size=args.batch_size, seed=0 if args.seed is None else args.seed,
              X_test=d.X_test, y_test=yte, progress=not args.no_progress)
    wall = time.perf_counter() - t0
    print(f"{'epoch':>5} {'train loss':>10} {'train acc':>9} {'test loss':>9} {'test acc':>8}")
    for ep in range(h.epochs + 1):
        print(f"{ep:5d} {h.train_loss[ep]:10.4f} {h.train_acc[ep]:9.4f} "
              f"{h.test_loss[ep]:9.4f} {h.test_acc[ep]:8.4f}")
    print(f"{h!r}; wall time {wall:.2f} s")
    if h.diverged:
        print("training diverged: the network was not saved" if args.out else
              "training diverged")
        return 1
    if args.out is not None:
        path = io.save(net, args.out, history=h)
        print(f"saved to {path}")
    return 0
