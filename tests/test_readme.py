"""The README runs as written: every ```python block (in order, in one namespace, as a
reader pasting them into one session would) and every ```bash block (each block as one
script, in a fresh folder holding `.venv` -> this virtual environment and a copy of
`notebooks/`), with the ```text block that follows a bash block compared to the output
of that block's last command.

A small collector rather than a plugin: pytest-codeblocks (the closest well-kept one)
needs its own command-line flag, runs shell blocks in the repository root and shares no
state between Python blocks without a marker on each; here a block is marked only when
it cannot run as written on this machine, with the reason in the README's source:

    <!-- readme-test: skip REASON -->      the block is not run (REASON is reported)
    <!-- readme-test: needs-gpu -->        run only where a real CUDA GPU is usable
    <!-- readme-test: env NAME=VALUE -->   run the block with this environment variable
    <!-- readme-test: slow REASON -->      run only with NEUROSIM_README_SLOW=1

A marker applies to the next fenced block.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*readme-test:\s*(\S+)\s*(.*?)\s*-->\s*$")


def parse(path=README):
    """Fenced blocks as dicts: lang, line (1-based, of the opening fence), code, marks."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, marks, i = [], [], 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if m:
            marks.append((m.group(1), m.group(2)))
            i += 1
            continue
        f = FENCE.match(lines[i])
        if f:
            j = i + 1
            while j < len(lines) and lines[j].rstrip() != "```":
                j += 1
            blocks.append(dict(lang=f.group(1), line=i + 1, code="\n".join(lines[i + 1:j]),
                               marks=marks))
            marks = []
            i = j + 1
            continue
        if lines[i].strip() and not lines[i].lstrip().startswith("<!--"):
            marks = []                 # a marker applies to the block right after it
        i += 1
    return blocks


def _gpu():
    """A real, usable CUDA GPU (not the simulator) in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    code = "from numba import cuda; import sys; sys.exit(0 if cuda.is_available() else 1)"
    try:
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _env(marks):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["MPLBACKEND"] = "Agg"
    env.pop("PYTHONPATH", None)
    for kind, arg in marks:
        if kind == "env":
            k, _, v = arg.partition("=")
            env[k] = v
    return env


def _skip_reason(block, gpu):
    for kind, arg in block["marks"]:
        if kind == "skip":
            return arg or "marked skip"
        if kind == "slow" and os.environ.get("NEUROSIM_README_SLOW") != "1":
            return f"slow ({arg}); NEUROSIM_README_SLOW=1 runs it"
        if kind == "needs-gpu" and not gpu():
            return "needs a real CUDA GPU"
    return None


BLOCKS = parse()
PYTHON = [b for b in BLOCKS if b["lang"] == "python"]
BASH = [b for b in BLOCKS if b["lang"] == "bash"]


def test_markers_are_known():
    known = {"skip", "needs-gpu", "env", "slow"}
    for b in BLOCKS:
        for kind, arg in b["marks"]:
            assert kind in known, f"README line {b['line']}: unknown marker {kind!r}"
            if kind in ("skip", "slow"):
                assert arg, f"README line {b['line']}: {kind} needs a reason"
    assert len(PYTHON) >= 10 and len(BASH) >= 5          # the parser found the blocks


_RUNNER = textwrap.dedent('''
    import json, sys, time, traceback
    blocks = json.load(open(sys.argv[1]))
    ns = {"__name__": "__main__"}
    results = []
    for b in blocks:
        t0 = time.perf_counter()
        try:
            exec(compile(b["code"], "README.md:%d" % b["line"], "exec"), ns)
            results.append({"line": b["line"], "ok": True})
        except BaseException:
            results.append({"line": b["line"], "ok": False, "error": traceback.format_exc()})
            break                      # later blocks build on this one
        finally:
            results[-1]["seconds"] = round(time.perf_counter() - t0, 2)
    json.dump(results, open(sys.argv[2], "w"))
''')


def test_python_blocks(tmp_path):
    """Every Python block, in order, in one namespace, in a fresh interpreter and folder."""
    gpu = {}

    def has_gpu():
        if "v" not in gpu:
            gpu["v"] = _gpu()
        return gpu["v"]

    todo, skipped = [], []
    for b in PYTHON:
        why = _skip_reason(b, has_gpu)
        (skipped if why else todo).append((b, why))
    spec = tmp_path / "blocks.json"
    # a block's line numbers in tracebacks are README's: pad with blank lines
    spec.write_text(json.dumps([{"line": b["line"], "code": "\n" * b["line"] + b["code"]}
                                for b, _ in todo]))
    env = _env([m for b, _ in todo for m in b["marks"]])
    work = tmp_path / "work"
    work.mkdir()
    p = subprocess.run([sys.executable, "-c", _RUNNER, str(spec), str(tmp_path / "r.json")],
                       cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    results = json.loads((tmp_path / "r.json").read_text())
    bad = [r for r in results if not r["ok"]]
    assert not bad, f"README block at line {bad[0]['line']} failed:\n{bad[0]['error']}"
    assert len(results) == len(todo), "not every block ran"
    for b, why in skipped:
        print(f"README line {b['line']}: skipped ({why})")


def _expected_output(block):
    """The ```text block right after ``block`` in the README, if any."""
    k = BLOCKS.index(block)
    if k + 1 < len(BLOCKS) and BLOCKS[k + 1]["lang"] == "text":
        nxt = BLOCKS[k + 1]
        between = README.read_text(encoding="utf-8").splitlines()[
            block["line"] + len(block["code"].splitlines()):nxt["line"] - 1]
        if not any(s.strip() for s in between):
            return nxt["code"]
    return None


@pytest.mark.parametrize("block", BASH, ids=[f"line{b['line']}" for b in BASH])
def test_bash_block(block, tmp_path):
    why = _skip_reason(block, _gpu)
    if why:
        pytest.skip(why)
    venv = pathlib.Path(sys.prefix)
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    env = _env(block["marks"])
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    # the block as one script, stopping at the first failing command (-e), each command
    # echoed to stderr (-x) so a failure names it
    p = subprocess.run(["bash", "-euxo", "pipefail", "-c", block["code"]], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, (f"README line {block['line']}: exited with {p.returncode}\n"
                               f"{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    out = p.stdout
    want = _expected_output(block)
    if want is not None:
        got = [s.rstrip() for s in out.rstrip("\n").splitlines()]
        assert got == [s.rstrip() for s in want.splitlines()], \
            f"README line {block['line']}: the output shown below the command differs"
