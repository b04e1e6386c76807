"""Physical names follow `<namePrefix>-<stack>` (components/names.py): two stacks of the
same environment in one account never collide.

The proof copies a shipped stack's file as a new stack `qa` (same environment) into a
temporary copy of the project, makes the edits the docs ask of a second stack in the same
account (its own VPC block; the account's GitHub OIDC provider and GuardDuty detector
adopted, not created twice) and runs both plans offline: no name an account holds once is
in both.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ballast.offline import ProgramRun, load_stack_config, run_stack
from ballast.offline.stack_config import load_project
from components.names import PhysicalNames
from tests.conftest import ROOT

#: The shipped stack copied, and the copy's name.
ORIGINAL, COPY = "staging", "qa"

#: Inputs that hold a name the account (or region) holds once: a second resource with the
#: same value in the same account fails to create, or worse, adopts the first one's.
NAME_INPUTS = ("name", "bucket", "identifier", "finalSnapshotIdentifier", "policyName")
#: Types whose `name` is unique only within the resource they belong to (which has an
#: account-unique name of its own, checked above): an inline policy within its role, a
#: GuardDuty feature within its detector.
SCOPED_NAMES = frozenset(
    {"aws:iam/rolePolicy:RolePolicy", "aws:guardduty/detectorFeature:DetectorFeature"}
)
#: Types that reference a bucket by name instead of naming one.
BUCKET_REFERENCES_ONLY = "aws:s3/bucket"
#: Types named by another input: an account holds one OIDC provider per issuer URL (a
#: second stack adopts GitHub's with ballast:ci.oidcProviderArn; each cluster has its own).
OTHER_NAME_INPUTS = {"aws:iam/openIdConnectProvider:OpenIdConnectProvider": "url"}
#: Resources an account holds once per region whatever their inputs; a second stack in the
#: account adopts the first one's (ballast:audit.guardDutyDetectorIds).
ACCOUNT_SINGLETONS = ("aws:guardduty/detector:Detector",)


def physical_names(run: ProgramRun) -> dict[tuple[str, str], str]:
    """(type, name) -> URN for every account-unique name the plan creates."""
    found: dict[tuple[str, str], str] = {}
    for record in run.resources:
        if not record.custom or record.is_provider or record.read:
            continue
        if record.type in SCOPED_NAMES:
            continue
        for key in (*NAME_INPUTS, *OTHER_NAME_INPUTS.get(record.type, "").split()):
            value = record.inputs.get(key)
            if key == "bucket" and record.type != f"{BUCKET_REFERENCES_ONLY}:Bucket":
                continue
            if isinstance(value, str):
                found[(record.type, value)] = record.urn
    return found


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> Iterator[tuple[ProgramRun, ProgramRun, str]]:
    """The original's and the copy's plans, and the project name."""
    root = tmp_path_factory.mktemp("two-stacks-one-account")
    shutil.copy(ROOT / "Pulumi.yaml", root)
    shutil.copy(ROOT / "__main__.py", root)
    shutil.copytree(
        ROOT / "components", root / "components", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "stacks").mkdir()
    source = ROOT / "stacks" / f"Pulumi.{ORIGINAL}.yaml"
    shutil.copy(source, root / "stacks")
    config = yaml.safe_load(source.read_text(encoding="utf-8"))["config"]
    region = config["ballast:primaryRegion"]
    # The second stack of the account: its own VPC block, the first one's OIDC provider
    # and GuardDuty detector (docs/security-baseline.md, docs/configuration.md).
    config["ballast:network"] = {**config["ballast:network"], "cidr": "10.99.0.0/16"}
    config["ballast:ci"] = {
        **config["ballast:ci"],
        "oidcProviderArn": "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com",
    }
    config["ballast:audit"] = {
        **config.get("ballast:audit", {}),
        "guardDutyDetectorIds": {region: "0" * 32},
    }
    # Its own DNS names: records (and the certificate's validation record) are per name.
    if "ballast:ingress" in config:
        zone = config["ballast:ingress"]["hostedZoneName"]
        own = f"{COPY}.{zone}"
        config["ballast:ingress"] = {**config["ballast:ingress"], "hostedZoneName": own}
        config["ballast:services"] = [
            {**s, "ingress": {**s["ingress"], "host": s["ingress"]["host"].replace(zone, own)}}
            if "ingress" in s
            else s
            for s in config.get("ballast:services", [])
        ]
    (root / "stacks" / f"Pulumi.{COPY}.yaml").write_text(yaml.safe_dump({"config": config}))
    project = load_project(root)
    original = run_stack(load_stack_config(project, ORIGINAL))
    copy = run_stack(load_stack_config(project, COPY))
    yield original, copy, project.name


def test_the_copy_is_the_same_environment(plans):
    original, copy, _ = plans
    assert copy.outputs["environment"] == original.outputs["environment"]


def test_no_account_unique_name_is_in_both_plans(plans):
    original, copy, _ = plans
    theirs, ours = physical_names(original), physical_names(copy)
    assert len(ours) > 40, "the plan names its buckets, roles, log groups, keys, ..."
    shared = sorted(f"{kind} {name}" for kind, name in set(theirs) & set(ours))
    assert not shared, "\n".join(shared)


def test_every_name_of_the_copy_is_its_own(plans):
    """Each stack's names carry `<project>-<stack>` (the default prefix is the project
    name): IAM roles and policies, buckets, log groups and key aliases start with or
    contain the copy's base, never the original's."""
    _, copy, project = plans
    mine = PhysicalNames(prefix=project, stack=COPY)
    theirs = PhysicalNames(prefix=project, stack=ORIGINAL)
    names = [name for _, name in physical_names(copy)]
    assert names
    for name in names:
        assert theirs.base not in name, name
    kinds = {kind for kind, _ in physical_names(copy)}
    for kind in ("aws:iam/role:Role", "aws:iam/policy:Policy", "aws:s3/bucket:Bucket"):
        assert kind in kinds
        assert all(n.startswith(mine.role_prefix) for k, n in physical_names(copy) if k == kind)
    groups = [n for k, n in physical_names(copy) if k == "aws:cloudwatch/logGroup:LogGroup"]
    assert groups and all(mine.base in n for n in groups)
    aliases = [n for k, n in physical_names(copy) if k == "aws:kms/alias:Alias"]
    assert aliases and all(n.startswith(f"alias/{mine.base}-") for n in aliases)


def test_the_copy_adopts_the_accounts_singletons(plans):
    """A GuardDuty detector exists once per account and region: the original creates
    it, the copy adopts it as configured (the GitHub OIDC provider, by URL, is among the
    names above)."""
    original, copy, _ = plans
    for kind in ACCOUNT_SINGLETONS:
        assert original.of_type(kind), kind
        assert not copy.of_type(kind), kind


def test_the_copy_is_held_to_its_own_boundary(plans):
    """Every role of the copy carries the copy's boundary, whose name is its own."""
    _, copy, project = plans
    mine = PhysicalNames(prefix=project, stack=COPY)
    policies = {p.inputs["name"] for p in copy.of_type("aws:iam/policy:Policy")}
    assert {mine.boundary_policy, mine.audit_boundary_policy} == policies
    for role in copy.of_type("aws:iam/role:Role"):
        boundary = role.inputs["permissionsBoundary"]
        assert boundary.rsplit("/", 1)[-1] in policies, role.urn


@given(
    prefix=st.sampled_from(["ballast", "acme", "team-a"]),
    stack=st.sampled_from(["dev", "prod", "dev-2"]),
    path=st.lists(st.text("abcXYZ019_+=.@-", min_size=1, max_size=8), min_size=1, max_size=3),
)
def test_a_program_secret_is_named_under_the_stacks_secret_prefix(prefix, stack, path):
    names = PhysicalNames(prefix, stack)
    name = names.secret("/".join(path))
    assert name.startswith(names.secret_prefix)
    assert name.removeprefix(names.secret_prefix).split("/") == path
    # No other stack's prefix covers it, even one whose base starts like this one's.
    for other in (PhysicalNames(prefix, f"{stack}-2"), PhysicalNames(f"{prefix}-{stack}", "x")):
        assert not name.startswith(other.secret_prefix)


@pytest.mark.parametrize("path", ["", "/grafana", "grafana/", "a//b", "a b", "x*", "a/?"])
def test_a_secret_path_outside_the_rule_is_refused(path):
    with pytest.raises(ValueError, match="a secret path must be"):
        PhysicalNames("ballast", "dev").secret(path)
