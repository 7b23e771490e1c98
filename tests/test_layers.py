"""The package's imports point one way: every module imports only from its own layer or
below, and nothing imports in a cycle -- lazy imports inside functions included."""
import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "neurosim"

#: layer of each module (a dotted prefix matches a whole subpackage), bottom first
LAYERS = [
    ("checks", "config", "progress"),
    ("kernels",),
    ("graph", "presets", "datasets", "inputs"),
    ("backends",),
    ("ops",),
    ("training",),
    ("tracing", "numgrad", "curves", "sweeps"),
    ("plots",),
    ("demo", "io", "sklearn", "interop", "cli", "__main__", "__root__"),
]


def layer_of(mod):
    for k, names in enumerate(LAYERS):
        for nm in names:
            if mod == nm or mod.startswith(nm + "."):
                return k
    raise AssertionError(f"neurosim.{mod} is in no layer: add it to LAYERS")


def modules():
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:                                  # the package's own __init__ is the top
            yield ".".join(parts), p


def imports(mod, path):
    """Modules of the package that ``mod`` imports anywhere in its source."""
    tree = ast.parse(path.read_text())
    pkg = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("neurosim."):
                    found.add(a.name[len("neurosim."):])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("neurosim"):
                target = node.module[len("neurosim."):] if node.module != "neurosim" else ""
            else:
                continue
            for a in node.names:                   # "from . import ops" names a module
                sub = f"{target}.{a.name}" if target else a.name
                is_mod = ((PKG / sub.replace(".", "/")).with_suffix(".py").exists()
                          or (PKG / sub.replace(".", "/")).is_dir())
                found.add(sub if is_mod else target or "__root__")   # "from neurosim import
    return {m for m in found if m and m != mod}                  # train": all of it


GRAPH = {mod: imports(mod, p) for mod, p in modules()}


@pytest.mark.parametrize("mod", sorted(GRAPH))
def test_imports_point_down(mod):
    up = sorted(m for m in GRAPH[mod] if layer_of(m) > layer_of(mod))
    assert not up, f"neurosim.{mod} (layer {layer_of(mod)}) imports higher layers: {up}"


def test_no_import_cycles():
    def resolve(m):                                # "kernels" -> the package's __init__
        return m if m in GRAPH else next((k for k in GRAPH if k.startswith(m + ".")), m)

    state = {}

    def visit(m, stack):
        state[m] = "open"
        for n in sorted(resolve(x) for x in GRAPH.get(m, ())):
            if n not in GRAPH:
                continue
            if state.get(n) == "open":
                cycle = stack[stack.index(n):] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n, stack + [n])
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])


def test_the_checker_sees_a_lazy_upward_import(tmp_path):
    src = tmp_path / "x.py"
    src.write_text("def f():\n    from ..plots import plot_data\n")
    assert imports("kernels.x", src) == {"plots"}
