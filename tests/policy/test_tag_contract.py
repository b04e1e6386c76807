"""The pack's copies of the tag contract (`ballast_guardrails/contract.py`) are the names
the components use (`components/tags.py`, `components/config/base.py`,
`components/names.py`). The pack cannot import `components`; this test is what keeps
the two spellings one."""

from __future__ import annotations

import ast
import json

import pytest

from components import tags
from components.config import base
from components.iam import DATA_EXPOSURE_ACTIONS
from components.names import PhysicalNames
from tests.policy.conftest import PACK_DIR

from ballast_guardrails import contract, naming  # isort: skip  (the pack dir, see conftest)

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
    "TIER_LABEL": tags.TIER_LABEL,
    "DATA_EXPOSURE_ACTIONS": DATA_EXPOSURE_ACTIONS,
    "NAME_PREFIX_KEY": f"{base.NAMESPACE}:namePrefix",
}
#: Names only the pack uses: no component sets them (if one starts to, tie it above).
PACK_ONLY = {"PUBLIC_ACCESS_TAG", "PUBLIC_ACCESS_TESTING", "BOUNDARY_SUFFIX"}


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


def test_the_config_key_is_the_platform_setting():
    from components.config import PlatformConfig

    field = PlatformConfig.model_fields["name_prefix"]
    assert f"{base.NAMESPACE}:{field.alias}" == contract.NAME_PREFIX_KEY


#: (project, stack, ballast:namePrefix or None): the shipped shape, a renamed project, a
#: second stack of an environment, an explicit prefix.
NAMINGS = [
    ("ballast", "dev", None),
    ("acme-platform", "prod", None),
    ("ballast", "qa", None),
    ("acme-platform", "staging", "shop"),
]


def _pack_environ(project: str, stack: str, prefix: str | None) -> dict[str, str]:
    """The environment the CLI starts the pack with (the stack's config as JSON)."""
    config = {
        "ballast:environment": "dev",
        **({contract.NAME_PREFIX_KEY: prefix} if prefix else {}),
    }
    return {"PULUMI_PROJECT": project, "PULUMI_STACK": stack, "PULUMI_CONFIG": json.dumps(config)}


@pytest.mark.parametrize(("project", "stack", "prefix"), NAMINGS)
def test_the_pack_knows_the_stacks_boundaries_by_their_platform_names(project, stack, prefix):
    """Both boundaries the platform names for a stack are boundaries to the pack run for
    that stack, and another stack's (same project, other stack) are not."""
    names = PhysicalNames(prefix=prefix or project, stack=stack)
    environ = _pack_environ(project, stack, prefix)
    assert naming.stack_name_base(environ) == names.base
    assert naming.is_boundary_name(names.boundary_policy, environ)
    assert naming.is_boundary_name(names.audit_boundary_policy, environ)
    other = PhysicalNames(prefix=names.prefix, stack=f"{stack}x")
    assert not naming.is_boundary_name(other.boundary_policy, environ)


@pytest.mark.parametrize(("project", "stack", "prefix"), NAMINGS)
def test_the_pack_knows_the_stacks_secrets_by_their_platform_names(project, stack, prefix):
    """The secrets the pack lets the CI roles read back are named as the platform names
    the ones its program writes; another stack's are not among them."""
    names = PhysicalNames(prefix=prefix or project, stack=stack)
    environ = _pack_environ(project, stack, prefix)
    assert naming.program_secret_prefix(environ) == names.secret_prefix
    other = PhysicalNames(prefix=names.prefix, stack=f"{stack}-x")
    assert not other.secret("grafana/admin").startswith(naming.program_secret_prefix(environ))
    assert naming.program_secret_prefix({}) == ""


def test_the_pack_serves_the_contract_as_defaults(pack):
    """The policy config defaults the CLI fills in are the contract's values."""
    schema = {name: policy.config_schema for name, policy in pack.info.policies.items()}
    assert schema["required-tags"]["requiredTags"]["default"] == list(tags.REQUIRED_TAG_KEYS)
    assert schema["tag-values-allowed"]["allowedValues"]["default"] == {
        tags.ENVIRONMENT_TAG: list(base.ENVIRONMENTS),
        tags.TIER_TAG: list(base.TIERS),
    }
    boundary = schema["iam-role-permission-boundary"]
    # An empty prefix: the analysed stack's own names (`naming`), never a literal.
    assert boundary["namePrefix"]["default"] == ""
    assert PhysicalNames(prefix="p", stack="s").boundary_policy.endswith(
        boundary["nameSuffix"]["default"]
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
