"""The pack's copies of the tag contract (`ballast_guardrails/contract.py`) are the names
the components use (`components/tags.py`, `components/config/base.py`,
`components/iam/names.py`). The pack cannot import `components`; this test is what keeps
the two spellings one."""

from __future__ import annotations

import ast

import pytest

from components import tags
from components.config import base
from components.iam import (
    DATA_EXPOSURE_ACTIONS,
    audit_boundary_policy_name,
    boundary_policy_name,
)
from tests.policy.conftest import PACK_DIR

from ballast_guardrails import contract  # isort: skip  (the pack dir, see conftest)

#: Every public name of the pack's contract module -> the component-side value it copies.
TIED = {
    "ENVIRONMENTS": base.ENVIRONMENTS,
    "TIERS": base.TIERS,
    "ENVIRONMENT_TAG": tags.ENVIRONMENT_TAG,
    "OWNER_TAG": tags.OWNER_TAG,
    "SERVICE_TAG": tags.SERVICE_TAG,
    "TIER_TAG": tags.TIER_TAG,
    "REQUIRED_TAG_KEYS": tags.REQUIRED_TAG_KEYS,
    "ALLOWED_TAG_VALUES": {tags.ENVIRONMENT_TAG: base.ENVIRONMENTS, tags.TIER_TAG: base.TIERS},
    "NODE_GROUP_SET_TAG": tags.NODE_GROUP_SET_TAG,
    "DATA_EXPOSURE_ACTIONS": DATA_EXPOSURE_ACTIONS,
}
#: Names only the pack uses: no component sets them (if one starts to, tie it above).
PACK_ONLY = {"PUBLIC_ACCESS_TAG", "PUBLIC_ACCESS_TESTING", "BOUNDARY_PREFIX", "BOUNDARY_SUFFIX"}


def _public_names() -> set[str]:
    return {name for name in vars(contract) if name.isupper() and not name.startswith("_")}


def test_every_contract_name_is_tied_or_pack_only():
    assert _public_names() == set(TIED) | PACK_ONLY


@pytest.mark.parametrize("name", sorted(TIED))
def test_pack_copy_matches_components(name):
    assert getattr(contract, name) == TIED[name]


def test_pack_only_tags_are_not_component_tags():
    component_values = {v for k, v in vars(tags).items() if k.isupper() and isinstance(v, str)}
    assert contract.PUBLIC_ACCESS_TAG not in component_values


@pytest.mark.parametrize("environment", base.ENVIRONMENTS)
def test_boundary_name_matches_identity(environment):
    expected = f"{contract.BOUNDARY_PREFIX}{environment}{contract.BOUNDARY_SUFFIX}"
    assert boundary_policy_name(environment) == expected


@pytest.mark.parametrize("environment", base.ENVIRONMENTS)
def test_the_audit_boundary_name_is_a_boundary_name_to_the_pack(environment):
    """The security-audit role's boundary passes `iam-role-permission-boundary` and is
    kept out of the grant checks by the same prefix and suffix."""
    name = audit_boundary_policy_name(environment)
    assert name != boundary_policy_name(environment)
    assert name.startswith(contract.BOUNDARY_PREFIX + environment)
    assert name.endswith(contract.BOUNDARY_SUFFIX)


def test_the_pack_serves_the_contract_as_defaults(pack):
    """The policy config defaults the CLI fills in are the contract's values."""
    schema = {name: policy.config_schema for name, policy in pack.info.policies.items()}
    assert schema["required-tags"]["requiredTags"]["default"] == list(tags.REQUIRED_TAG_KEYS)
    assert schema["tag-values-allowed"]["allowedValues"]["default"] == {
        tags.ENVIRONMENT_TAG: list(base.ENVIRONMENTS),
        tags.TIER_TAG: list(base.TIERS),
    }
    boundary = schema["iam-role-permission-boundary"]
    assert boundary_policy_name("prod") == (
        boundary["namePrefix"]["default"] + "prod" + boundary["nameSuffix"]["default"]
    )


def _code_strings(path) -> list[str]:
    """String constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (PACK_DIR / "ballast_guardrails").glob("*.py") if p.name != "contract.py"),
    ids=lambda p: p.name,
)
def test_policies_spell_no_contract_name_themselves(path):
    """Outside contract.py, no pack code spells a contract tag name or value: it imports
    it (so this test covers every use)."""
    names = {
        tags.ENVIRONMENT_TAG,
        tags.OWNER_TAG,
        tags.SERVICE_TAG,
        tags.TIER_TAG,
        tags.NODE_GROUP_SET_TAG,
        contract.PUBLIC_ACCESS_TAG,
        contract.BOUNDARY_SUFFIX,
        *base.ENVIRONMENTS,
        *base.TIERS,
    }
    spelt = [s for s in _code_strings(path) if s in names or "ballast.io/" in s]
    assert not spelt, f"{path.name} spells {spelt}; import them from ballast_guardrails.contract"
