"""What the documentation names exists: every repository path, link, `make` target,
`ballast` subcommand and `python -m` module in the README, CONTRIBUTING.md, `docs/` and
`runbooks/` (found by globbing, so a new document is checked the day it lands), and every
alarm the shipped stacks create, and every Prometheus alert their services and the
platform ship, names a runbook that exists.

Claims that need judgement (what a component does) stay with review; these are the ones
a rename, a move or a deleted target silently breaks."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
import typer.main

from ballast.cli import app
from components import slo
from tests.conftest import ROOT, SHIPPED_STACKS, platform_config, require_tool
from tests.tokens import ALARM


def documents() -> list[Path]:
    return sorted(
        {
            ROOT / "README.md",
            ROOT / "CONTRIBUTING.md",
            *(ROOT / "docs").glob("*.md"),
            *(ROOT / "runbooks").glob("*.md"),
        }
    )


DOCS = [pytest.param(path, id=str(path.relative_to(ROOT))) for path in documents()]

#: Paths a document may name that are not in the repository, each for a stated reason.
#: Keep it short: anything else a document names must exist.
NOT_IN_THE_REPOSITORY = {
    # Created by `make` on first use, ignored by git.
    ".venv",
    ".venv/bin/python",
    ".venv/bin/pre-commit",
    ".venv/bin/ruff",
    ".venv/bin/mypy",
    ".venv/bin/ballast",
    # The org stack's file, made by copying stacks/Pulumi.org.yaml.example.
    "stacks/Pulumi.org.yaml",
    # The README's example of a stack a team adds (`cp ... stacks/Pulumi.qa.yaml`).
    "stacks/Pulumi.qa.yaml",
    "policy-pack/config/qa.json",
    # What the README's upgrade notes say a module used to be.
    "components/cluster.py",
}

#: Top-level names the layout reserves (README, "Layout"): a path into them is checked
#: even before they exist, so a document cannot describe them early.
RESERVED_TOP_LEVEL = {".github", "gitops"}


def _ignored(name: str) -> bool:
    patterns = [
        line.strip().rstrip("/")
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


@cache
def top_level() -> frozenset[str]:
    names = {p.name for p in ROOT.iterdir() if p.name != ".git" and not _ignored(p.name)}
    return frozenset(names | RESERVED_TOP_LEVEL | {".venv"})


_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def code_texts(text: str) -> list[str]:
    """Fenced blocks (line by line) and inline code spans."""
    fenced = [line for block in _FENCE.findall(text) for line in block.splitlines()[1:-1]]
    prose = _FENCE.sub("", text)
    return fenced + [span for _, span in _SPAN.findall(prose)]


def repository_paths(text: str) -> set[str]:
    """Tokens whose first segment is a top-level entry of the repository, as in
    `components/iam/roles.py` or `stacks/Pulumi.<env>.yaml`, wherever they appear."""
    tops = "|".join(re.escape(name) for name in sorted(top_level(), key=len, reverse=True))
    # Not inside a longer path or URL (`.../docs/x`), and a segment after the first.
    pattern = re.compile(rf"(?<![\w./:@-])((?:{tops})(?:/[\w.<>{{}}*,+-]*)+)")
    found = set()
    for match in pattern.finditer(text):
        path = match.group(1).rstrip(".,")
        found.add(path)
    return found


def _expand_braces(path: str) -> list[str]:
    match = re.search(r"\{([^{}]+)\}", path)
    if not match:
        return [path]
    head, tail = path[: match.start()], path[match.end() :]
    return [e for option in match.group(1).split(",") for e in _expand_braces(head + option + tail)]


def exists(path: str) -> bool:
    """`<placeholder>` and `*` stand for any name; `{a,b}` for each of a and b."""
    if path.rstrip("/") in NOT_IN_THE_REPOSITORY:
        return True
    for candidate in _expand_braces(path.rstrip("/")):
        pattern = re.sub(r"<[^>]*>", "*", candidate)
        if not (any(ROOT.glob(pattern)) if "*" in pattern else (ROOT / pattern).exists()):
            return False
    return True


@pytest.mark.parametrize("doc", DOCS)
def test_every_repository_path_a_document_names_exists(doc):
    missing = sorted(p for p in repository_paths(doc.read_text()) if not exists(p))
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_relative_link_lands_on_a_file(doc):
    missing = []
    for target in _LINK.findall(doc.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # a URL, or an anchor in the same file (test_reference checks those)
        path = target.split("#", 1)[0]
        if not (doc.parent / path).exists():
            missing.append(target)
    assert not missing, f"{doc.relative_to(ROOT)} links to files that do not exist: {missing}"


def _commands(doc: Path, program: str) -> set[str]:
    """The first argument after `program` in every piece of code of a document: a
    `make` target, a `ballast` subcommand or a `python -m` module."""
    if program == "python -m":
        call = r"(?:^|[\s;&|(])(?:\S*/)?python3? -m ([\w.]+)"
    else:
        call = rf"(?:^|[\s;&|(])(?:\S*/)?{program}((?: +[\w.=-]+)*)"
    found = set()
    for code in code_texts(doc.read_text()):
        for match in re.finditer(call, code):
            words = [w for w in match.group(1).split() if not w.startswith("-") and "=" not in w]
            if program == "python -m" or program == "make":
                found.update(words if program == "make" else [match.group(1)])
            elif words:
                found.add(words[0])
    return found


@pytest.mark.tool
@pytest.mark.parametrize("doc", DOCS)
def test_every_make_target_a_document_names_exists(doc):
    """Make itself decides: `make -n <target>` prints the recipe of a target that
    exists and refuses one that does not."""
    make = require_tool("make")
    targets = _commands(doc, "make")
    missing = [
        target
        for target in sorted(targets)
        if subprocess.run(
            [make, "-n", "-f", str(ROOT / "Makefile"), target],
            cwd=ROOT,
            capture_output=True,
            timeout=30,
        ).returncode
        != 0
    ]
    assert not missing, f"{doc.relative_to(ROOT)} names make targets that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_ballast_subcommand_a_document_names_exists(doc):
    commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    missing = sorted(_commands(doc, "ballast") - commands)
    assert not missing, (
        f"{doc.relative_to(ROOT)} names ballast subcommands that do not exist: {missing} "
        f"(the CLI has {sorted(commands)})"
    )


@pytest.mark.parametrize("doc", DOCS)
def test_every_python_module_a_document_runs_exists(doc):
    missing = sorted(m for m in _commands(doc, "python -m") if importlib.util.find_spec(m) is None)
    assert not missing, f"{doc.relative_to(ROOT)} runs modules that do not exist: {missing}"


def test_the_checks_see_what_they_check():
    """The extractors find the README's own examples, so an empty result is a finding,
    not a parser that matches nothing."""
    readme = ROOT / "README.md"
    assert {"preview", "test"} <= _commands(readme, "make")
    assert "preview" in _commands(readme, "ballast")
    assert "components/iam/roles.py" in repository_paths(readme.read_text())
    assert not exists("components/no-such-module.py")
    assert exists("stacks/Pulumi.<env>.yaml") and exists("policy-pack/config/{dev,prod}.json")
    assert not exists("policy-pack/config/{dev,qa2}.json")
    assert repository_paths("see https://example.com/docs/x and a/docs/y") == set()


def test_every_alarm_names_a_runbook_that_exists(shipped):
    """An alarm is useful to whoever it reaches only with its procedure: each alarm's
    description names a runbook under runbooks/, and that runbook exists."""
    alarms = shipped.of_type(ALARM)
    for alarm in alarms:
        description = alarm.inputs.get("alarmDescription", "")
        named = re.findall(r"runbooks/[\w.-]+\.md", description)
        assert named, f"{alarm.name}: its description names no runbook"
        for runbook in named:
            assert (ROOT / runbook).is_file(), f"{alarm.name} names {runbook}, which is missing"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_prometheus_alert_names_a_runbook_that_exists(stack):
    """The same for every Prometheus alert the stack's services and the platform ship
    (components/slo.py): its runbook_url ends in a runbook under runbooks/ that exists."""
    links = slo.AlertLinks("https://example.com/repo/blob/main", "https://grafana.example.com")
    rules = slo.alerts(slo.rule_groups(platform_config(stack).services, links))
    assert rules
    for rule in rules:
        url = rule["annotations"].get("runbook_url", "")
        named = re.findall(rf"/({slo.RUNBOOKS_DIR}/[\w.-]+\.md)$", url)
        assert named, f"{rule['alert']}: its runbook_url names no runbook ({url!r})"
        assert (ROOT / named[0]).is_file(), f"{rule['alert']} names {named[0]}, which is missing"
