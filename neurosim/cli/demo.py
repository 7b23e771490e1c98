"""``neurosim demo``: the chapter's two-moons classifier (Figs 14-28 to 14-38).

First version: trains the 2-4-4-1 net on the book's data at one learning rate with
per-sample SGD and prints train/test accuracy per epoch.
"""
import time

import numpy as np


def add_parser(sub):
    p = sub.add_parser("demo", help="train the chapter's two-moons classifier",
                       description=__doc__)
    p.add_argument("--lr", type=float, default=0.05, help="learning rate eta (default 0.05)")
    p.add_argument("--epochs", type=int, default=21, help="epochs (default 21)")
    p.add_argument("--seed", type=int, default=None,
                   help="initial-weight seed (default: the preset's documented seed)")
    p.add_argument("--loss", choices=["bce", "quadratic"], default="bce",
                   help="bce (as the book's figures) or the text's quadratic cost")
    return p


def run(args):
    from .. import datasets, presets, train
    d = datasets.moons()
    kw = {} if args.seed is None else {"seed": args.seed}
    net = presets.moons_net(loss=args.loss, **kw)
    print(f"two moons: {len(d.X_train)} train / {len(d.X_test)} test points; {net}")
    t0 = time.perf_counter()
    h = train(net, d.X_train, d.y_train, lr=args.lr, epochs=args.epochs, X_test=d.X_test,
              y_test=d.y_test, progress=False)
    wall = time.perf_counter() - t0
    print(f"{'epoch':>5} {'train loss':>10} {'train acc':>9} {'test loss':>9} {'test acc':>8}")
    for ep in range(h.epochs + 1):
        print(f"{ep:5d} {h.train_loss[ep]:10.4f} {h.train_acc[ep]:9.4f} "
              f"{h.test_loss[ep]:9.4f} {h.test_acc[ep]:8.4f}")
    first = h.first_epoch_at(1.0)
    print(f"lr={args.lr:g}: test accuracy first 100% at epoch "
          f"{first if first is not None else 'never'}; training {h.train_time:.3f} s "
          f"({h.cups:.3g} CUPS); wall time with evaluation and JIT {wall:.2f} s")
    return 0
