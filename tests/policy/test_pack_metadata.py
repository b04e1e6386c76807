"""The pack as a whole: its size and metadata, that every policy has a passing and a
failing case, that it stays self-contained, and that its shipped data is current."""

from __future__ import annotations

import ast
import re

import pytest

from ballast.policy import taggable
from tests.policy import (
    test_data_policies,
    test_delivery_policies,
    test_eks_policies,
    test_iam_policies,
    test_kubernetes_policies,
    test_network_policies,
)
from tests.policy.conftest import PACK_DIR

CASE_MODULES = (
    test_iam_policies,
    test_data_policies,
    test_network_policies,
    test_eks_policies,
    test_kubernetes_policies,
    test_delivery_policies,
)
ALL_CASES = [case for module in CASE_MODULES for case in module.CASES]
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")


def test_at_least_45_policies_with_complete_metadata(pack):
    policies = pack.info.policies
    assert len(policies) >= 45
    for policy in policies.values():
        assert KEBAB.match(policy.name), policy.name
        assert policy.description and policy.description.endswith("."), policy.name
        assert policy.severity in ("low", "medium", "high", "critical"), policy.name
        assert policy.remediation, policy.name
        assert policy.level in ("advisory", "mandatory"), policy.name
        concern = policy.tags[0]
        assert concern in ("iam", "data", "network", "eks", "kubernetes", "delivery", "tagging")


def test_every_policy_has_a_failing_and_a_passing_case(pack):
    names = set(pack.info.policies)
    failing = {case.fails for case in ALL_CASES if case.fails}
    passing = {policy for case in ALL_CASES if case.fails is None for policy in case.passes}
    assert names - failing == set(), "policies without a failing case"
    assert names - passing == set(), "policies without a passing case"
    assert (failing | passing) - names == set(), "cases name policies the pack lacks"


def test_case_names_are_unique_across_modules():
    names = [case.name for case in ALL_CASES]
    assert len(names) == len(set(names))


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACK_DIR.rglob("*.py") if "venv" not in p.parts),
    ids=lambda p: str(p.relative_to(PACK_DIR)),
)
def test_pack_never_imports_the_toolkit_or_the_provider(path):
    """`pulumi preview --policy-pack` runs the pack with only its requirements.txt."""
    assert not _imports(path) & {
        "ballast",
        "components",
        "tests",
        "pulumi_aws",
        "pulumi_kubernetes",
    }


def test_pack_requirements_are_pinned():
    lines = [
        line.strip()
        for line in (PACK_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {line.split("==")[0] for line in lines} == {"pulumi", "pulumi-policy"}
    assert all("==" in line for line in lines)


def test_taggable_types_match_the_installed_provider():
    shipped = [
        line
        for line in taggable.PACK_FILE.read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert shipped == taggable.taggable_types(), (
        "regenerate with: .venv/bin/python -m ballast.policy.taggable"
    )
    assert "aws:s3/bucket:Bucket" in shipped and "aws:ec2/route:Route" not in shipped


def test_readme_policy_table_matches_the_pack():
    from ballast.policy import docs

    text = docs.README.read_text(encoding="utf-8")
    assert docs.updated_readme(text, docs.render_table()) == text, (
        "regenerate with: .venv/bin/python -m ballast.policy.docs"
    )
    for words in ("pulumi preview", "--policy-pack-config policy-pack/config/<stack>.json"):
        assert words in text
