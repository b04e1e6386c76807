"""Cases for the delivery guardrails: size floors, protection, explicit providers."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from tests.policy.casebook import EXTRA_CONFIGS, Case, tags

FLOORED = "urn:pulumi:test::ballast::aws:ec2/instance:Instance::instance-under-recorded-floor"
EXTRA_CONFIGS["recorded-floor"] = (
    "prod",
    {"prod-instance-floor": {"resources": {FLOORED: "2xlarge"}}},
)


def instance(size: str):
    def build(env, name):
        aws.ec2.Instance(
            name,
            ami="ami-0123456789abcdef0",
            instance_type=size,
            subnet_id=env.subnets[0].id,
            metadata_options={"http_tokens": "required"},
            root_block_device={"encrypted": True},
            tags=tags(),
            opts=env.opts(),
        )

    return build


def nodes(*sizes: str):
    def build(env, name):
        aws.eks.NodeGroup(
            name,
            cluster_name="ballast-test",
            node_role_arn="arn:aws:iam::123456789012:role/nodes",
            subnet_ids=[s.id for s in env.subnets],
            instance_types=list(sizes),
            scaling_config={"min_size": 3, "max_size": 6, "desired_size": 3},
            tags=tags(),
            opts=env.opts(),
        )

    return build


def key(protect: bool):
    def build(env, name):
        aws.kms.Key(
            name,
            enable_key_rotation=True,
            tags=tags(),
            opts=env.opts(protect=protect),
        )

    return build


def default_provider_group(env, name):
    aws.ec2.SecurityGroup(name, description="on a default provider", tags=tags())


def explicit_k8s_namespace(env, name):
    import pulumi_kubernetes as k8s

    k8s.core.v1.Namespace(
        name, metadata={"name": name}, opts=pulumi.ResourceOptions(provider=env.k8s)
    )


def repository(**overrides):
    def build(env, name):
        key = env.kms_key(f"{name}-key")
        settings = {
            "image_tag_mutability": "IMMUTABLE",
            "image_scanning_configuration": {"scan_on_push": True},
            "encryption_configurations": [{"encryption_type": "KMS", "kms_key": key.arn}],
            **overrides,
        }
        aws.ecr.Repository(name, tags=tags(), opts=env.opts(), **settings)

    return build


ECR_POLICIES = ("ecr-immutable-tags", "ecr-scan-on-push", "ecr-kms-encryption")

CASES = [
    # --- container image repositories -----------------------------------------------
    Case("ecr-ok", repository(), passes=ECR_POLICIES),
    Case("ecr-mutable", repository(image_tag_mutability="MUTABLE"), fails="ecr-immutable-tags"),
    Case(
        "ecr-default-mutability", repository(image_tag_mutability=None), fails="ecr-immutable-tags"
    ),
    Case(
        "ecr-no-scan",
        repository(image_scanning_configuration={"scan_on_push": False}),
        fails="ecr-scan-on-push",
    ),
    Case("ecr-scan-unset", repository(image_scanning_configuration=None), fails="ecr-scan-on-push"),
    Case(
        "ecr-aes",
        repository(encryption_configurations=[{"encryption_type": "AES256"}]),
        fails="ecr-kms-encryption",
    ),
    Case(
        "ecr-default-encryption",
        repository(encryption_configurations=None),
        fails="ecr-kms-encryption",
    ),
    Case("instance-large", instance("m7i.xlarge"), passes=("prod-instance-floor",)),
    Case("nodes-large", nodes("m6i.large", "m6a.2xlarge"), passes=("prod-instance-floor",)),
    Case("instance-micro", instance("m6i.medium"), fails="prod-instance-floor"),
    Case("nodes-burstable", nodes("t3.2xlarge"), fails="prod-instance-floor"),
    Case(
        "instance-under-recorded-floor",
        instance("m6i.xlarge"),
        fails="prod-instance-floor",
        config="recorded-floor",
    ),
    Case("key-protected", key(True), passes=("prod-stateful-protected",)),
    Case("key-unprotected", key(False), fails="prod-stateful-protected"),
    Case("namespace", explicit_k8s_namespace, passes=("explicit-provider-required",)),
    Case(
        "default-provider",
        default_provider_group,
        fails="explicit-provider-required",
        # Without the provider, its default tags (environment, owner) are missing too.
        also=("required-tags",),
    ),
]
