"""``neurosim trace``: explain one sample's forward, backward and update arithmetic for
chosen neurons, in the chapter's notation, for a preset or a saved network.

Examples::

    neurosim trace --net four-neuron --neuron A
    neurosim trace --net four-neuron --neuron C --x 1 0.5 --target 1 0 --lr 0.05
    neurosim trace --net four-neuron --neuron A --perturb A=0.01 --perturb BD=0.5
    neurosim trace --net moons --neuron E --neuron P
    neurosim trace --net saved.npz --x 0.2 -1.3 --target 1
"""
import json
import os

import numpy as np

from ..presets import PRESETS

PRESET_NAMES = tuple(PRESETS)


def add_parser(sub):
    p = sub.add_parser("trace", help="explain one sample through chosen neurons "
                                     "(forward, delta, update)",
                       description=__doc__,
                       formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("--net", default="four-neuron",
                   help="a preset (four-neuron, 22432, moons) or the path of a saved "
                        "network (default four-neuron)")
    p.add_argument("--neuron", action="append", metavar="NAME",
                   help="neuron to explain (repeatable; default: every hidden and output "
                        "neuron)")
    p.add_argument("--x", nargs="+", type=float, metavar="V",
                   help="the sample, one value per input (default: the chapter's (1, 1) "
                        "for four-neuron and 22432, the first training point for moons, "
                        "ones otherwise)")
    p.add_argument("--target", nargs="+", type=float, metavar="T",
                   help="its target, one value per output or a class label (default: 1 "
                        "for the first output, 0 for the others; moons: the point's label)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate η for the update "
                                                         "lines (default 0.1)")
    p.add_argument("--perturb", action="append", metavar="NAME=M", default=[],
                   help="also add M to a neuron's output or a weight and compare the "
                        "predicted error change m×δ with the measured one (repeatable)")
    p.add_argument("--seed", type=int, default=None,
                   help="initial-weight seed for the 22432 and moons presets")
    p.add_argument("--digits", type=int, default=4, help="significant digits (default 4)")
    p.add_argument("--ascii", action="store_true",
                   help="plain ASCII (d for δ, * for ·, lr for η)")
    p.add_argument("--json", action="store_true",
                   help="print the same content as JSON (terms with names and values)")
    return p


def _network(args):
    from . import preset_network
    if args.net in PRESET_NAMES:
        return preset_network(args.net, args.seed), args.net
    if os.path.isfile(args.net):
        from .. import io
        return io.load(args.net), None
    raise ValueError(f"--net {args.net!r} is neither a preset ({', '.join(PRESET_NAMES)}) "
                     "nor an existing file")


def _default_sample(net, preset):
    from .. import datasets, presets
    if preset == "four-neuron":
        return presets.FOUR_NEURON_SAMPLE
    if preset == "moons":
        d = datasets.moons()
        return d.X_train[0], np.array([d.y_train[0]])
    x = np.ones(net.n_inputs)
    t = np.zeros(len(net.output_idx))
    t[0] = 1.0
    return x, t


def _perturbations(specs):
    out = []
    for s in specs:
        name, sep, m = s.rpartition("=")
        if not sep or not name:
            raise ValueError(f"--perturb {s!r}: write NAME=M, e.g. A=0.01 or BD=0.5")
        try:
            out.append((name, float(m)))
        except ValueError:
            raise ValueError(f"--perturb {s!r}: {m!r} is not a number") from None
    return out


def run(args):
    from ..tracing import trace
    net, preset = _network(args)
    x0, t0 = _default_sample(net, preset)
    x = x0 if args.x is None else np.array(args.x)
    t = t0 if args.target is None else np.array(args.target)
    if args.target is not None and len(t) == 1 and net.loss_name == "softmax_ce":
        t = t[0]                                      # a class label
    perturb = _perturbations(args.perturb)
    tr = trace(net, x, t, lr=args.lr)
    names = args.neuron
    if args.json:
        todo = names if names else net.neuron_names[net.first:]
        doc = {"error": tr.error, "x": tr.x.tolist(), "target": tr.target.tolist(),
               "lr": tr.lr, "loss": net.loss_name,
               "neurons": [tr.neuron(n).as_dict() for n in todo],   # raises on a bad name
               "perturbations": []}
        for what, m in perturb:
            p = tr.perturb(what, m)
            doc["perturbations"].append(dict(what=p.what, kind=p.kind, m=p.m, slope=p.slope,
                                             predicted=p.predicted, measured=p.measured,
                                             gap=p.gap, chain=list(p.chain)))
        print(json.dumps(doc, indent=1))
        return 0
    text = tr.explain(names, ascii=args.ascii, digits=args.digits)
    extra = [str(tr.perturb(what, m, ascii=args.ascii, digits=args.digits))
             for what, m in perturb]
    print(text)
    for e in extra:
        print()
        print(e)
    return 0
