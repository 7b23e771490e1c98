"""``neurosim train``: train a preset (or a layered net) on a data set and save it.

Examples::

    neurosim train --net moons --data moons --lr 0.05 --epochs 21 -o moons.npz
    neurosim train --layers 2 8 8 1 --data spirals --epochs 200 --lr 0.02 -o sp.json
    neurosim train --layers 2 8 1 --data points.csv --features x y --label class -o p.npz
    neurosim info moons.npz
    neurosim trace --net moons.npz --neuron P

The saved file holds the trained network, its History, and where it came from (seed,
data, versions; see ``neurosim.io``); load it with ``neurosim.load(path)``.
"""
import argparse
import time

from . import _common as C


def add_parser(sub):
    p = sub.add_parser("train", help="train a preset or layered net on a data set and "
                                     "save it", description=C.description(__doc__),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_net_args(p)
    C.add_data_args(p)
    p.add_argument("--lr", type=C.positive_float, default=0.05,
                   help="learning rate η (default 0.05)")
    p.add_argument("--epochs", type=C.int_at_least(1), default=21,
                   help="epochs (default 21)")
    p.add_argument("--l2", type=C.penalty, default=0.0, help=C.L2_HELP)
    p.add_argument("--batch-size", type=C.int_at_least(1), default=1,
                   help="1 = per-sample SGD as in the chapter (default)")
    p.add_argument("--seed", type=C.int_at_least(0), default=None,
                   help="seed of the initial weights and the shuffling (default: the "
                        "preset's documented weights shuffled with seed 0; 0 for --layers)")
    p.add_argument("-o", "--out", metavar="PATH",
                   help="save the trained network and its history here (.npz, or .json "
                        "for a readable file)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar or compile message")
    return p


def _network(args):
    from . import preset_network
    name, build = C.builder(args)
    if args.layers is not None:
        return build(0 if args.seed is None else args.seed), name
    return preset_network(name, args.seed), name


def run(args):
    from .. import io, progress, train
    from ..training import prepare
    # everything is checked before anything is printed, trained or written
    out = C.check_out(args.out)
    d, data_info = C.load_data(args)
    net, name = _network(args)
    C.check_fit(net, name, d, data_info.get("csv") or args.data)
    ytr, yte = C.targets(net, d.y_train), C.targets(net, d.y_test)
    test = dict(X_test=d.X_test, y_test=yte) if len(d.X_test) else {}
    seed = 0 if args.seed is None else args.seed
    show = not args.no_progress
    print(f"{C.describe_data(d, data_info)}; {name}: {net}", flush=True)
    progress.warm_up(prepare, net, d.X_train, ytr, epochs=args.epochs,
                     batch_size=args.batch_size, l2=args.l2, enabled=show, **test)
    t0 = time.perf_counter()
    h = train(net, d.X_train, ytr, lr=args.lr, epochs=args.epochs,
              batch_size=args.batch_size, seed=seed, progress=show, l2=args.l2, **test)
    wall = time.perf_counter() - t0
    saved = None
    if args.out is not None and not h.diverged:       # save before printing anything
        init_seed = args.seed if args.seed is not None else (
            0 if args.layers is not None else _preset_seed(name))
        saved = io.save(net, out, history=h, provenance=dict(
            network=name, init_seed=init_seed, shuffle_seed=seed, data=data_info,
            command="neurosim train"), sample=(d.X_train[0], ytr[0]))
    rows = [("epoch", "train loss", "train acc", "test loss", "test acc")]
    for ep in range(h.epochs + 1):
        rows.append((f"{ep}", f"{h.train_loss[ep]:.4f}", f"{h.train_acc[ep]:.4f}",
                     "—" if h.test_loss is None else f"{h.test_loss[ep]:.4f}",
                     "—" if h.test_acc is None else f"{h.test_acc[ep]:.4f}"))
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    for r in rows:
        print(" ".join(v.rjust(w) for v, w in zip(r, widths)))
    print(f"{h!r}; wall time {wall:.2f} s")
    if h.diverged:
        print("training diverged: the network was not saved" if args.out else
              "training diverged")
        return 1
    if saved is not None:
        print(f"saved to {saved}")
    return 0


def _preset_seed(name):
    import inspect
    from ..presets import PRESETS
    p = inspect.signature(PRESETS[name]).parameters.get("seed")
    return None if p is None else p.default
