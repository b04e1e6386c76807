"""The layout's rules, checked on the source: components depend on building blocks and
never on each other's modules; only the composition root (`components/platform.py`)
knows every component; config parsing imports no Pulumi SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

COMPONENTS = ROOT / "components"
#: Modules (or packages) that define a component: each may import only building blocks
#: and its own package.
COMPONENT_MODULES = (
    "components.alerting",
    "components.audit_trail",
    "components.cluster",
    "components.database",
    "components.grafana",
    "components.identity",
    "components.ingress",
    "components.network",
    "components.observability",
    "components.org_guardrails",
    "components.registry",
    "components.resilience",
    "components.runner",
    "components.telemetry_storage",
    "components.vault",
    "components.vault_aws",
)
COMPOSITION_ROOT = "components.platform"
#: Building blocks that live inside a component's package: the cluster layer's scope
#: (`InClusterScope`, `ClusterFacts`) and its add-on modules, one per add-on, which a
#: cluster-layer component installs from there (`Observability` its
#: kube-prometheus-stack release and the Argo CD rules).
SHARED_IN_COMPONENTS = ("components.cluster.scope", "components.cluster.addons")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Modules `path` imports (with `top_level_only`, at import time: not inside a
    function, where a deferred import is how light modules reach heavy ones)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from components.cluster import access` imports a module too.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_of(module: str) -> str | None:
    """The component module or package `module` lies in."""
    for component in COMPONENT_MODULES:
        if module == component or module.startswith(component + "."):
            return component
    return None


def component_of(module: str) -> str | None:
    """The component importing `module` depends on (None for a building block)."""
    if any(module == s or module.startswith(s + ".") for s in SHARED_IN_COMPONENTS):
        return None
    return package_of(module)


SOURCES = sorted(COMPONENTS.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_composition_root_imports_components(path):
    own = module_name(path)
    if own == COMPOSITION_ROOT:
        return
    foreign = sorted(
        {
            component_of(imported)
            for imported in imported_modules(path)
            if component_of(imported) not in (None, package_of(own))
        }
    )
    assert foreign == [], f"{own} imports the component module(s) {foreign}"


def test_the_composition_root_builds_every_component():
    imported = {component_of(m) for m in imported_modules(COMPONENTS / "platform.py")}
    assert set(COMPONENT_MODULES) <= imported


def test_every_component_module_is_listed():
    """A new `ComponentResource` lands in a module the rules above know about."""
    defining = set()
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(base) == "pulumi.ComponentResource" for base in node.bases
            ):
                defining.add(module_name(path))
    assert {component_of(m) or m for m in defining} == {*COMPONENT_MODULES, COMPOSITION_ROOT}


def test_config_and_the_tag_contract_import_no_pulumi_sdk():
    light = [*sorted((COMPONENTS / "config").rglob("*.py")), COMPONENTS / "tags.py"]
    heavy = {
        module_name(path): sorted(
            m
            for m in imported_modules(path, top_level_only=True)
            if m.split(".")[0].startswith("pulumi")
        )
        for path in light
    }
    assert {k: v for k, v in heavy.items() if v} == {}
