"""What several subcommands share: a parser whose errors are one line (with "did you
mean …"), the data options (a generated set or a CSV file), the network options, and the
checks of an output file name."""
import argparse
import difflib
import math
import os
import re
import sys

import numpy as np

SAVE_SUFFIXES = (".npz", ".json")


def did_you_mean(word, choices):
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``prog: error: message``, with a
    "did you mean" for a misspelt choice or option and a pointer to ``--help``."""

    def error(self, message):
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(2))
            message = (f"{message[:m.start()]}invalid choice {m.group(1)!r}"
                       f"{did_you_mean(m.group(1), choices)}; choose from "
                       + ", ".join(choices))
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def unrecognized(self, extra):
        """Refuse unknown arguments, suggesting the closest option of this parser."""
        opts = [o for a in self._actions for o in a.option_strings]
        hints = "".join(did_you_mean(x, opts) for x in extra if x.startswith("-"))
        self.error(f"unrecognized arguments: {' '.join(extra)}{hints}")


def description(doc):
    """A module docstring as ``--help`` text: no reST markup (``literal`` quotes, ``::``)."""
    doc = doc.replace("``", "")
    return re.sub(r"::\s*$", ":", doc, flags=re.M)


# -- argument types ---------------------------------------------------------------------
def positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return v


def penalty(text):
    """An L2 penalty λ: a finite number >= 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return v


L2_HELP = ("L2 penalty λ: the error gains λ/2·Σw² over the non-bias weights, each step "
           "AC ← AC − η·(Ao·Cδ + λ·AC) (default 0: none)")


def int_at_least(lo):
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"must be at least {lo}, got {v}")
        return v
    parse.__name__ = f"integer >= {lo}"
    return parse


def choice_or_path(choices, what="choice", suffixes=None):
    """A type accepting one of ``choices`` or the path of an existing file (ending in one
    of ``suffixes`` if given); a misspelt choice gets a "did you mean"."""
    def parse(text):
        if text in choices:
            return text
        if os.path.isfile(text) and (suffixes is None or text.lower().endswith(suffixes)):
            return text
        if (suffixes and text.lower().endswith(suffixes)) or "/" in text or (
                os.sep in text) or os.path.splitext(text)[1]:
            raise argparse.ArgumentTypeError(f"no such file: {text}")
        kinds = f"a {' or '.join(suffixes)} file" if suffixes else "an existing file"
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a {what}{did_you_mean(text, choices)} nor {kinds}; "
            f"{what}s: {', '.join(choices)}")
    return parse


def check_out(path):
    """Refuse an output name :func:`neurosim.save` would not write as named (before any
    work is done): it must end in .npz or .json, in an existing folder."""
    if path is None:
        return None
    from .. import io
    if not path.lower().endswith(SAVE_SUFFIXES):
        raise ValueError(f"-o {path}: the file name must end in .npz (compact) or .json "
                         "(readable)")
    return io.check_save_path(path)


# -- data -----------------------------------------------------------------------------------
def add_data_args(p, default="moons"):
    from ..datasets import DATASETS
    g = p.add_argument_group("data")
    g.add_argument("--data", default=default, metavar="NAME|FILE.csv",
                   type=choice_or_path(sorted(DATASETS), "data set", (".csv",)),
                   help=f"a generated data set ({', '.join(sorted(DATASETS))}; default "
                        f"{default}: the book's 1,536/512 points) or a CSV file with a "
                        "header row")
    g.add_argument("--features", nargs="+", metavar="COL",
                   help="CSV: the feature columns (default: every column but the label)")
    g.add_argument("--label", metavar="COL",
                   help="CSV: the label column (default: the last column). Labels are "
                        "classes: 0/1, or any values, numbered in sorted order")
    g.add_argument("--test-size", type=float, default=0.25,
                   help="CSV: fraction held out as the test set (default 0.25; 0: none)")
    g.add_argument("--no-scale", dest="scale", action="store_false",
                   help="CSV: use the features as they are (default: standardised with "
                        "the training part's mean and standard deviation, as the "
                        "generated sets are)")
    g.add_argument("--n-samples", type=int_at_least(4), default=None,
                   help="generated sets: samples to generate (default: the set's)")
    g.add_argument("--noise", type=float, default=None,
                   help="generated sets: noise (default: the set's)")
    g.add_argument("--data-seed", type=int_at_least(0), default=None,
                   help="the data's seed: generation, or the CSV's train/test split "
                        "(default: the set's; 0 for a CSV)")
    return g


def is_csv(args):
    return args.data.lower().endswith(".csv")


def check_data_args(args):
    """Refuse options that do not apply to the chosen data (before anything runs)."""
    if is_csv(args):
        for opt in ("n_samples", "noise"):
            if getattr(args, opt) is not None:
                raise ValueError(f"--{opt.replace('_', '-')} is for generated data sets, "
                                 "not a CSV file")
        if not 0 <= args.test_size < 1:
            raise ValueError(f"--test-size must be in [0, 1), got {args.test_size:g}")
    else:
        for opt in ("features", "label"):
            if getattr(args, opt) is not None:
                raise ValueError(f"--{opt} is for a CSV file; --data {args.data} is a "
                                 "generated set")
        if args.test_size != 0.25:
            raise ValueError("--test-size is for a CSV file; the generated sets have "
                             "their own split")


def load_data(args):
    """(Split, provenance dict) for the data options."""
    from .. import datasets
    check_data_args(args)
    if is_csv(args):
        return read_csv(args.data, features=args.features, label=args.label,
                        test_size=args.test_size, seed=args.data_seed or 0,
                        scale=args.scale)
    kw = {k: v for k, v in (("n_samples", args.n_samples), ("noise", args.noise),
                            ("seed", args.data_seed)) if v is not None}
    d = datasets.DATASETS[args.data](**kw)
    return d, dict({"name": args.data}, **kw)


def read_csv(path, *, features=None, label=None, test_size=0.25, seed=0, scale=True):
    """A CSV file (header row) as a :class:`neurosim.datasets.Split` and a provenance
    dict: ``features`` columns (default all but ``label``) as float inputs, ``label``
    (default the last column) as class numbers 0..k-1 (classes in sorted order), split
    with scikit-learn's ``train_test_split(test_size, random_state=seed, stratify)`` and,
    with ``scale``, standardised with the training part's mean and standard deviation."""
    import pandas as pd
    from ..datasets import Split
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise ValueError(f"cannot read {path} as CSV: {e}") from None
    cols = [str(c) for c in df.columns]
    df.columns = cols
    if len(cols) < 2:
        raise ValueError(f"{path}: needs a header row and at least two columns (features "
                         f"and a label), found {cols}")
    label = cols[-1] if label is None else label
    for c in [label] + list(features or []):
        if c not in cols:
            raise ValueError(f"{path}: no column {c!r}{did_you_mean(c, cols)}; columns: "
                             + ", ".join(cols))
    features = [c for c in cols if c != label] if features is None else list(features)
    if label in features:
        raise ValueError(f"{path}: column {label!r} is both a feature and the label")
    if len(set(features)) != len(features):
        raise ValueError(f"{path}: a feature column is named twice")
    X = df[features]
    bad = [c for c in features if not pd.api.types.is_numeric_dtype(X[c])]
    if bad:
        raise ValueError(f"{path}: feature columns must be numbers; {', '.join(bad)} "
                         "are not")
    X = X.to_numpy(dtype=float)
    if not np.all(np.isfinite(X)):
        rows = np.flatnonzero(~np.all(np.isfinite(X), axis=1))[:5] + 2
        raise ValueError(f"{path}: missing or non-finite feature values (file lines "
                         f"{', '.join(map(str, rows))}, …)")
    yraw = df[label]
    if yraw.isna().any():
        raise ValueError(f"{path}: the label column {label!r} has missing values")
    classes = sorted(yraw.unique().tolist(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise ValueError(f"{path}: the label column {label!r} holds one class only")
    y = yraw.map({c: k for k, c in enumerate(classes)}).to_numpy(dtype=float)
    if len(X) < 4:
        raise ValueError(f"{path}: needs at least 4 rows, has {len(X)}")
    if test_size:
        from sklearn.model_selection import train_test_split
        try:
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size,
                                                  random_state=seed, stratify=y)
        except ValueError:            # a class too small to stratify
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size,
                                                  random_state=seed)
    else:
        Xtr, Xte, ytr, yte = X, X[:0], y, y[:0]
    info = {"csv": os.path.basename(path), "features": features, "label": label,
            "classes": [c if isinstance(c, (str, int, float)) else str(c) for c in classes],
            "rows": int(len(X)), "test_size": test_size, "split_seed": seed,
            "scaled": bool(scale)}
    if scale:
        mean, std = Xtr.mean(axis=0), Xtr.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
        info["mean"], info["std"] = mean.tolist(), std.tolist()
    return Split(Xtr, Xte, ytr, yte), info


def describe_data(d, info):
    name = info.get("csv") or info.get("name")
    test = f" / {len(d.X_test)} test" if len(d.X_test) else ", no test set"
    return f"{name}: {len(d.X_train)} train{test} points, {d.X_train.shape[1]} features"


# -- networks -------------------------------------------------------------------------------
def add_net_args(p, default="moons"):
    from ..presets import PRESETS
    g = p.add_mutually_exclusive_group()
    g.add_argument("--net", choices=sorted(PRESETS), default=None,
                   help=f"a preset network (default {default})")
    g.add_argument("--layers", type=int_at_least(1), nargs="+", metavar="N",
                   help="a fully connected net with these layer sizes, e.g. 2 4 4 1 "
                        "(ReLU hidden layers; one output: sigmoid + bce, several: "
                        "softmax_ce)")
    return g


def builder(args, default="moons"):
    """(name, seed -> Network) for --net / --layers."""
    from ..presets import Layered, Preset
    if args.layers is not None:
        return "-".join(map(str, args.layers)), Layered(args.layers)
    name = args.net or default
    return name, Preset(name)


def targets(net, y):
    """Class labels -> one-hot rows for a net with several outputs (except softmax_ce)."""
    m = len(net.output_idx)
    if m > 1 and net.loss_name != "softmax_ce":
        if np.any((y < 0) | (y >= m)):
            raise ValueError(f"the data's labels do not fit a net with {m} outputs")
        return np.eye(m)[y.astype(int)]
    return y


def check_fit(net, name, d, data_name):
    n_in = d.X_train.shape[1]
    if net.n_inputs != n_in:
        raise ValueError(f"the {data_name} data has {n_in} inputs; the net {name} has "
                         f"{net.n_inputs}")
    m = len(net.output_idx)
    k = int(d.y_train.max()) + 1 if len(d.y_train) else 2
    if k > 2 and m == 1:
        raise ValueError(f"the {data_name} data has {k} classes; the net {name} has one "
                         f"output (use --layers … {k} for {k} outputs)")
    if m > 1 and k > m:
        raise ValueError(f"the {data_name} data has {k} classes; the net {name} has {m} "
                         "outputs")


def stderr(msg):
    print(msg, file=sys.stderr)
