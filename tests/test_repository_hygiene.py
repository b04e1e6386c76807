"""The contributor tooling agrees with itself: the pre-commit hooks name commands that
exist and run what `make lint` / `make docs` run, CI runs the lint and the tests, and the
type checker's temporary exclusions stay confined to components/."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest
from pre_commit.clientlib import load_config

from tests.conftest import ROOT

PRE_COMMIT = ROOT / ".pre-commit-config.yaml"
MAKEFILE = ROOT / "Makefile"

# How the Makefile spells the venv's tools, and how a hook (run from the repo root) does.
_MAKE_SPELLINGS = {"$(PY)": ".venv/bin/python", "$(VENV)": ".venv"}


def _hooks() -> list[dict]:
    # pre-commit's own loader: it validates the schema exactly as `pre-commit run` does.
    config = load_config(str(PRE_COMMIT))
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def _make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", MAKEFILE.read_text(), re.MULTILINE))


def _recipe(target: str) -> list[str]:
    """The commands of a Makefile target, spelt as a hook would spell them."""
    lines = MAKEFILE.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"{re.escape(target)}\s*:", line))
    commands = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        command = line.strip().lstrip("@")
        for spelling, path in _MAKE_SPELLINGS.items():
            command = command.replace(spelling, path)
        command = re.sub(r"^\$\(MAKE\)( --no-print-directory)?", "make", command)
        commands.append(command)
    return commands


def test_every_hook_is_local_and_runs_the_projects_pinned_tools():
    config = load_config(str(PRE_COMMIT))
    assert config["repos"], "no hooks"
    for repo in config["repos"]:
        assert repo["repo"] == "local", "hooks run the .venv's pinned tools, not a second copy"
        for hook in repo["hooks"]:
            # `system`, which pre-commit 4.4+ loads under its new name: the entry runs
            # as written, in no environment of pre-commit's own.
            assert hook["language"] == "unsupported", hook["id"]
            program = shlex.split(hook["entry"])[0]
            assert program == "make" or program.startswith(".venv/bin/"), hook["id"]


@pytest.mark.parametrize("hook", _hooks(), ids=lambda hook: hook["id"])
def test_hook_entry_names_something_that_exists(hook):
    words = shlex.split(hook["entry"]) + list(hook["args"])
    program, rest = words[0], words[1:]
    if program == "make":
        targets = [word for word in rest if not word.startswith("-")]
        assert targets, f"{hook['id']}: `make` without a target"
        missing = set(targets) - _make_targets()
        assert not missing, f"{hook['id']}: no Makefile target {sorted(missing)}"
        return
    # `.venv/bin/X`: the tool is installed beside the interpreter running the tests.
    tool = Path(sys.executable).parent / Path(program).name
    assert tool.exists(), f"{hook['id']}: {program} is not installed in the venv"
    if "-m" in rest:
        module = rest[rest.index("-m") + 1]
        assert importlib.util.find_spec(module) is not None, f"{hook['id']}: no module {module}"


def test_hooks_run_what_make_lint_and_make_docs_run():
    """A hook per command of `make lint` (ruff, then mypy through `make typecheck`) and
    of `make docs` (each generator), so committing checks what CI checks."""
    entries = {" ".join(shlex.split(hook["entry"]) + list(hook["args"])) for hook in _hooks()}
    expected = [*_recipe("lint"), *_recipe("docs")]
    assert "make typecheck" in expected  # lint delegates mypy to typecheck
    missing = [command for command in expected if command not in entries]
    assert not missing, f"no pre-commit hook runs {missing}"


def test_generator_hooks_run_on_every_commit():
    """A generator reads the config models, the pack and the stacks: it cannot know from
    the staged file names whether its document went stale."""
    generators = set(_recipe("docs"))
    for hook in _hooks():
        if hook["entry"] in generators:
            assert hook["always_run"] and not hook["pass_filenames"], hook["id"]


def test_ci_runs_lint_then_the_tests():
    script = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in script.splitlines() if line.strip().startswith("make")]
    assert commands == ["make lint", "make test"]
    assert "BALLAST_REQUIRE_TOOLS=1" in script


def test_the_type_checker_covers_what_exists_and_excuses_nothing():
    """Every path mypy checks exists, and no module is excused with `ignore_errors`."""
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    for entry in mypy["files"]:
        assert (ROOT / entry).exists(), f"mypy checks {entry}, which does not exist"
    excused = [o["module"] for o in mypy.get("overrides", []) if o.get("ignore_errors")]
    assert excused == [], f"fix these, do not exclude them: {excused}"
