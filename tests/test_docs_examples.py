"""Every example in README.md and docs/*.md runs as pasted.

Each ```python block runs alone in a fresh interpreter (no imports carried
over from an earlier block), in an empty temporary directory, with a clean
environment: no PYTEST_CURRENT_TEST (which would switch on pass
verification) and a private NETJIT_CACHE_DIR. A block opts out only with a
marker comment on its first line, ``# not run: <why>``, and must then be
listed in OPTED_OUT below, so skipping an example is a visible decision.

The README's ```sh lines run in order in one temporary directory (later
lines read the demo.json the first one saves), all but the ``--format svg``
line, which needs Graphviz.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OPT_OUT = re.compile(r"#\s*not run:\s*(.+)")

#: (file, first line of the block) of the blocks marked ``# not run: ...``.
OPTED_OUT: set[tuple[str, int]] = set()

#: README shell lines not run here, by a substring of the line, with why.
SHELL_SKIPPED = {"--format svg": "Graphviz is optional"}

TIMEOUT_S = 180


def fenced_blocks(path: Path, lang: str) -> list[tuple[int, str]]:
    """(line number of the first code line, code) of each ```lang block of ``path``."""
    blocks, code, start = [], None, 0
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if code is None:
            if line.strip() == f"```{lang}":
                code, start = [], i + 1
        elif line.strip() == "```":
            blocks.append((start, "\n".join(code) + "\n"))
            code = None
        else:
            code.append(line)
    assert code is None, f"{path.name}: unclosed ```{lang} block from line {start}"
    return blocks


PYTHON_BLOCKS = [(p.relative_to(ROOT).as_posix(), line, code)
                 for p in DOCS for line, code in fenced_blocks(p, "python")]


def clean_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["NETJIT_CACHE_DIR"] = str(tmp_path / "netjit-cache")
    # ``netjit`` and ``python`` in the shell lines are this interpreter's
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run(args, tmp_path: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True,
                          timeout=TIMEOUT_S, **kw)


def failure(what: str, proc: subprocess.CompletedProcess) -> str:
    return f"{what} exited {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"


def test_there_are_examples_to_run():
    files = {f for f, _, _ in PYTHON_BLOCKS}
    assert "README.md" in files and len(PYTHON_BLOCKS) >= 4, files


def test_only_listed_blocks_opt_out():
    marked = {(f, line) for f, line, code in PYTHON_BLOCKS if OPT_OUT.match(code.split("\n", 1)[0].strip())}
    assert marked == OPTED_OUT, ("blocks marked '# not run:' must be listed in OPTED_OUT "
                                 f"(marked {sorted(marked)}, listed {sorted(OPTED_OUT)})")


@pytest.mark.parametrize("path, line, code", PYTHON_BLOCKS, ids=[f"{f}:{n}" for f, n, _ in PYTHON_BLOCKS])
def test_python_block_runs_as_pasted(path, line, code, tmp_path):
    marker = OPT_OUT.match(code.split("\n", 1)[0].strip())
    if marker:
        pytest.skip(f"{path}:{line} not run: {marker.group(1)}")
    script = tmp_path / "example.py"
    script.write_text(code)
    proc = run([sys.executable, script.name], tmp_path)
    assert proc.returncode == 0, failure(f"the ```python block at {path}:{line}", proc)


def readme_shell_lines() -> list[str]:
    lines = []
    for _, code in fenced_blocks(ROOT / "README.md", "sh"):
        for line in code.splitlines():
            command = line.split("  #", 1)[0].strip()    # drop the trailing comment
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def test_readme_shell_lines_run(tmp_path):
    lines = readme_shell_lines()
    assert any(line.startswith("netjit demo --save demo.json") for line in lines), lines
    for line in lines:
        if any(skip in line for skip in SHELL_SKIPPED):
            continue
        proc = run(shlex.split(line), tmp_path)
        assert proc.returncode == 0, failure(f"README shell line {line!r}", proc)
