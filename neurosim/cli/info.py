"""``neurosim info PATH``: load a saved network and describe it (neurons, activations,
weights, and the stored training history)."""


from ._common import description


def add_parser(sub):
    p = sub.add_parser("info", help="load a saved network and describe it",
                       description=description(__doc__))
    p.add_argument("path", help="a file written by neurosim.save / neurosim train -o")
    p.add_argument("--json", action="store_true",
                   help="print the network as JSON (names, activations, weighted edges)")
    return p


def run(args):
    from .. import io
    if args.json:
        import json
        net, hist = io.load(args.path, with_history=True)
        doc = {"neurons": {nm: net.role(nm) for nm in net.neuron_names},
               "activations": {nm: net.activation(nm)
                               for nm in net.neuron_names[net.first:]},
               "loss": net.loss_name, "dtype": net.dtype.name,
               "edges": {e: float(w) for e, w in zip(net.edge_names, net.weights)},
               "history": None if hist is None else {
                   "epochs": hist.epochs, "lr": hist.lr,
                   "train_acc": hist.train_acc.tolist(),
                   "test_acc": None if hist.test_acc is None else hist.test_acc.tolist()},
               "provenance": io.provenance(args.path)}
        print(json.dumps(doc, indent=1))
    else:
        print(io.info(args.path))
    return 0
