"""The pack as a whole: its size and metadata, that it stays self-contained, and that its
shipped data is current. (That every policy has a passing and a failing case is
`test_policy_cases.py`'s to check.)"""

from __future__ import annotations

import ast
import re

import pytest

from ballast.policy import taggable
from tests.policy.conftest import PACK_DIR

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
