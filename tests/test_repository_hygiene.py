"""The contributor tooling agrees with itself: the pre-commit hooks name commands that
exist and run what `make lint` / `make docs` run, CI runs the lint and the tests, and the
type checker's temporary exclusions stay confined to components/; and the files a legal and
platform review expects are there and true: the license pyproject.toml declares, a
changelog section for its version, code owners for what exists, and a Renovate config that
finds every pin."""

from __future__ import annotations

import ast
import importlib.util
import json
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


# --- The files a legal and platform review expects --------------------------------------

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CODEOWNERS = ROOT / ".github" / "CODEOWNERS"
RENOVATE = ROOT / ".github" / "renovate.json"


def test_the_license_file_is_the_license_pyproject_declares():
    assert PYPROJECT["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    # The full text, not a notice: all nine sections and the appendix.
    assert "9. Accepting Warranty or Additional Liability." in text
    assert "APPENDIX: How to apply the Apache License to your work." in text


def _changelog_headings() -> list[str]:
    text = (ROOT / "CHANGELOG.md").read_text()
    return re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)


def test_the_changelog_has_an_unreleased_section_then_the_pyproject_version():
    headings = _changelog_headings()
    assert headings[:1] == ["Unreleased"], headings
    assert PYPROJECT["version"] in headings, (
        f"pyproject.toml's version {PYPROJECT['version']} has no `## [{PYPROJECT['version']}]` "
        "section in CHANGELOG.md"
    )


def test_changelog_versions_are_dated_and_newest_first():
    text = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", text, re.MULTILINE)
    assert [v for v, _ in releases] == [h for h in _changelog_headings() if h != "Unreleased"]
    versions = [tuple(int(n) for n in v.split(".")) for v, _ in releases]
    assert versions == sorted(versions, reverse=True)
    dates = [d for _, d in releases]
    assert dates == sorted(dates, reverse=True)


def _codeowners() -> list[tuple[str, list[str]]]:
    rules = []
    for line in CODEOWNERS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pattern, *owners = line.split()
            rules.append((pattern, owners))
    return rules


def _owners_of(path: str) -> list[str]:
    """The owners GitHub gives `path` under the forms this file uses: `*`, and paths
    anchored at the root (a trailing `/` for a directory). Last match wins."""
    owners: list[str] = []
    for pattern, rule_owners in _codeowners():
        anchored = pattern.lstrip("/")
        if (
            pattern == "*"
            or path == anchored
            or (anchored.endswith("/") and path.startswith(anchored))
        ):
            owners = rule_owners
    return owners


def test_codeowners_patterns_name_what_exists_and_owners_are_teams():
    rules = _codeowners()
    assert rules and rules[0][0] == "*", "a default owner comes first"
    for pattern, owners in rules:
        assert pattern == "*" or pattern.startswith("/"), f"{pattern}: anchor it at the root"
        assert pattern == "*" or (ROOT / pattern.lstrip("/")).exists(), f"{pattern} does not exist"
        assert owners, f"{pattern} has no owner"
        for owner in owners:
            assert re.fullmatch(r"@[A-Za-z0-9-]+/[A-Za-z0-9_.-]+", owner), owner


def test_security_owns_the_guardrails_and_iam_and_platform_the_rest():
    default = _owners_of("README.md")
    security = _owners_of("policy-pack/config/prod.json")
    assert security and default and security != default
    guarded = [
        "policy-pack/__main__.py",
        *(f"policy-pack/config/{p.name}" for p in (ROOT / "policy-pack/config").glob("*.json")),
        *(str(p.relative_to(ROOT)) for p in (ROOT / "components/iam").rglob("*.py")),
        ".github/CODEOWNERS",
    ]
    for path in guarded:
        assert _owners_of(path) == security, path
    for path in ("components/network.py", "components/versions.py", "stacks/Pulumi.dev.yaml"):
        assert _owners_of(path) == default, path


def _renovate() -> dict:
    return json.loads(RENOVATE.read_text())


def _file_pattern(pattern: str) -> re.Pattern[str]:
    assert pattern.startswith("/") and pattern.endswith("/"), f"{pattern}: a /regex/ pattern"
    return re.compile(pattern[1:-1])


def _js_regex(pattern: str) -> re.Pattern[str]:
    """Renovate's named groups `(?<name>...)` in Python's spelling."""
    return re.compile(pattern.replace("(?<", "(?P<"))


def test_renovate_covers_every_requirements_file():
    config = _renovate()
    assert "pip_requirements" in config["enabledManagers"]
    patterns = [_file_pattern(p) for p in config["pip_requirements"]["managerFilePatterns"]]
    files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("requirements*.txt")]
    files = [f for f in files if not f.startswith(".venv")]
    assert "requirements.txt" in files and "policy-pack/requirements.txt" in files
    for name in files:
        assert any(p.search(name) for p in patterns), f"Renovate does not read {name}"


def test_renovate_finds_every_chart_and_image_pin_of_versions_py():
    """Each custom manager reads components/versions.py and extracts exactly the values
    the module pins: a chart added without the three-constant convention, or a reworded
    pin, fails here instead of silently dropping out of the update PRs."""
    from components import versions

    managers = _renovate()["customManagers"]
    text = (ROOT / "components" / "versions.py").read_text()
    found: dict[str, list[dict[str, str]]] = {}
    for manager in managers:
        assert any(
            _file_pattern(p).search("components/versions.py")
            for p in manager["managerFilePatterns"]
        )
        for pattern in manager["matchStrings"]:
            found.setdefault(manager["datasourceTemplate"], []).extend(
                m.groupdict() for m in _js_regex(pattern).finditer(text)
            )
    charts = {
        name.removesuffix("_VERSION"): value
        for name, value in vars(versions).items()
        if name.endswith("_CHART_VERSION")
    }
    assert charts, "no chart pins in components/versions.py"
    expected = [
        {
            "registryUrl": getattr(versions, f"{prefix}_REPOSITORY"),
            "depName": getattr(versions, prefix),
            "currentValue": value,
        }
        for prefix, value in charts.items()
    ]
    assert found.get("helm") == expected
    tags = versions.CLUSTER_AUTOSCALER_IMAGE_TAGS
    assert [m["currentValue"] for m in found.get("docker", [])] == list(tags.values())


def test_a_missing_tool_skips_with_its_name_or_fails_when_tools_are_required(monkeypatch):
    """The gate every test that runs an external tool goes through (`require_tool`)."""
    from tests.conftest import require_tool

    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("BALLAST_REQUIRE_TOOLS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-tool is not installed"):
        require_tool("no-such-tool")
    monkeypatch.setenv("BALLAST_REQUIRE_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match="no-such-tool is required"):
        require_tool("no-such-tool")


def test_tests_that_run_a_tool_carry_the_tool_marker():
    """`-m "not tool"` deselects exactly the tests that need something beyond Python."""
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            calls = {
                n.func.id
                for n in ast.walk(node)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            }
            marks = {ast.unparse(d) for d in node.decorator_list}
            if "require_tool" in calls and not node.name.startswith("test_a_missing_tool"):
                assert "pytest.mark.tool" in marks, (
                    f"{path.name}::{node.name} needs @pytest.mark.tool"
                )
