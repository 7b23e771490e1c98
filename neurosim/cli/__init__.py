"""The ``neurosim`` command line. Each subcommand lives in its own module here, which
defines ``add_parser(subparsers)`` (returning its parser) and ``run(args)``."""
import importlib
import os
import sys

#: subcommand -> module that implements it (one line each)
COMMANDS = {
    "demo": "neurosim.cli.demo",
    "trace": "neurosim.cli.trace",
    "train": "neurosim.cli.train",
    "sweep": "neurosim.cli.sweep",
    "info": "neurosim.cli.info",
}

# drawings and animations (branch draw)
COMMANDS.update({"draw": "neurosim.cli.draw", "animate": "neurosim.cli.animate"})


def preset_network(name, seed=None):
    """Preset ``name`` with its documented weights, or built with ``seed`` (a preset with
    fixed weights, four-neuron, ignores it)."""
    from ..presets import Preset, preset
    return preset(name) if seed is None else Preset(name)(seed)


def build_parser():
    from ._common import Parser
    p = Parser(prog="neurosim",
               description="A neuron-level backpropagation simulator "
                           "(Glassner, Deep Learning: A Visual Approach, ch. 14)")
    from .. import __version__
    p.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    p._commands = {}
    for name, mod in COMMANDS.items():
        sp = importlib.import_module(mod).add_parser(sub)
        sp.set_defaults(_module=mod)
        p._commands[name] = sp
    return p


def _quiet_pipe():
    """The reader of stdout went away (``| head``): send the rest nowhere, exit quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv=None):
    p = build_parser()
    try:                           # argparse exits on --help, --version and bad arguments
        args, extra = p.parse_known_args(argv)
        if args.command is None:
            if extra:
                p.unrecognized(extra)
            p.print_help()
            return 2
        if extra:                  # the subcommand's own one-line error, not the top's usage
            p._commands[args.command].unrecognized(extra)
    except SystemExit as e:
        return e.code
    try:
        rc = importlib.import_module(args._module).run(args) or 0
        sys.stdout.flush()
        return rc
    except ValueError as e:          # bad input: a clear message, no traceback
        print(f"neurosim {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _quiet_pipe()
        return 1
    except KeyboardInterrupt:
        print(f"neurosim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
