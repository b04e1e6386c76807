"""`AwsContext`: one account/partition lookup, ARNs by keyword, tags and child options."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ballast.offline import run_component
from components.context import NO_REGION, AwsContext
from components.names import PhysicalNames
from tests.conftest import aws_context
from tests.tokens import AWS_PROVIDER


def test_arns_name_the_context_region_unless_told_otherwise():
    def program():
        provider = aws.Provider("p", region="eu-west-1", allowed_account_ids=["210987654321"])
        ctx = aws_context(provider, "eu-west-1")
        aws.sns.Topic(
            "arns",
            tags={
                "regional": ctx.arn(service="logs", resource="log-group:x"),
                "any-region": ctx.arn(service="rds", region="*", resource="db:x*"),
                "global": ctx.arn(service="iam", region=NO_REGION, resource="role/x"),
                "managed": ctx.managed_policy_arn("ReadOnlyAccess"),
            },
            opts=pulumi.ResourceOptions(provider=provider),
        )

    (topic,) = run_component(program).of_type("aws:sns/topic:Topic")
    assert topic.inputs["tags"] == {
        "regional": "arn:aws:logs:eu-west-1:210987654321:log-group:x",
        "any-region": "arn:aws:rds:*:210987654321:db:x*",
        "global": "arn:aws:iam::210987654321:role/x",
        "managed": "arn:aws:iam::aws:policy/ReadOnlyAccess",
    }


def _context(**changes) -> AwsContext:
    values = {
        "environment": "test",
        "names": PhysicalNames(prefix="acme", stack="test"),
        "region": "eu-west-1",
        "account_id": pulumi.Output.from_input("210987654321"),
        "partition": pulumi.Output.from_input("aws"),
        "reverse_dns_prefix": pulumi.Output.from_input("com.amazonaws"),
        **changes,
    }
    return AwsContext(**values)


def test_tags_add_up_without_changing_the_context():
    base = _context(tags={"service": "network"})
    tiered = base.with_tags({"tier": "tier-1"})
    assert base.tags == {"service": "network"}
    assert tiered.tags_for("vpc") == {"service": "network", "tier": "tier-1", "Name": "vpc"}
    assert tiered.tags_for() == {"service": "network", "tier": "tier-1"}


def test_only_stateful_children_follow_the_protection():
    parent = object()
    protected = _context(protect=True)
    assert protected.opts(parent, stateful=True).protect is True  # type: ignore[arg-type]
    assert protected.opts(parent).protect is None  # type: ignore[arg-type]
    assert _context().opts(parent, stateful=True).protect is False  # type: ignore[arg-type]


def test_the_dr_context_keeps_account_and_tags():
    base = _context(tags={"service": "database"})
    dr = base.in_region("eu-central-1", None)
    assert (dr.region, dr.tags, dr.account_id) == ("eu-central-1", base.tags, base.account_id)


def test_a_platform_looks_its_account_up_once(shipped):
    """One caller-identity and one partition lookup per stack, through the primary
    region's provider (components no longer each look them up)."""
    lookups = [
        i for i in shipped.invokes if i.token.endswith(("getCallerIdentity", "getPartition"))
    ]
    assert sorted(i.token.rsplit(":", 1)[-1] for i in lookups) == [
        "getCallerIdentity",
        "getPartition",
    ]
    providers = {r.urn: r for r in shipped.of_type(AWS_PROVIDER)}
    assert {providers[i.provider].name for i in lookups} == {f"ballast-{shipped.stack}-aws-primary"}
