"""EKS: a private control plane, encrypted secrets, full audit logging, access entries,
and node groups that survive the loss of a zone."""

from __future__ import annotations

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from ballast_guardrails.contract import NODE_GROUP_SET_TAG
from ballast_guardrails.graph import Targets, of_type
from ballast_guardrails.spec import (
    HIGH,
    HYGIENE,
    MEDIUM,
    SECURITY,
    Report,
    Settings,
    resource_policy,
    stack_policy,
)
from ballast_guardrails.values import as_list, get, objects, truthy

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
SUBNET = "aws:ec2/subnet:Subnet"
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")
OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})


def _vpc_config(props):
    blocks = objects(get(props, "vpcConfig"))
    return blocks[0] if blocks else None


@resource_policy(
    name="eks-private-endpoint",
    types={CLUSTER},
    description="EKS clusters enable the private API endpoint.",
    severity=HIGH,
    profile=HYGIENE,
    remediation="Set vpcConfig.endpointPrivateAccess=True.",
)
def _private_endpoint(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if not truthy(get(_vpc_config(args.props), "endpointPrivateAccess")):
        report("the private API endpoint is off (vpcConfig.endpointPrivateAccess)")


@resource_policy(
    name="eks-public-endpoint-restricted",
    types={CLUSTER},
    description="A public EKS endpoint is allowed only for listed CIDRs, never 0.0.0.0/0.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_38", "CKV_AWS_39", "AVD-AWS-0040", "AVD-AWS-0041"),
    remediation="Set vpcConfig.endpointPublicAccess=False, or publicAccessCidrs "
    "to the admin networks.",
)
def _public_endpoint(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    config = _vpc_config(args.props)
    public = get(config, "endpointPublicAccess")
    if public is not None and not truthy(public):
        return
    # EKS defaults: public endpoint on, open to 0.0.0.0/0.
    cidrs = [str(c) for c in as_list(get(config, "publicAccessCidrs"))] or ["0.0.0.0/0 (default)"]
    open_to = [c for c in cidrs if c.split(" ")[0] in OPEN_CIDRS]
    if open_to:
        report(
            "the public API endpoint is open to the internet; turn it off or list the "
            "admin CIDRs in vpcConfig.publicAccessCidrs"
        )


@resource_policy(
    name="eks-secrets-encryption",
    types={CLUSTER},
    description="EKS envelope-encrypts Kubernetes secrets with a KMS key.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_58", "AVD-AWS-0039"),
    remediation='Set encryptionConfig={resources: ["secrets"], provider: {keyArn: <key>}}.',
)
def _secrets_encryption(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for config in objects(get(args.props, "encryptionConfig")):
        if "secrets" in as_list(get(config, "resources")) and get(config, "provider", "keyArn"):
            return
    report("Kubernetes secrets are not envelope-encrypted with a KMS key (encryptionConfig)")


@resource_policy(
    name="eks-control-plane-logging",
    types={CLUSTER},
    description="EKS sends all five control-plane log types to CloudWatch.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_37", "AVD-AWS-0038"),
    remediation="Set enabledClusterLogTypes to api, audit, authenticator, "
    "controllerManager and scheduler.",
)
def _control_plane_logs(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    enabled = {str(t) for t in as_list(get(args.props, "enabledClusterLogTypes"))}
    missing = [t for t in CONTROL_PLANE_LOGS if t not in enabled]
    if missing:
        report(f"control-plane log types not enabled: {', '.join(missing)}")


@resource_policy(
    name="eks-access-entries",
    types={CLUSTER},
    description="EKS authenticates through access entries (authenticationMode API).",
    severity=MEDIUM,
    profile=HYGIENE,
    remediation='Set accessConfig.authenticationMode="API" and grant access with '
    "aws.eks.AccessEntry.",
)
def _access_entries(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    mode = get(args.props, "accessConfig", "authenticationMode")
    if str(mode).upper() != "API":
        report(
            f"authenticationMode is {mode or 'unset (CONFIG_MAP)'}; use API (access entries, "
            "not the aws-auth ConfigMap)"
        )


def _zones_of(group, subnets: Targets) -> tuple[set[str], int]:
    """The zones a node group's subnets are in (as far as this stack's subnets say), and
    how many of its subnets are not subnets of this stack."""
    ids = as_list(get(group.props, "subnetIds"))
    known = subnets.of(group, "subnetIds")
    zones = {get(s.props, "availabilityZone") or get(s.props, "availabilityZoneId") for s in known}
    zones.discard(None)
    return {str(z) for z in zones}, max(len(ids) - len(known), 0)


def _set_name(group) -> str | None:
    """The per-zone set a node group belongs to: its own `tags` entry
    `ballast.io/node-group-set` (never the provider's default tags, which would put every
    group in one set). Only that key is read, so an unknown tag elsewhere does not matter."""
    value = get(group.props, "tags", NODE_GROUP_SET_TAG)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def _cluster_of(group) -> str | None:
    """What a node group's cluster is known by: the resource its `clusterName` came from,
    else the name itself. A set belongs to one cluster: the same set name on another
    cluster's groups is another set."""
    dependencies = list(group.property_dependencies.get("clusterName", ()))
    if dependencies:
        return dependencies[0].urn
    name = get(group.props, "clusterName")
    return name if isinstance(name, str) else None


def _outside(count: int) -> str:
    return f"; {count} subnet(s) are outside this stack" if count else ""


@stack_policy(
    name="eks-nodegroup-multi-az",
    description="Node groups span at least the configured number of zones "
    f"(2 by default, 3 in prod); a per-zone set (tag {NODE_GROUP_SET_TAG}) "
    "counts as one.",
    severity=HIGH,
    profile=HYGIENE,
    remediation="Pass a private subnet in each zone (network.private_subnet_ids); "
    "for one group per zone (perAz), tag every group of the set "
    f"{NODE_GROUP_SET_TAG}=<set name>, give each one zone's subnet, and create "
    "one in each zone.",
    config={"minAzs": {"type": "integer", "minimum": 1, "default": 2}},
)
def _node_group_zones(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    """A node group spans `minAzs` zones; or it is one member of a per-zone set (same
    `ballast.io/node-group-set` tag, same cluster): then it spans exactly one zone and the
    set's members together span `minAzs` zones."""
    subnets = Targets(of_type(args.resources, SUBNET))
    minimum = int(settings["minAzs"])
    sets: dict[tuple[str | None, str], list] = {}
    for group in of_type(args.resources, NODE_GROUP):
        zones, outside = _zones_of(group, subnets)
        name = _set_name(group)
        if name is not None:
            sets.setdefault((_cluster_of(group), name), []).append((group, zones))
            # Exactly one zone, verifiably: a subnet from outside the stack could be in
            # any zone.
            if len(zones) != 1 or outside:
                report(
                    f"node group {group.name} is in the per-zone set {name} "
                    f"({NODE_GROUP_SET_TAG}) but spans {len(zones)} known zone(s); each "
                    f"group of a set spans exactly one{_outside(outside)}",
                    group.urn,
                )
        elif len(zones) < minimum:
            report(
                f"node group {group.name} spans {len(zones)} zone(s); at least {minimum} "
                f"required{_outside(outside)}",
                group.urn,
            )
    for (_, name), members in sets.items():
        covered = set().union(*(zones for _, zones in members))
        if len(covered) >= minimum:
            continue
        listed = ", ".join(sorted(covered)) or "none"
        for group, _ in members:
            report(
                f"node group {group.name} is in the per-zone set {name} ({NODE_GROUP_SET_TAG}), "
                f"whose {len(members)} group(s) span {len(covered)} zone(s) ({listed}); at "
                f"least {minimum} required: add a group in each missing zone",
                group.urn,
            )


@resource_policy(
    name="eks-nodegroup-no-remote-access",
    types={NODE_GROUP},
    description="Node groups do not open SSH (remoteAccess).",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_100",),
    remediation="Remove remoteAccess; use SSM Session Manager on the nodes.",
)
def _no_remote_access(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if get(args.props, "remoteAccess"):
        report("remoteAccess opens SSH to the nodes; use SSM Session Manager")
