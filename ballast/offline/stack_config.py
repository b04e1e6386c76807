"""Read a Pulumi project and one stack's config file the way the Pulumi CLI does.

The CLI hands a program flat config: every key qualified with its namespace
(`ballast:network`, `aws:region`; a bare key gets the project's name), scalars as
strings (booleans `true`/`false`), maps and lists JSON-encoded. Secure values
(`{secure: ...}`) cannot be decrypted offline: they become "[secret]" and their keys
are listed as secret, exactly as a decrypted secret is flagged by the CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ballast.offline.records import SECRET_PLACEHOLDER

PROJECT_FILE = "Pulumi.yaml"


class StackNotFound(LookupError):
    """The named stack has no config file; the message lists the stacks that exist."""


class ProjectError(ValueError):
    """The project or a stack file cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Project:
    directory: Path
    name: str
    stack_config_dir: Path
    defaults: dict[str, Any]
    """Project-level config values from Pulumi.yaml (`config:`), unqualified keys qualified."""


@dataclass(frozen=True)
class StackConfig:
    project: Project
    stack: str
    path: Path
    config: dict[str, str]
    secret_keys: tuple[str, ...]

    @property
    def label(self) -> str:
        """The stack file relative to the project, as messages name it."""
        try:
            return str(self.path.relative_to(self.project.directory))
        except ValueError:
            return str(self.path)

    def disabled_default_providers(self) -> frozenset[str]:
        raw = self.config.get("pulumi:disable-default-providers")
        if not raw:
            return frozenset()
        try:
            names = json.loads(raw)
        except json.JSONDecodeError:
            names = [raw]
        return frozenset(str(n) for n in (names if isinstance(names, list) else [names]))


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ProjectError(
            f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from None
    except OSError as exc:
        raise ProjectError(f"{path} cannot be read: {exc.strerror}") from None


def load_project(directory: str | Path = ".") -> Project:
    directory = Path(directory).resolve()
    path = directory / PROJECT_FILE
    if not path.is_file():
        raise ProjectError(
            f"{directory} is not a Pulumi project: it has no {PROJECT_FILE} "
            "(pass --project-dir with the checkout that has one)"
        )
    document = _read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise ProjectError(f"{path} must be a map with a 'name' (the project name)")
    name = document["name"]
    defaults: dict[str, Any] = {}
    for key, spec in (document.get("config") or {}).items():
        value = spec.get("value", spec.get("default")) if isinstance(spec, dict) else spec
        if value is not None:
            defaults[_qualify(str(key), name)] = value
    return Project(
        directory=directory,
        name=name,
        stack_config_dir=directory / str(document.get("stackConfigDir", ".")),
        defaults=defaults,
    )


def list_stacks(project: Project) -> list[str]:
    """Stack names that have a `Pulumi.<stack>.yaml` in the project's stack config dir."""
    if not project.stack_config_dir.is_dir():
        return []
    return sorted(
        p.name[len("Pulumi.") : -len(".yaml")]
        for p in project.stack_config_dir.glob("Pulumi.*.yaml")
    )


def _qualify(key: str, project_name: str) -> str:
    return key if ":" in key else f"{project_name}:{key}"


def _flatten_value(value: Any) -> tuple[str, bool]:
    """(the string the CLI would hand the program, whether it holds a secret)."""

    secret = False

    def scrub(node: Any) -> Any:
        nonlocal secret
        if isinstance(node, dict):
            if set(node) == {"secure"}:
                secret = True
                return SECRET_PLACEHOLDER
            return {str(k): scrub(v) for k, v in node.items()}
        if isinstance(node, list):
            return [scrub(v) for v in node]
        return node

    cleaned = scrub(value)
    if isinstance(cleaned, (dict, list)):
        return json.dumps(cleaned, separators=(",", ":")), secret
    if isinstance(cleaned, bool):
        return ("true" if cleaned else "false"), secret
    if cleaned is None:
        return "", secret
    return str(cleaned), secret


def load_stack_config(project: Project, stack: str) -> StackConfig:
    """Flatten `Pulumi.<stack>.yaml` (over the project's defaults) as the CLI would."""
    path = project.stack_config_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        existing = list_stacks(project)
        listed = ", ".join(existing) if existing else "none"
        raise StackNotFound(
            f"unknown stack {stack!r}: there is no {path.relative_to(project.directory)}; "
            f"the stacks are: {listed}"
        )
    document = _read_yaml(path) or {}
    if not isinstance(document, dict):
        raise ProjectError(f"{path} must be a map with a 'config' section")
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise ProjectError(f"{path}: 'config' must be a map of keys to values")
    merged = {**project.defaults, **{_qualify(str(k), project.name): v for k, v in raw.items()}}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in merged.items():
        config[key], secret = _flatten_value(value)
        if secret:
            secret_keys.append(key)
    return StackConfig(project, stack, path, config, tuple(sorted(secret_keys)))
