"""`ballast:cluster`: the EKS cluster, its system node group and its workload node groups
(see docs/cluster.md)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components.aws_catalog import (
    accelerator,
    ami_type_for,
    eks_ami_types,
    instance_type_problem,
    node_ami_types,
    unsupported_accelerator,
)
from components.config.base import (
    _IAM_PRINCIPAL_ARN,
    _PRIVATE_RANGES,
    _context,
    _log_retention,
    _Section,
)
from components.tags import (
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    NODE_GROUP_LABEL,
    SYSTEM_TAINT_KEY,
    SYSTEM_TAINT_VALUE,
)
from components.versions import KUBERNETES_VERSION, SUPPORTED_KUBERNETES_VERSIONS

#: The Kubernetes versions `kubernetesVersion` accepts: those components/versions.py pins
#: managed add-ons for. versions.py is plain constants, so config parsing still imports
#: nothing heavy (tests/config/test_reference.py keeps it so).
CLUSTER_KUBERNETES_VERSIONS = SUPPORTED_KUBERNETES_VERSIONS
#: Node labels Ballast sets itself (the tag contract, components/tags.py), and prefixes
#: EKS refuses on node groups.
RESERVED_NODE_LABEL_KEYS = (NODE_GROUP_LABEL,)
RESERVED_LABEL_PREFIXES = ("kubernetes.io/", "k8s.io/", "eks.amazonaws.com/")
#: Instance families that run on CPU credits: refused in prod, where a sustained load
#: would drain the credits and throttle every pod on the node.
BURSTABLE_FAMILIES = ("t2", "t3", "t3a", "t4g")
MIN_NODE_VOLUME_GIB, MAX_NODE_VOLUME_GIB = 20, 16384
MIN_PROD_CONTROL_PLANE_LOG_DAYS = 90
MIN_PROD_SYSTEM_NODES = 2
#: Namespaces the cluster creates for platform add-ons (components/cluster.py), and those
#: Kubernetes owns: no service may use them.
PLATFORM_NAMESPACES = (
    "cluster-autoscaler",
    "ingress",
    "observability",
    "telemetry",
    "vault",
    "gitops",
)
KUBERNETES_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")

#: Graviton families carry a `g` after the generation digit (m7g, c7gn, r8gd, g5g).
_ARM_FAMILY = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*$")
#: NVIDIA Grace-Blackwell families (p6e-gb200) run on Grace, an Arm CPU.
_GRACE_FAMILY = re.compile(r"^[a-z]+\d+[a-z]*-gb\d+$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_NODE_GROUP_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,18}[a-z0-9])?$")


def instance_architecture(instance_type: str) -> Literal["arm64", "x86_64"]:
    """`arm64` for Graviton and Grace types (m7g.large, c7gn.xlarge, p6e-gb200.36xlarge),
    else `x86_64`."""
    family = instance_type.split(".", 1)[0]
    arm = _ARM_FAMILY.fullmatch(family) or _GRACE_FAMILY.fullmatch(family)
    return "arm64" if arm else "x86_64"


def node_ami_type(instance_types: tuple[str, ...], ami_type: str | None = None) -> str:
    """The EKS AMI type of a node group: `ami_type` when given, else the Amazon Linux 2023
    type matching the group's accelerator and architecture (`AL2023_x86_64_STANDARD`,
    `AL2023_x86_64_NVIDIA`, `AL2023_ARM_64_NVIDIA`, `AL2023_x86_64_NEURON`, ...). The
    config checks have already made every type of the group share both."""
    if ami_type is not None:
        return ami_type
    first = instance_types[0]
    return ami_type_for(accelerator(first), instance_architecture(first))


def _label_key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if not _LABEL_NAME.fullmatch(name) or (prefix and not _LABEL_PREFIX.fullmatch(prefix)):
        return (
            "must be a Kubernetes label key: an optional DNS prefix and '/', then at most 63 "
            f"letters, digits, '-', '_' or '.' (got {key!r})"
        )
    return None


def _instance_types(value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    for instance_type in value:
        problem = instance_type_problem(instance_type)
        if problem is not None:
            raise ValueError(problem)
    if len(set(value)) != len(value):
        raise ValueError(f"must not repeat an instance type (got {list(value)})")
    architectures = sorted({instance_architecture(t) for t in value})
    if len(architectures) > 1:
        raise ValueError(
            "must not mix Graviton (arm64) and x86_64 types: a node group runs one AMI "
            f"(got {list(value)})"
        )
    for instance_type in value:
        unsupported = unsupported_accelerator(instance_type)
        if unsupported is not None:
            raise ValueError(
                "must list instance types an EKS Amazon Linux 2023 AMI can drive "
                f"({unsupported}); NVIDIA g4dn/g5/g6/p4d/p5 or Neuron inf2/trn1 are"
            )
    kinds = {accelerator(t) or "standard" for t in value}
    if len(kinds) > 1:
        raise ValueError(
            "must not mix accelerated and standard types, or NVIDIA and Neuron types: a "
            "node group runs one AMI, with one accelerator's drivers (got "
            + ", ".join(f"{t} ({accelerator(t) or 'standard'})" for t in value)
            + ")"
        )
    (kind,) = kinds
    if kind != "standard":
        try:
            ami_type_for(kind, architectures[0])
        except ValueError as error:
            raise ValueError(f"must list types with an EKS AMI: {error}") from None
    if _context(info, "environment") == "prod":
        burstable = [t for t in value if t.split(".", 1)[0] in BURSTABLE_FAMILIES]
        if burstable:
            raise ValueError(
                "must not use burstable types in prod: a sustained load drains their CPU "
                f"credits and throttles every pod on the node (got {', '.join(burstable)})"
            )
    return value


def _sizes(model: Any) -> Any:
    desired = model.desired_size if model.desired_size is not None else model.min_size
    if not model.min_size <= desired <= model.max_size:
        raise ValueError(
            f"needs minSize <= desiredSize <= maxSize (got {model.min_size} <= {desired} "
            f"<= {model.max_size})"
        )
    return model


class SystemNodeGroupConfig(_Section):
    """`ballast:cluster.systemNodeGroup`: nodes for platform add-ons only."""

    instance_types: tuple[str, ...] = Field(
        default=("m7i.large", "m6i.large"),
        min_length=1,
        description="Instance types, on-demand, all of one architecture (the defaults have "
        "2 vCPU and 8 GiB; a second type keeps the group scalable when one is short in a "
        "zone). Burstable families are refused in prod.",
    )
    min_size: int = Field(
        default=2,
        ge=0,
        description=f"Fewest nodes; at least {MIN_PROD_SYSTEM_NODES} in prod, so one node's "
        "loss does not take every platform add-on with it.",
    )
    max_size: int = Field(default=4, ge=1, description="Most nodes; at least minSize.")
    desired_size: int | None = Field(
        default=None,
        description="Nodes at creation (unset: minSize), between minSize and maxSize. Only "
        "read when the group is created: afterwards the Cluster Autoscaler owns it "
        "(ignoreChanges).",
    )

    @field_validator("instance_types")
    @classmethod
    def _types(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        accelerated = [t for t in value if accelerator(t) or unsupported_accelerator(t)]
        if accelerated:
            raise ValueError(
                "must not list accelerated types: the system group runs platform add-ons "
                f"only; put {', '.join(accelerated)} in a workload group of nodeGroups"
            )
        return _instance_types(value, info)

    @property
    def resolved_ami_type(self) -> str:
        """The group's EKS AMI type (`node_ami_type`): AL2023 standard, of its
        architecture."""
        return node_ami_type(self.instance_types)

    @field_validator("min_size")
    @classmethod
    def _min(cls, value: int, info: ValidationInfo) -> int:
        if _context(info, "environment") == "prod" and value < MIN_PROD_SYSTEM_NODES:
            raise ValueError(
                f"must be at least {MIN_PROD_SYSTEM_NODES} in prod: one node's loss must "
                f"not take every platform add-on with it (got {value})"
            )
        return value

    _check_sizes = model_validator(mode="after")(_sizes)


class TaintConfig(_Section):
    """One taint of a workload node group."""

    key: str = Field(description="Taint key, a Kubernetes label key.")
    value: str | None = Field(default=None, description="Taint value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        default="NoSchedule", description="What the taint does to pods that do not tolerate it."
    )

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        problem = _label_key_problem(value)
        if problem:
            raise ValueError(problem)
        if value == SYSTEM_TAINT_KEY:
            raise ValueError(
                f"must not be {SYSTEM_TAINT_KEY}: that taint marks the system node group, "
                "which only platform add-ons tolerate"
            )
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: str | None) -> str | None:
        if value is not None and not _LABEL_VALUE.fullmatch(value):
            raise ValueError(
                "must be at most 63 letters, digits, '-', '_' or '.', starting and ending "
                f"with a letter or digit (got {value!r})"
            )
        return value


class NodeGroupConfig(_Section):
    """One entry of `ballast:cluster.nodeGroups`: managed nodes for workloads."""

    name: str = Field(
        description="Group name, a DNS label of at most 20 characters; nodes carry it as "
        "the label ballast.io/node-group."
    )
    instance_types: tuple[str, ...] = Field(
        min_length=1,
        description="Instance types, all of one architecture (Graviton or x86_64). Spot "
        "needs at least two, so one exhausted spot pool does not stop scaling. Burstable "
        "families are refused in prod.",
    )
    capacity_type: Literal["on-demand", "spot"] = Field(
        default="on-demand",
        description="'spot' is ~60-70% cheaper, but a node can be reclaimed at two "
        "minutes' notice: for interruptible, replicated workloads.",
    )
    min_size: int = Field(default=1, ge=0, description="Fewest nodes.")
    max_size: int = Field(ge=1, description="Most nodes the autoscaler may add; at least minSize.")
    desired_size: int | None = Field(
        default=None,
        description="Nodes at creation (unset: minSize), between minSize and maxSize. Only "
        "read when the group is created: afterwards the Cluster Autoscaler owns it "
        "(ignoreChanges).",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description=f"Kubernetes labels of the nodes ({NODE_GROUP_LABEL} is always set, "
        "and kubernetes.io/, k8s.io/ and eks.amazonaws.com/ keys are refused).",
    )
    taints: tuple[TaintConfig, ...] = Field(
        default=(),
        description="Taints of the nodes, so only tolerating pods land there.",
    )
    ami_type: str | None = Field(
        default=None,
        description="EKS AMI type of the nodes (unset: chosen from instanceTypes: "
        "AL2023_x86_64_NVIDIA or AL2023_ARM_64_NVIDIA for NVIDIA GPU families (g*, gr*, "
        "p*), AL2023_x86_64_NEURON for Inferentia and Trainium (inf*, trn*), else "
        "AL2023_x86_64_STANDARD or AL2023_ARM_64_STANDARD). One of the Amazon Linux 2023 "
        "types botocore's EKS model lists; it must be the one that matches the types' "
        "accelerator and architecture, so setting it pins the choice: a later change of "
        "instanceTypes that would switch the AMI fails instead of switching. An NVIDIA group is tainted "
        f"{GPU_TAINT_KEY}={GPU_TAINT_VALUE}:NoSchedule and gets the NVIDIA device plugin "
        "in the cluster layer.",
    )
    per_az: bool = Field(
        default=False,
        description="One group per zone instead of one spanning every private subnet "
        "Use it for stateful workloads with zonal EBS volumes: the "
        "autoscaler can then add a node in the zone where a pending pod's volume lives. "
        "minSize, maxSize and desiredSize then apply to each zone.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NODE_GROUP_NAME.fullmatch(value):
            raise ValueError(
                "must be a DNS label of at most 20 lowercase letters, digits and '-', "
                f"starting with a letter (got {value!r})"
            )
        if value == "system":
            raise ValueError("must not be 'system': that is the platform add-ons' group")
        return value

    @field_validator("instance_types")
    @classmethod
    def _types(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return _instance_types(value, info)

    @field_validator("ami_type")
    @classmethod
    def _ami_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if value not in node_ami_types():
            other = " (Ballast nodes run Amazon Linux 2023)" if value in eks_ami_types() else ""
            raise ValueError(f"must be one of {', '.join(node_ami_types())}{other} (got {value!r})")
        types = info.data.get("instance_types")
        if not types:
            return value  # instanceTypes is wrong, and reported on its own
        wanted = node_ami_type(types)
        if value != wanted:
            raise ValueError(
                f"contradicts instanceTypes {list(types)}: they need {wanted}, whose "
                f"drivers and architecture match them (got {value!r})"
            )
        return value

    @property
    def accelerator(self) -> str | None:
        """`nvidia`, `neuron` or None: the accelerator of the group's instance types."""
        return accelerator(self.instance_types[0])

    @property
    def resolved_ami_type(self) -> str:
        """The group's EKS AMI type: `amiType`, or the one `node_ami_type` chooses."""
        return node_ami_type(self.instance_types, self.ami_type)

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            problem = _label_key_problem(key)
            if problem:
                raise ValueError(problem)
            if key in RESERVED_NODE_LABEL_KEYS or key.startswith(RESERVED_LABEL_PREFIXES):
                raise ValueError(
                    f"must not set {key!r}: Ballast and EKS set ballast.io/node-group and "
                    "the kubernetes.io/, k8s.io/ and eks.amazonaws.com/ labels themselves"
                )
            if not _LABEL_VALUE.fullmatch(text):
                raise ValueError(
                    f"has an invalid value for {key!r}: at most 63 letters, digits, '-', '_' "
                    "or '.', starting and ending with a letter or digit"
                )
        return value

    @field_validator("taints")
    @classmethod
    def _taints(cls, value: tuple[TaintConfig, ...]) -> tuple[TaintConfig, ...]:
        seen = [(t.key, t.effect) for t in value]
        if len(set(seen)) != len(seen):
            raise ValueError("must not repeat a taint key with the same effect")
        return value

    @model_validator(mode="after")
    def _spot_and_sizes(self) -> NodeGroupConfig:
        if self.capacity_type == "spot" and len(self.instance_types) < 2:
            raise ValueError(
                "spot needs at least 2 instanceTypes, so one exhausted spot pool does not "
                f"stop scaling (got {list(self.instance_types)})"
            )
        return _sizes(self)


class ClusterConfig(_Section):
    """`ballast:cluster`: the EKS cluster (see docs/cluster.md)."""

    kubernetes_version: str = Field(
        default=KUBERNETES_VERSION,
        description="Kubernetes minor version; the default is the pin in "
        "components/versions.py, and only versions it pins add-ons for are accepted. "
        "Upgrades go one minor at a time.",
    )
    endpoint_public_access: bool = Field(
        default=False,
        description="Also expose the Kubernetes API endpoint publicly. Off, it is private "
        "only, reachable from the VPC, so deploys run from inside it or over a VPN. Needs "
        "publicAccessCidrs.",
    )
    public_access_cidrs: tuple[str, ...] = Field(
        default=(),
        description="The only networks the public endpoint answers (required with "
        "endpointPublicAccess; never 0.0.0.0/0), e.g. the VPN's or the CI runners' egress.",
    )
    admin_principal_arns: tuple[str, ...] = Field(
        default=(),
        description="IAM roles or users given cluster admin through EKS access entries. "
        "The CI apply role is added automatically when ballast:ci is set (and the CI plan "
        "role as view-only); nobody else is admin implicitly (not even the cluster's "
        "creator).",
    )
    bootstrap_admin_arn: str | None = Field(
        default=None,
        description="The IAM role that runs the very first `pulumi up` of a fresh account "
        "(an administrator's own role), made cluster admin so it can bring up the cluster "
        "layer before the in-VPC runner exists (docs/layers.md). Remove it once CI deploys "
        "both layers: it is a standing admin otherwise.",
    )
    read_only_principal_arns: tuple[str, ...] = Field(
        default=(),
        description="IAM roles or users given read-only access (AmazonEKSViewPolicy: no "
        "Secrets) through access entries.",
    )
    log_retention_days: int = Field(
        default=90,
        description="Retention of the control-plane logs (api, audit, authenticator, "
        "controllerManager, scheduler) in CloudWatch, in days: one of the periods "
        f"CloudWatch accepts, at least {MIN_PROD_CONTROL_PLANE_LOG_DAYS} in prod (the audit "
        "log is evidence).",
    )
    node_volume_size_gib: int = Field(
        default=50,
        ge=MIN_NODE_VOLUME_GIB,
        le=MAX_NODE_VOLUME_GIB,
        alias="nodeVolumeSizeGiB",
        description="Root volume of every node in GiB, encrypted gp3: images and ephemeral "
        "storage live there.",
    )
    system_node_group: SystemNodeGroupConfig = Field(
        default_factory=SystemNodeGroupConfig,
        description=f"The system node group, tainted {SYSTEM_TAINT_KEY}={SYSTEM_TAINT_VALUE}:"
        "NoSchedule for platform add-ons; see SystemNodeGroupConfig.",
    )
    node_groups: tuple[NodeGroupConfig, ...] = Field(
        min_length=1,
        description="Workload node groups (at least one: the system group takes platform "
        "add-ons only); see NodeGroupConfig.",
    )

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in CLUSTER_KUBERNETES_VERSIONS:
            raise ValueError(
                "must be a Kubernetes version Ballast pins add-on versions for "
                f"({', '.join(CLUSTER_KUBERNETES_VERSIONS)}; see components/versions.py) "
                f"(got {value!r})"
            )
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                network = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(
                    f"must list IPv4 networks such as 203.0.113.0/24 (got {cidr!r})"
                ) from None
            if str(network) != cidr and network.version == 4:
                raise ValueError(
                    f"must list network addresses: {cidr!r} has host bits set, did you mean "
                    f"{network}?"
                )
            if not isinstance(network, ipaddress.IPv4Network):
                raise ValueError(f"must list IPv4 networks such as 203.0.113.0/24 (got {cidr!r})")
            if network.prefixlen == 0:
                raise ValueError(
                    f"must not open the API to the internet: list the admin networks, not {cidr}"
                )
            if any(network.subnet_of(r) for r in _PRIVATE_RANGES):
                raise ValueError(
                    f"must list public networks: {cidr} is private, and the private "
                    "endpoint already serves the VPC"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a network (got {list(value)})")
        return value

    @field_validator("bootstrap_admin_arn")
    @classmethod
    def _bootstrap_admin(cls, value: str | None) -> str | None:
        if value is not None and not _IAM_PRINCIPAL_ARN.fullmatch(value):
            raise ValueError(
                "must be the ARN of the IAM role or user that runs the first pulumi up, "
                f"such as arn:aws:iam::123456789012:role/Admin (got {value!r})"
            )
        return value

    @field_validator("admin_principal_arns", "read_only_principal_arns")
    @classmethod
    def _principals(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for arn in value:
            if not _IAM_PRINCIPAL_ARN.fullmatch(arn):
                raise ValueError(
                    "must list IAM role or user ARNs such as "
                    f"arn:aws:iam::111111111111:role/platform-admins, without wildcards (got {arn!r})"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a principal (got {list(value)})")
        if info.field_name == "read_only_principal_arns":
            both = sorted(set(value) & set(info.data.get("admin_principal_arns") or ()))
            if both:
                raise ValueError(
                    f"must not list an admin too: a principal is admin or read-only "
                    f"(got {', '.join(both)})"
                )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int, info: ValidationInfo) -> int:
        _log_retention(value)
        if _context(info, "environment") == "prod" and value < MIN_PROD_CONTROL_PLANE_LOG_DAYS:
            raise ValueError(
                f"must be at least {MIN_PROD_CONTROL_PLANE_LOG_DAYS} days in prod: the API "
                f"audit log is evidence (got {value})"
            )
        return value

    @field_validator("node_groups")
    @classmethod
    def _groups(cls, value: tuple[NodeGroupConfig, ...]) -> tuple[NodeGroupConfig, ...]:
        names = [g.name for g in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"must name each node group once (repeated: {', '.join(dupes)})")
        return value

    @model_validator(mode="after")
    def _endpoint(self) -> ClusterConfig:
        # Both keys may be absent, so this is a check of the section (reported at
        # ballast:cluster), not of one field.
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ValueError(
                "has endpointPublicAccess: true but no publicAccessCidrs: list the networks "
                "allowed to reach the public endpoint (never 0.0.0.0/0)"
            )
        if self.public_access_cidrs and not self.endpoint_public_access:
            raise ValueError(
                "has publicAccessCidrs but endpointPublicAccess is false: set "
                "endpointPublicAccess: true, or remove the list"
            )
        return self
