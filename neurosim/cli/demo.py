"""``neurosim demo``: the chapter's two-moons experiment (Figs 14-28 to 14-38).

Trains the 2-4-4-1 classifier on the book's data from one set of initial weights at
η = 0.5 (21 epochs), 0.05 (21) and 0.01 (201) with per-sample SGD, then repeats each run
from many initialisations (the seed sweep). Writes every figure as PNG plus summary.md and
summary.json into the output folder and prints the summary table.
"""
import sys

from ._common import description


def _runs(text):
    """Parse ``0.5:21,0.05:21`` into [(0.5, 21), (0.05, 21)]."""
    import argparse
    try:
        pairs = [p.split(":") for p in text.split(",") if p.strip()]
        return [(float(a), int(b)) for a, b in pairs]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LR:EPOCHS[,LR:EPOCHS...], e.g. 0.05:21, got {text!r}") from None


def add_parser(sub):
    from ..demo import BOOK_RUNS
    p = sub.add_parser("demo", help="run the chapter's two-moons experiment (figures, "
                                    "summary, seed sweep)",
                       description=description(__doc__))
    p.add_argument("--out", default="neurosim-demo",
                   help="output folder (default: ./neurosim-demo)")
    loss = p.add_mutually_exclusive_group()
    loss.add_argument("--loss", choices=["bce", "quadratic"], default="bce",
                      help="bce (as the book's figures were made; default) or the text's "
                           "quadratic cost")
    loss.add_argument("--quadratic", dest="loss", action="store_const", const="quadratic",
                      help="same as --loss quadratic")
    p.add_argument("--seeds", type=int, default=50,
                   help="initialisations per η in the seed sweep (default 50)")
    p.add_argument("--no-sweep", dest="sweep", action="store_false",
                   help="skip the seed sweep")
    p.add_argument("--no-penalty", dest="penalty", action="store_false",
                   help="skip the L2 penalty's runs and sweeps (the chapter's added error "
                        "term: penalty.png)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the shared initial weights and of the shuffling, so "
                        "--seed S replays sweep run S (default: the preset's, "
                        "presets.MOONS_SEED)")
    p.add_argument("--runs", type=_runs, default=list(BOOK_RUNS), metavar="LR:EPOCHS,...",
                   help="learning rates and epochs (default "
                        + ",".join(f"{lr:g}:{ep}" for lr, ep in BOOK_RUNS) + ")")
    p.add_argument("--jobs", type=int, default=1,
                   help="parallel jobs for the sweep (default 1; -1 = all cores)")
    p.add_argument("--no-figures", dest="figures", action="store_false",
                   help="write only the summary")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bars")
    return p


def run(args):
    from .. import presets
    from ..demo import penalty_table, run_demo, runs_table, sweep_table
    seed = presets.MOONS_SEED if args.seed is None else args.seed
    if args.sweep and args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    print(f"neurosim demo: two moons, loss {args.loss}, seed {seed} (initial weights and "
          "shuffling); "
          f"runs {', '.join(f'η={lr:g} x {ep} epochs' for lr, ep in args.runs)}"
          + (f"; seed sweep over {args.seeds} initialisations" if args.sweep else ""),
          file=sys.stderr)
    res = run_demo(args.out, runs=args.runs, loss=args.loss, seed=seed,
                   seeds=args.seeds if args.sweep else 1, sweep=args.sweep,
                   n_jobs=args.jobs, progress=args.progress, figures=args.figures,
                   penalty=args.penalty)
    s = res.summary
    print()
    print(runs_table(s["runs"]))
    if s["sweep"] is not None:
        print()
        print(f"Seed sweep ({len(s['settings']['sweep_seeds'])} initialisations per η):")
        print(sweep_table(s["sweep"]))
    if s["penalty"] and s["penalty"]["sweep"]:
        print()
        print("The L2 penalty λ/2·Σw² (non-bias weights): the seed sweeps again with each λ:")
        print(penalty_table(s["penalty"]["sweep"]))
    print()
    print(f"Wrote {len(res.files)} files to {res.out}/ in {res.wall_time:.1f} s "
          f"(JIT compilation included).")
    return 0
