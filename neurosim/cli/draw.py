"""``neurosim draw``: draw a preset or saved network to a PNG, SVG or PDF file.

Examples::

    neurosim draw --net four-neuron -o four.svg
    neurosim draw --net moons --x 0.5 -0.2 --target 1 -o moons.png
    neurosim draw --net trained.npz -o trained.pdf

Each edge is blue for a positive and red for a negative weight, wider for a larger one
(the legend under the drawing says so), and carries its weight where the labels fit;
a neuron's bias is written under it. With --x the sample is run forward and every
neuron's output is written too; with --target also its delta. The format follows the
file's extension.
"""
import argparse
import difflib
import os
import pathlib
import sys

from ..presets import PRESETS

PRESET_NAMES = tuple(PRESETS)
FORMATS = (".png", ".svg", ".pdf")


def add_parser(sub):
    p = sub.add_parser("draw", help="draw a preset or saved network (PNG, SVG or PDF)",
                       description=__doc__.replace("``", ""),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--net", default="four-neuron", metavar="NAME|PATH",
                   help=f"a preset ({', '.join(PRESET_NAMES)}) or a saved network (.npz "
                        "or .json, from neurosim train or neurosim.save); default "
                        "four-neuron")
    p.add_argument("-o", "--out", metavar="PATH",
                   help="the file to write; .png, .svg or .pdf (default: NAME.png, NAME "
                        "being the preset or the saved file's name)")
    p.add_argument("--seed", type=int, default=None,
                   help="initial-weight seed for the 22432, moons and five-class presets "
                        "(default: the preset's)")
    p.add_argument("--x", nargs="+", type=float, metavar="V",
                   help="a sample, one value per input: write every neuron's output")
    p.add_argument("--target", nargs="+", type=float, metavar="T",
                   help="its target (one value per output, or a class label for "
                        "softmax_ce): write every neuron's delta too")
    p.add_argument("--weights", choices=["auto", "all", "none"], default="auto",
                   help="write weights on the edges: auto (where the labels fit; "
                        "default), all, or none")
    p.add_argument("--digits", type=int, default=2, help="decimals shown, 0..6 (default 2)")
    p.add_argument("--title", default=None, help="title (default: the network's shape)")
    p.add_argument("--dpi", type=int, default=150, help="PNG resolution (default 150)")
    return p


def _network(args):
    from . import preset_network
    if args.net in PRESET_NAMES:
        return preset_network(args.net, args.seed), args.net
    if os.path.isfile(args.net):
        if args.seed is not None:
            raise ValueError("--seed is for a preset; a saved network has its weights")
        from .. import io
        return io.load(args.net), pathlib.Path(args.net).stem
    near = difflib.get_close_matches(args.net, PRESET_NAMES, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise ValueError(f"--net {args.net!r} is neither a preset ({', '.join(PRESET_NAMES)}) "
                     f"nor an existing file{hint}")


def run(args):
    import numpy as np
    out = args.out
    if out is not None and pathlib.Path(out).suffix.lower() not in FORMATS:
        raise ValueError(f"cannot tell the format of {out!r} from its extension; use "
                         f"{', '.join(FORMATS)}")
    if not 0 <= args.digits <= 6:
        raise ValueError(f"--digits must be in 0..6, got {args.digits}")
    if args.dpi < 10:
        raise ValueError(f"--dpi must be at least 10, got {args.dpi}")
    if args.target is not None and args.x is None:
        raise ValueError("--target needs --x: the deltas are those of a sample")
    net, name = _network(args)
    if out is None:
        out = f"{name}.png"
    x = t = None
    if args.x is not None:
        x = np.array(args.x)
        if len(x) != net.n_inputs:
            raise ValueError(f"--x needs {net.n_inputs} values (one per input "
                             f"{', '.join(net.input_names)}), got {len(x)}")
    if args.target is not None:
        t = np.array(args.target)
        if len(t) == 1 and net.loss_name == "softmax_ce":
            t = t[0]                                  # a class label
    from .. import plots
    weights = {"auto": "auto", "all": True, "none": False}[args.weights]
    path = plots.draw_network(net, out, dpi=args.dpi, x=x, y=t, outputs=x is not None,
                              deltas=t is not None, weights=weights, digits=args.digits,
                              title=args.title)
    print(f"wrote {path}", file=sys.stderr)
    return 0
