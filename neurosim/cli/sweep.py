"""``neurosim sweep``: train one network per (learning rate, seed) and summarise them.

Each seed sets the initial weights and the shuffling, so one seed starts from the same
weights at every learning rate. Writes the tidy table (one row per learning rate, seed and
epoch: sweep.csv), one row per run (runs.csv) and the figure (sweep.png: median accuracy
with its 10th-90th percentile band, and the fraction of runs at the target accuracy), and
prints a table per learning rate.

Examples::

    neurosim sweep --lr 0.5 0.05 0.01 --seeds 20 --epochs 30
    neurosim sweep --layers 2 8 8 1 --data spirals --lr 0.1 0.03 --seeds 10 --epochs 100
    neurosim sweep --data points.csv --label class --lr 0.05 --seeds 5:15 --out runs/
"""
import argparse
import pathlib

import numpy as np

from . import _common as C


def _seeds(tokens):
    """``20`` -> 0..19; ``5:15`` -> 5..14; ``3 7 9`` -> those seeds."""
    seeds = []
    for tok in tokens:
        a, sep, b = tok.partition(":")
        try:
            if sep:
                seeds += range(int(a), int(b))
            elif len(tokens) == 1:
                seeds += range(int(a))
            else:
                seeds.append(int(a))
        except ValueError:
            raise ValueError(f"--seeds {' '.join(tokens)}: write a count (20), a range "
                             "(5:15) or several seeds (3 7 9)") from None
    if not seeds or min(seeds) < 0:
        raise ValueError(f"--seeds {' '.join(tokens)} names no seeds >= 0")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds {' '.join(tokens)} names a seed twice")
    return seeds


def add_parser(sub):
    p = sub.add_parser("sweep", help="train one network per learning rate and seed; write "
                                     "the table and the figure",
                       description=C.description(__doc__),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_net_args(p)
    C.add_data_args(p)
    p.add_argument("--lr", type=C.positive_float, nargs="+", default=[0.5, 0.05, 0.01],
                   metavar="η", help="learning rates (default 0.5 0.05 0.01)")
    p.add_argument("--seeds", nargs="+", default=["20"], metavar="S",
                   help="a count (20: seeds 0-19; the default), a range (5:15) or several "
                        "seeds (3 7 9)")
    p.add_argument("--epochs", type=C.int_at_least(1), default=21,
                   help="epochs per run (default 21)")
    p.add_argument("--l2", type=C.penalty, default=0.0, help=C.L2_HELP)
    p.add_argument("--batch-size", type=C.int_at_least(1), default=1,
                   help="1 = per-sample SGD as in the chapter (default)")
    p.add_argument("--acc", type=float, default=1.0,
                   help="the accuracy a run must reach to count (default 1.0 = 100%%)")
    p.add_argument("--jobs", type=int, default=1,
                   help="parallel jobs (default 1; -1 = all cores)")
    p.add_argument("--out", default="neurosim-sweep", metavar="DIR",
                   help="output folder (default ./neurosim-sweep)")
    p.add_argument("--no-figure", dest="figure", action="store_false",
                   help="write the tables only")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar or compile message")
    return p


def run(args):
    from .. import progress, sweeps
    from ..training import prepare
    seeds = _seeds(args.seeds)
    if len(set(args.lr)) != len(args.lr):
        raise ValueError("--lr names a learning rate twice")
    if not 0 <= args.acc <= 1:
        raise ValueError(f"--acc must be in [0, 1], got {args.acc:g}")
    if args.jobs == 0 or args.jobs < -1:
        raise ValueError(f"--jobs must be >= 1 or -1, got {args.jobs}")
    out = pathlib.Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    if not out.parent.is_dir():
        raise ValueError(f"--out {out}: folder {out.parent} does not exist")
    d, data_info = C.load_data(args)
    name, build = C.builder(args)
    net = build(seeds[0])
    C.check_fit(net, name, d, data_info.get("csv") or args.data)
    ytr, yte = C.targets(net, d.y_train), C.targets(net, d.y_test)
    test = dict(X_test=d.X_test, y_test=yte) if len(d.X_test) else {}
    which = "test" if test else "train"
    print(f"{C.describe_data(d, data_info)}; {name}: {net}", flush=True)
    print(f"{len(args.lr)} learning rates × {len(seeds)} seeds × {args.epochs} epochs = "
          f"{len(args.lr) * len(seeds)} runs", flush=True)
    progress.warm_up(prepare, net, d.X_train, ytr, batch_size=args.batch_size, many=True,
                     l2=args.l2, epochs=args.epochs, networks=len(args.lr) * len(seeds),
                     enabled=args.progress, **test)
    df = sweeps.sweep(build, d.X_train, ytr, lrs=args.lr, seeds=seeds, epochs=args.epochs,
                      batch_size=args.batch_size, n_jobs=args.jobs, progress=args.progress,
                      topology_name=name, l2=args.l2, **test)
    runs = sweeps.per_run(df, acc=args.acc, which=which)
    out.mkdir(exist_ok=True)
    files = [out / "sweep.csv", out / "runs.csv"]
    df.to_csv(files[0], index=False)
    runs.to_csv(files[1], index=False)
    if args.figure:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from ..plots import plot_sweep
        axes = plot_sweep(df, acc=args.acc, which=which)
        fig = axes[0].figure
        fig.suptitle(f"network {name}, data {data_info.get('csv') or args.data}: "
                     f"{len(seeds)} seeds per η, {args.epochs} epochs")
        fig.savefig(out / "sweep.png", dpi=110)
        plt.close(fig)
        files.append(out / "sweep.png")
    print(table(runs, args.acc, which, args.lr))
    print(f"wrote {', '.join(str(f) for f in files)}")
    return 0


def table(runs, acc, which, lrs):
    """Per learning rate: runs that reached ``acc``, first epoch there, final accuracy."""
    rows = [("η", f"reached {which} acc ≥ {acc:.0%}", "first epoch: median [range]",
             f"final {which} acc: median (10th–90th)", "diverged")]
    for lr in lrs:
        g = runs[runs["lr"] == lr]
        fe = g["first_epoch"].dropna()
        n = len(g)
        first = "—" if fe.empty else (f"{np.median(fe):g} [{fe.min():g}–{fe.max():g}]")
        fa = g["final_acc"]
        rows.append((f"{lr:g}", f"{len(fe)}/{n}", first,
                     f"{fa.median():.3f} ({np.percentile(fa, 10):.3f}–"
                     f"{np.percentile(fa, 90):.3f})", f"{int(g['diverged'].sum())}/{n}"))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in rows)
