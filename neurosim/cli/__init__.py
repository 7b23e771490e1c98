"""The ``neurosim`` command line. Each subcommand lives in its own module here, which
defines ``add_parser(subparsers)`` (returning its parser) and ``run(args)``."""
import argparse
import importlib
import sys

#: subcommand -> module that implements it
COMMANDS = {
    "demo": "neurosim.cli.demo",
    "trace": "neurosim.cli.trace",
    "train": "neurosim.cli.train",
    "info": "neurosim.cli.info",
}


def preset_network(name, seed=None):
    """Preset ``name`` with its documented weights, or built with ``seed`` (a preset with
    fixed weights, four-neuron, ignores it)."""
    from ..presets import Preset, preset
    return preset(name) if seed is None else Preset(name)(seed)


def build_parser():
    p = argparse.ArgumentParser(prog="neurosim",
                                description="A neuron-level backpropagation simulator "
                                            "(Glassner, Deep Learning: A Visual Approach, ch. 14)")
    from .. import __version__
    p.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, mod in COMMANDS.items():
        sp = importlib.import_module(mod).add_parser(sub)
        sp.set_defaults(_module=mod)
    return p


def main(argv=None):
    p = build_parser()
    args = p.parse_args(argv)
    if args.command is None:
        p.print_help()
        return 2
    try:
        return importlib.import_module(args._module).run(args) or 0
    except ValueError as e:          # bad input: a clear message, no traceback
        print(f"neurosim {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
