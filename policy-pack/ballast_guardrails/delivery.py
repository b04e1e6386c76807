"""Delivery guardrails: production size floors, protected stateful resources, container
image repositories (immutable tags, scan on push, KMS), and explicit providers.

Why size floors and not "no shrinking": a policy sees the planned inputs of a resource,
never its previous state, so it cannot tell a downsize from a create. The prod config
therefore records the floor (per service, and per resource where prod already runs
bigger); shrinking below it needs a reviewed change to `policy-pack/config/prod.json`,
which is the approval.
"""

from __future__ import annotations

import re

from pulumi_policy import ResourceValidationArgs

from ballast_guardrails.spec import (
    HIGH,
    MEDIUM,
    PRODUCTION_ONLY,
    SECURITY,
    Report,
    Settings,
    resource_policy,
)
from ballast_guardrails.values import as_list, get, truthy

#: type -> (service key in the floor settings, property, is-a-list)
SIZED = {
    "aws:ec2/instance:Instance": ("ec2", "instanceType", False),
    "aws:ec2/launchTemplate:LaunchTemplate": ("ec2", "instanceType", False),
    "aws:eks/nodeGroup:NodeGroup": ("eks", "instanceTypes", True),
    "aws:rds/instance:Instance": ("rds", "instanceClass", False),
    "aws:rds/clusterInstance:ClusterInstance": ("rds", "instanceClass", False),
}
_NAMED_SIZES = {"nano": 0, "micro": 1, "small": 2, "medium": 3, "large": 4, "xlarge": 5}
_N_XLARGE = re.compile(r"^(\d+)xlarge$")

#: Data and keys whose loss is not recoverable by a redeploy.
STATEFUL = frozenset(
    {
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:ebs/volume:Volume",
        "aws:efs/fileSystem:FileSystem",
        "aws:dynamodb/table:Table",
    }
)


def size_rank(size: str) -> int | None:
    """nano < micro < ... < large < xlarge < 2xlarge < ... < metal; None if unknown."""
    size = size.lower()
    if size in _NAMED_SIZES:
        return _NAMED_SIZES[size]
    match = _N_XLARGE.match(size)
    if match:
        return _NAMED_SIZES["xlarge"] + int(match.group(1)) - 1
    if size.startswith("metal"):
        return 10_000
    return None


def parse_type(value: str) -> tuple[str, str] | None:
    """`db.r6g.large` / `m7i-flex.2xlarge` -> (family, size)."""
    parts = value.strip().lower().split(".")
    if parts and parts[0] in ("db", "cache"):
        parts = parts[1:]
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


@resource_policy(
    name="prod-instance-floor",
    types=SIZED,
    description="Instance types and classes stay at or above the floors in the "
    "policy config (how a prod downsize is blocked).",
    severity=HIGH,
    profile=PRODUCTION_ONLY,
    remediation="Keep the size; to shrink, lower the floor in the stack's policy "
    "config in a reviewed change first.",
    config={
        "minimumSize": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "default": {"ec2": "large", "eks": "large", "rds": "large"},
            "description": "Smallest size per service (ec2, eks, rds).",
        },
        "disallowedFamilies": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["t2", "t3", "t3a", "t4g"],
            "description": "Burstable families: CPU credits run out under sustained load.",
        },
        "resources": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "default": {},
            "description": "URN -> smallest size for that resource (today's prod size).",
        },
    },
)
def _floor(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    service, prop, is_list = SIZED[args.resource_type]
    values = as_list(get(args.props, prop)) if is_list else [get(args.props, prop)]
    own = settings["resources"].get(args.urn)
    minimum = own or settings["minimumSize"].get(service)
    banned = {f.lower() for f in settings["disallowedFamilies"]}
    for value in values:
        parsed = parse_type(value) if isinstance(value, str) else None
        if parsed is None:
            continue
        family, size = parsed
        if family in banned:
            report(f"{value} is a burstable family ({family}), not allowed in this stack")
        rank, floor_rank = size_rank(size), size_rank(str(minimum)) if minimum else None
        if rank is not None and floor_rank is not None and rank < floor_rank:
            where = "this resource's recorded floor" if own else f"the {service} floor"
            report(f"{value} is below {where} ({minimum})")


@resource_policy(
    name="prod-stateful-protected",
    types=STATEFUL,
    description="Production databases, keys, buckets, volumes and tables are "
    "protected from deletion (protect=True).",
    severity=HIGH,
    profile=PRODUCTION_ONLY,
    remediation="Pass opts=ResourceOptions(protect=True) for this resource in prod.",
)
def _protected(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if not args.opts.protect:
        report("is not protected (protect=True): a stray delete or replace would destroy its data")


ECR_REPOSITORY = "aws:ecr/repository:Repository"


@resource_policy(
    name="ecr-immutable-tags",
    types={ECR_REPOSITORY},
    description="ECR repositories have immutable tags: a tag names one image for ever.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_51", "AVD-AWS-0031"),
    remediation='Set imageTagMutability="IMMUTABLE" and tag each build with its Git SHA; '
    "deploy by digest.",
)
def _immutable_tags(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    value = get(args.props, "imageTagMutability")
    if value != "IMMUTABLE":
        shown = value if isinstance(value, str) else "MUTABLE (the default)"
        report(
            f"tags are mutable (imageTagMutability {shown}): a pushed tag can be moved to "
            "another image after it was reviewed and signed"
        )


@resource_policy(
    name="ecr-scan-on-push",
    types={ECR_REPOSITORY},
    description="ECR repositories scan every image for vulnerabilities when it is pushed.",
    severity=MEDIUM,
    profile=SECURITY,
    refs=("CKV_AWS_163", "AVD-AWS-0030"),
    remediation="Set imageScanningConfiguration={scanOnPush: True}.",
)
def _scan_on_push(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if not truthy(get(args.props, "imageScanningConfiguration", "scanOnPush")):
        report("images are not scanned on push (imageScanningConfiguration.scanOnPush)")


@resource_policy(
    name="ecr-kms-encryption",
    types={ECR_REPOSITORY},
    description="ECR repositories encrypt images with a KMS key.",
    severity=MEDIUM,
    profile=SECURITY,
    refs=("CKV_AWS_136", "AVD-AWS-0033"),
    remediation='Set encryptionConfigurations=[{encryptionType: "KMS", kmsKey: <key ARN>}] '
    "(a new repository: encryption cannot be changed in place).",
)
def _ecr_kms(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    configs = as_list(get(args.props, "encryptionConfigurations"))
    if not any(get(c, "encryptionType") == "KMS" for c in configs):
        report("images are not encrypted with a KMS key (encryptionConfigurations)")


def _is_cloud_resource(resource_type: str) -> bool:
    return resource_type.startswith(("aws:", "kubernetes:"))


@resource_policy(
    name="explicit-provider-required",
    types=_is_cloud_resource,
    description="AWS and Kubernetes resources use an explicit provider, never a default one.",
    severity=MEDIUM,
    profile=SECURITY,
    remediation="Pass provider= (or a parent that has one); stacks disable default providers.",
)
def _explicit_provider(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    provider = args.provider
    if provider is None or str(provider.name).startswith("default"):
        report("uses a default provider; pass the stack's explicit provider")
