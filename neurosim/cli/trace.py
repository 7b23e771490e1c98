"""``neurosim trace``: explain one sample's forward, backward and update arithmetic for
chosen neurons, in the chapter's notation, for a preset or a saved network.

Examples::

    neurosim trace --net four-neuron --neuron A
    neurosim trace --net four-neuron --neuron C --x 1 0.5 --target 1 0 --lr 0.05
    neurosim trace --net four-neuron --neuron A --perturb A=0.01 --perturb BD=0.5
    neurosim trace --net moons --neuron E --neuron P
    neurosim trace --net five-class --neuron c0
    neurosim trace --net saved.npz --x 0.2 -1.3 --target 1

A saved network is traced on the sample stored with it (neurosim train stores its first
training point); a file without one needs --x. A softmax_ce network (five-class, or a saved
one with several outputs) also gets its outputs as logits and probabilities, the
predicted and labelled class, E and each output's delta. five-class is traced by default
on a training point of datasets.blobs() that it classifies wrongly, as in Fig 14-1: the
one whose (wrong) largest probability is smallest.
"""
import argparse
import json

import numpy as np

from . import _common as C

from ..presets import PRESETS

PRESET_NAMES = tuple(PRESETS)


def add_parser(sub):
    p = sub.add_parser("trace", help="explain one sample through chosen neurons "
                                     "(forward, delta, update)",
                       description=C.description(__doc__),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--net", default="four-neuron", metavar="PRESET|FILE",
                   type=C.choice_or_path(PRESET_NAMES, "preset"),
                   help=f"a preset ({', '.join(PRESET_NAMES)}) or the path of a saved "
                        "network (default four-neuron)")
    p.add_argument("--neuron", action="append", metavar="NAME",
                   help="neuron to explain (repeatable; default: every hidden and output "
                        "neuron)")
    p.add_argument("--x", nargs="+", type=float, metavar="V",
                   help="the sample, one value per input (default: the chapter's (1, 1) "
                        "for four-neuron and 22432, the first training point for moons, "
                        "for five-class the blobs training point it is least sure of among "
                        "those it gets wrong, "
                        "the sample stored with a saved network)")
    p.add_argument("--target", nargs="+", type=float, metavar="T",
                   help="its target, one value per output or a class label (default: 1 "
                        "for the first output, 0 for the others; moons, five-class: the "
                        "point's label; "
                        "a saved network: its stored sample's)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate η for the update "
                                                         "lines (default 0.1)")
    p.add_argument("--l2", type=C.penalty, default=0.0, help=C.L2_HELP)
    p.add_argument("--perturb", action="append", metavar="NAME=M", default=[],
                   help="also add M to a neuron's output or a weight and compare the "
                        "predicted error change m×δ with the measured one (repeatable)")
    p.add_argument("--seed", type=int, default=None,
                   help="initial-weight seed for the 22432, moons and five-class presets")
    p.add_argument("--digits", type=int, default=4, help="significant digits (default 4)")
    p.add_argument("--ascii", action="store_true",
                   help="plain ASCII (d for δ, * for ·, lr for η)")
    p.add_argument("--code", action="store_true",
                   help="print the per-sample SGD epoch the kernel planner generates for "
                        "this network (the arithmetic of training, written out) and exit")
    p.add_argument("--json", action="store_true",
                   help="print the same content as JSON (terms with names and values)")
    return p


def _network(args):
    """(network, preset name or None, stored sample or None)."""
    from . import preset_network
    if args.net in PRESET_NAMES:
        return preset_network(args.net, args.seed), args.net, None
    from .. import io
    if args.seed is not None:
        raise ValueError("--seed chooses a preset's initial weights; a saved network has "
                         "its own")
    net = io.load(args.net)
    s = io.provenance(args.net).get("sample")
    return net, None, None if s is None else (np.array(s["x"]), np.array(s["target"]))


def _default_sample(net, preset, stored):
    from .. import datasets, presets
    if stored is not None:
        return stored
    if preset == "four-neuron":
        return presets.FOUR_NEURON_SAMPLE
    if preset == "moons":
        d = datasets.moons()
        return d.X_train[0], np.array([d.y_train[0]])
    if preset == "five-class":
        return misclassified(net, datasets.blobs())
    if preset is None:
        return None, None
    x = np.ones(net.n_inputs)
    t = np.zeros(len(net.output_idx))
    t[0] = 1.0
    return x, t


def misclassified(net, d):
    """(x, [label]) of a training point of ``d`` that ``net`` gets wrong, as in Fig 14-1
    (an unsure largest probability, 0.35, on the wrong class): of the points whose largest
    class probability is not on their label, the one where that probability is smallest
    (the first of equals); the first point if the net gets every one right."""
    from ..ops import predict_proba
    P = predict_proba(net, d.X_train)
    wrong = np.flatnonzero(np.argmax(P, axis=1) != d.y_train)
    i = int(wrong[np.argmin(P[wrong].max(axis=1))]) if len(wrong) else 0
    return d.X_train[i], np.array([d.y_train[i]])


def _names(net, idx):
    return ", ".join(net.neuron_names[i] for i in idx)


def _check_sample(net, x, t, label_ok):
    """The CLI's words for a sample that does not fit the network."""
    n_in, m = net.n_inputs, len(net.output_idx)
    ins = _names(net, range(n_in))
    outs = _names(net, net.output_idx)
    if len(x) != n_in:
        raise ValueError(f"--x: the network has {n_in} input{'s' * (n_in != 1)} ({ins}); "
                         f"give {n_in} value{'s' * (n_in != 1)}, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("--x: the values must be finite numbers")
    if len(t) != m and not (len(t) == 1 and label_ok):
        example = " ".join(["1"] + ["0"] * (m - 1))
        raise ValueError(f"--target: the network has {m} output{'s' * (m != 1)} ({outs}); "
                         f"give {m} value{'s' * (m != 1)}, e.g. --target {example}, got "
                         f"{len(t)}")
    if not np.all(np.isfinite(t)):
        raise ValueError("--target: the values must be finite numbers")
    if net.loss_name == "softmax_ce" and len(t) == 1 and not (
            float(t[0]).is_integer() and 0 <= t[0] < m):
        raise ValueError(f"--target: a class label for {m} outputs must be one of "
                         f"{', '.join(map(str, range(m)))}, got {t[0]:g}")
    if net.loss_name == "bce" and np.any((t < 0) | (t > 1)):
        raise ValueError("--target: with the bce loss targets must lie in [0, 1]")


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
    perturb = _perturbations(args.perturb)
    if args.digits < 1 or args.lr <= 0 or not np.isfinite(args.lr):
        raise ValueError("--digits must be >= 1" if args.digits < 1 else
                         f"--lr: the learning rate must be a number > 0, got {args.lr:g}")
    net, preset, stored = _network(args)
    if args.code:
        from ..backends.cpu import kernel_source
        print(kernel_source(net), end="")
        return 0
    x0, t0 = _default_sample(net, preset, stored)
    if args.x is None and x0 is None:
        raise ValueError(f"{args.net} stores no sample to trace: give one with --x (and "
                         "--target)")
    x = x0 if args.x is None else np.array(args.x)
    if args.target is not None:
        t = np.array(args.target)
    elif args.x is None or t0 is not None:
        t = t0
    else:
        t = np.zeros(len(net.output_idx))
        t[0] = 1.0
    t = np.atleast_1d(np.asarray(t, dtype=float))
    _check_sample(net, np.asarray(x, dtype=float), t,
                  label_ok=net.loss_name == "softmax_ce" or len(net.output_idx) == 1)
    if len(t) == 1 and net.loss_name == "softmax_ce":
        t = t[0]                                      # a class label
    tr = trace(net, x, t, lr=args.lr, l2=args.l2)
    names = args.neuron
    if args.json:
        todo = names if names else net.neuron_names[net.first:]
        doc = {"error": tr.error, "x": tr.x.tolist(), "target": tr.target.tolist(),
               "lr": tr.lr, "l2": float(tr.l2), "penalty": float(tr.penalty),
               "loss": net.loss_name,
               "neurons": [tr.neuron(n).as_dict() for n in todo],   # raises on a bad name
               "perturbations": []}
        if net.loss_name == "softmax_ce":
            doc["softmax"] = tr.softmax().as_dict()
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
