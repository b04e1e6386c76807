"""A small but complete program with three deliberate mistakes (a public bucket, an
admin role, a single-subnet ALB) yields exactly those violations under the prod config:
nothing missed, nothing extra."""

from __future__ import annotations

import pulumi_aws as aws

from ballast.offline import run_component
from ballast.policy.config import load_policy_config
from ballast.policy.inputs import analyzer_inputs
from tests.policy.casebook import BOUNDARY_ARN, Env, service_trust, tags
from tests.policy.conftest import stack_config_file


def program() -> None:
    env = Env()
    # 1. A public bucket: its public access block is switched off and it has a public ACL.
    site = env.bucket(
        "public-site",
        block_flags={
            "block_public_acls": False,
            "block_public_policy": False,
            "ignore_public_acls": False,
            "restrict_public_buckets": False,
        },
    )
    aws.s3.BucketAcl("public-site-acl", bucket=site.id, acl="public-read", opts=env.opts())
    # 2. An admin role: otherwise by the book (boundary, scoped trust, tags).
    admin = aws.iam.Role(
        "admin-role",
        assume_role_policy=service_trust("ec2.amazonaws.com"),
        permissions_boundary=BOUNDARY_ARN,
        tags=tags(),
        opts=env.opts(),
    )
    aws.iam.RolePolicyAttachment(
        "admin-role-admin",
        role=admin.name,
        policy_arn="arn:aws:iam::aws:policy/AdministratorAccess",
        opts=env.opts(),
    )
    # 3. An ALB in one subnet, compliant in every other way.
    edge = aws.lb.LoadBalancer(
        "edge-alb",
        load_balancer_type="application",
        subnets=[env.subnets[0].id],
        drop_invalid_header_fields=True,
        enable_deletion_protection=True,
        access_logs={"bucket": env.log_bucket.id, "enabled": True},
        tags=tags(),
        opts=env.opts(),
    )
    aws.wafv2.WebAclAssociation(
        "edge-alb-waf",
        resource_arn=edge.arn,
        web_acl_arn="arn:aws:wafv2:us-east-1:123456789012:regional/webacl/edge/a1b2c3d4",
        opts=env.opts(),
    )


def test_exactly_the_three_mistakes_are_reported(pack):
    run = run_component(program, stack="test")
    pack.configure(load_policy_config(stack_config_file("prod")))
    diagnostics = pack.evaluate(analyzer_inputs(run))
    found = {(d.policy, d.level, d.urn.rsplit("::", 1)[-1]) for d in diagnostics}
    assert found == {
        ("s3-public-access-block", "mandatory", "public-site-pab"),
        ("s3-no-public-acl", "mandatory", "public-site-acl"),
        ("iam-no-admin-managed-policies", "mandatory", "admin-role-admin"),
        ("lb-min-subnets", "mandatory", "edge-alb"),
    }
    messages = {d.policy: d.message for d in diagnostics}
    assert messages["lb-min-subnets"] == "spans 1 subnet(s); at least 3 (one per zone) required"
    assert "AdministratorAccess" in messages["iam-no-admin-managed-policies"]
