"""Make a fork of the project the way a new team does, following the README literally.

`copy_project` copies what git tracks (plus new files not yet committed, minus what
.gitignore excludes) into another directory; `apply_checklist` then makes the README's
"before the first `up`" edits there (own regions, `ballast:accountId`,
`ballast:ci.repository`, dev's `publicAccessCidrs`) and renames the project in
`Pulumi.yaml`. Each edit replaces one YAML line in place, so every comment of the stack
files survives, and the result is read back and checked: an edit that matched nothing
fails loudly instead of leaving a shipped value behind.

Step 4 of the checklist (`cluster.bootstrapAdminArn`) is for the first `up` of a fresh
account only and is removed afterwards, so a fork's steady state does not carry it; step 5
(pinned versions) changes nothing a fork must change.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class ForkValues:
    """What a fork sets instead of the shipped placeholders. The defaults differ from
    every shipped value on purpose, so a test that still asserts one fails in the fork."""

    project: str = "acme-platform"
    primary_region: str = "eu-west-1"
    dr_region: str = "eu-central-1"
    accounts: dict[str, str] = field(
        default_factory=lambda: {
            "dev": "210987654321",
            "staging": "210987654322",
            "prod": "210987654323",
        }
    )
    repository: str = "acme/platform"
    public_access_cidrs: tuple[str, ...] = ("198.51.100.0/24",)


def copy_project(source: Path, destination: Path) -> list[str]:
    """Copy the files git knows in `source` (tracked, and untracked but not ignored) to
    `destination`; a tracked file deleted in the work tree is skipped. Returns the
    relative paths copied."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode()
    copied = []
    for relative in sorted(set(filter(None, listed.split("\0")))):
        origin = source / relative
        if not origin.is_file():
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, target)
        copied.append(relative)
    return copied


def _replace_line(text: str, pattern: str, replacement: str, *, where: str) -> str:
    """Replace the one line matching `pattern` (multiline regex); exactly one must match."""
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count != 1:
        raise AssertionError(f"{where}: expected one line matching {pattern!r}, found {count}")
    return new


def _platform_stacks(project_dir: Path) -> dict[str, Path]:
    """Stack name -> file of every platform stack (a cluster stack has no AWS settings)."""
    stacks = {}
    for path in sorted((project_dir / "stacks").glob("Pulumi.*.yaml")):
        config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("config", {})
        if config.get("ballast:stackKind", "platform") == "platform":
            stacks[path.name[len("Pulumi.") : -len(".yaml")]] = path
    return stacks


def apply_checklist(project_dir: Path, values: ForkValues | None = None) -> None:
    """Make the README's pre-`up` edits, and the project rename, in `project_dir`."""
    values = values or ForkValues()
    project_file = project_dir / "Pulumi.yaml"
    project_file.write_text(
        _replace_line(
            project_file.read_text(encoding="utf-8"),
            r"^name: .*$",
            f"name: {values.project}",
            where=str(project_file),
        ),
        encoding="utf-8",
    )
    for stack, path in _platform_stacks(project_dir).items():
        text = path.read_text(encoding="utf-8")
        environment = yaml.safe_load(text)["config"]["ballast:environment"]
        account = values.accounts[environment]
        text = _replace_line(
            text,
            r"^  ballast:primaryRegion: .*$",
            f"  ballast:primaryRegion: {values.primary_region}",
            where=str(path),
        )
        if "ballast:drRegion:" in text:
            text = _replace_line(
                text,
                r"^  ballast:drRegion: .*$",
                f"  ballast:drRegion: {values.dr_region}",
                where=str(path),
            )
        # The shipped files carry the key commented out (dev) or not at all.
        if re.search(r"^  # ballast:accountId: .*$", text, flags=re.MULTILINE):
            text = _replace_line(
                text,
                r"^  # ballast:accountId: .*$",
                f'  ballast:accountId: "{account}"',
                where=str(path),
            )
        else:
            text = _replace_line(
                text,
                r"^(  ballast:primaryRegion: .*)$",
                rf'  ballast:accountId: "{account}"\n\1',
                where=str(path),
            )
        text = _replace_line(
            text,
            r"^(    repository: ).*$",
            rf"\g<1>{values.repository}",
            where=str(path),
        )
        if "publicAccessCidrs:" in text:
            cidrs = ", ".join(f'"{cidr}"' for cidr in values.public_access_cidrs)
            text = _replace_line(
                text,
                r"^(    publicAccessCidrs: ).*$",
                rf"\g<1>[{cidrs}]",
                where=str(path),
            )
        path.write_text(text, encoding="utf-8")
        _check_applied(path, stack, values, account)
    name = yaml.safe_load(project_file.read_text(encoding="utf-8"))["name"]
    if name != values.project:
        raise AssertionError(f"{project_file}: project name is {name!r}, not {values.project!r}")


def _check_applied(path: Path, stack: str, values: ForkValues, account: str) -> None:
    """Read the edited stack file back: every checklist value is there."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))["config"]
    expected = {
        "ballast:primaryRegion": values.primary_region,
        "ballast:accountId": account,
    }
    if "ballast:drRegion" in config:
        expected["ballast:drRegion"] = values.dr_region
    found = {key: config.get(key) for key in expected}
    found_repository = config.get("ballast:ci", {}).get("repository")
    if found != expected or found_repository != values.repository:
        raise AssertionError(
            f"{path} ({stack}) after the checklist: {found}, repository {found_repository!r}"
        )
    cluster = config.get("ballast:cluster", {})
    if "publicAccessCidrs" in cluster and cluster["publicAccessCidrs"] != list(
        values.public_access_cidrs
    ):
        raise AssertionError(f"{path}: publicAccessCidrs is {cluster['publicAccessCidrs']}")
