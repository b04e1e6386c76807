"""`PlatformConfig`, the whole of one stack file's `ballast:*` keys, and parsing it: from
the flat, string-valued config the Pulumi CLI hands a program to a validated config or a
`ConfigError` listing every problem at once."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from components.aws_catalog import region_problem
from components.config.base import (
    ENVIRONMENTS,
    NAMESPACE,
    SECRET_FIELDS,
    SECRET_KEYS,
    TIERS,
    ConfigError,
    _context,
    _Section,
)
from components.config.cluster import KUBERNETES_NAMESPACES, PLATFORM_NAMESPACES, ClusterConfig
from components.config.cluster_stack import ClusterStackConfig
from components.config.data import BackupConfig, DatabaseConfig, FaultInjectionConfig
from components.config.errors import describe_errors
from components.config.gitops import GitOpsConfig
from components.config.ingress import IngressConfig
from components.config.network import DrNetworkConfig, NetworkConfig
from components.config.observability import ObservabilityConfig
from components.config.registry import RegistryConfig
from components.config.runner import RunnerConfig
from components.config.security import AuditConfig, BoundaryConfig, CiConfig, OrgGuardrailsConfig
from components.config.services import ServiceConfig
from components.config.vault import VaultConfig
from components.names import PhysicalNames, base_problems, prefix_problem
from components.tags import RESERVED_TAG_KEYS

_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")


class PlatformConfig(_Section):
    """Everything one environment's stack file says, typed and validated."""

    environment: Literal["dev", "staging", "prod"] = Field(
        description="Which environment this stack is; prod turns on the strict rules."
    )
    stack_kind: Literal["platform", "organization", "cluster"] = Field(
        default="platform",
        description="'platform': one environment's platform (AWS APIs only). "
        "'organization': the management account's own stack, which manages only the "
        "service control policies of ballast:orgGuardrails. 'cluster': an environment's "
        "in-cluster layer, whose keys are listed under Cluster stacks.",
    )
    owner: str = Field(description="Owning team, written to the `owner` tag everywhere.")
    name_prefix: str | None = Field(
        default=None,
        description="Start of every physical name: resources are named "
        "<namePrefix>-<stack>-... (unset: the Pulumi project name, so the shipped stacks "
        "dev, staging and prod make ballast-dev-..., ballast-staging-..., "
        "ballast-prod-...). Lowercase letters, digits and single hyphens, starting with a "
        "letter; with the stack name short enough for S3's 63-character bucket names "
        "(the audit buckets add -audit-access-logs-<account>-<region>). Two stacks of one "
        "environment in one account never share a name, since the stack name differs. "
        "Changing it renames, and so replaces, every named resource.",
    )
    account_id: str | None = Field(
        default=None,
        description="12-digit AWS account this stack may deploy to (unset: any). Set it: "
        "the providers then refuse credentials for any other account.",
    )
    primary_region: str = Field(description="AWS region of the platform, e.g. eu-west-1.")
    dr_region: str | None = Field(
        default=None,
        description="Disaster-recovery region (required in prod): database replica and "
        "backup copies live there. Must differ from primaryRegion.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Extra tags for every resource; cannot override "
        + ", ".join(RESERVED_TAG_KEYS)
        + ".",
    )
    network: NetworkConfig | None = Field(
        default=None,
        description="The VPC every other component sits on; a platform stack must set it.",
    )
    dr_network: DrNetworkConfig | None = Field(
        default=None,
        description="The smaller VPC in drRegion for the database replica; required with "
        "database.replica, and needs drRegion.",
    )
    services: tuple[ServiceConfig, ...] = Field(
        default=(), description="Workloads the platform hosts, with tiers and SLOs."
    )
    database: DatabaseConfig | None = Field(
        default=None,
        description="The PostgreSQL database, its tier and its DR shape. In prod its tier "
        "must be at least as strict as the strictest service's: a service cannot recover "
        "faster than its data.",
    )
    backup: BackupConfig = Field(
        default_factory=BackupConfig,
        description="AWS Backup vaults, daily plans per tier and DR copies.",
    )
    fault_injection: FaultInjectionConfig = Field(
        default_factory=FaultInjectionConfig,
        description="AWS FIS experiment templates.",
    )
    alert_webhook_url: str | None = Field(
        default=None,
        description="HTTPS endpoint of the pager that page-severity alarms (the database "
        "primary's heartbeat) page (unset: the page topics have no subscriber and page "
        "nobody). Subscribed over https to the page topic of every region with alarms; "
        "the endpoint must confirm the SNS "
        "subscription on its own (PagerDuty or Opsgenie SNS/CloudWatch integrations do, "
        "a Slack incoming webhook does not). Must be a Pulumi secret "
        "(`pulumi config set --secret alertWebhookUrl ...`).",
    )
    alert_ticket_webhook_url: str | None = Field(
        default=None,
        description="HTTPS endpoint of the ticket system that ticket-severity alarms "
        "(the database replica's lag) notify (unset: the ticket topics have no "
        "subscriber). Subscribed over https to the ticket topic of every region with "
        "alarms; like alertWebhookUrl it must confirm the SNS subscription on its own and "
        "must be a Pulumi secret (`pulumi config set --secret alertTicketWebhookUrl ...`).",
    )
    ci: CiConfig | None = Field(
        default=None,
        description="Keyless CI from GitHub Actions. Unset: no CI roles, so pipelines "
        "would need other credentials.",
    )
    audit: AuditConfig = Field(
        default_factory=AuditConfig,
        description="CloudTrail, GuardDuty and findings routing.",
    )
    boundary: BoundaryConfig = Field(
        default_factory=BoundaryConfig,
        description="The permission boundary of every platform role.",
    )
    org_guardrails: OrgGuardrailsConfig | None = Field(
        default=None,
        description="Service control policies; only in a stack with stackKind "
        "'organization', run from the management account, which must set it.",
    )
    cluster: ClusterConfig | None = Field(
        default=None,
        description="The EKS cluster. Unset: no cluster.",
    )
    ingress: IngressConfig | None = Field(
        default=None,
        description="The Pulumi-owned public and internal ALBs (HTTPS, WAF, access logs) "
        "and the AWS Load Balancer Controller that binds services to them "
        "(docs/ingress.md). Needs ballast:cluster. Unset: no load balancers.",
    )
    vault: VaultConfig | None = Field(
        default=None,
        description="Vault on the cluster (docs/vault.md): HA with integrated Raft "
        "storage, auto-unsealed with a KMS key of its own, its UI on the internal ALB "
        "when there is one. Needs ballast:cluster. Unset: no Vault.",
    )
    gitops: GitOpsConfig | None = Field(
        default=None,
        description="Argo CD, the environment's AppProject and App-of-Apps, and the "
        "image-signature policy, installed by the cluster stack (docs/gitops.md). Needs "
        "ballast:cluster. Unset: no GitOps.",
    )
    observability: ObservabilityConfig | None = Field(
        default=None,
        description="Prometheus, Alertmanager, node-exporter and kube-state-metrics "
        "(kube-prometheus-stack), the SLO and platform alert rules and the on-call "
        "receivers, installed by the cluster stack, and the retention, servers and "
        "volumes of Loki and Tempo (docs/observability.md). Needs ballast:cluster. Unset: "
        "no metrics or alerting in the cluster; logs and traces are still kept, with the "
        "defaults of logs and traces (their S3 buckets and IRSA roles are made whenever "
        "there is a cluster).",
    )
    runner: RunnerConfig | None = Field(
        default=None,
        description="The in-VPC CI runner (a CodeBuild-hosted GitHub Actions runner in the "
        "private subnets) for the jobs that need the cluster's private endpoint: the "
        "cluster stack's preview and up (docs/runner.md). Needs ballast:ci (its "
        "repository). Unset: no runner, so the cluster stack must run from elsewhere in "
        "the VPC.",
    )

    registry: RegistryConfig | None = Field(
        default=None,
        description="ECR repositories for the services' images, each with a push role "
        "trusted through GitHub OIDC (docs/delivery.md). Needs ballast:ci. Unset: no "
        "registry in this stack.",
    )

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not value or len(value) > 256 or not _TAG_TEXT.fullmatch(value):
            raise ValueError(
                "must be a team name of 1-256 letters, digits, spaces or . : / = + - @ _ "
                f"(got {value!r})"
            )
        return value

    def physical_names(self, project: str, stack: str) -> PhysicalNames:
        """How stack `stack` of project `project` names its resources:
        `<namePrefix>-<stack>`, the prefix defaulting to the project name."""
        return PhysicalNames(prefix=self.name_prefix or project, stack=stack)

    @field_validator("name_prefix")
    @classmethod
    def _name_prefix(cls, value: str | None) -> str | None:
        problem = None if value is None else prefix_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("primary_region", "dr_region")
    @classmethod
    def _region(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        problem = region_problem(value)
        if problem is not None:
            raise ValueError(problem)
        if info.field_name == "dr_region" and value == info.data.get("primary_region"):
            raise ValueError(
                f"must differ from primaryRegion: a DR copy in the same region shares its "
                f"failures (got {value})"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if key in RESERVED_TAG_KEYS:
                raise ValueError(
                    f"must not set {key!r}: Ballast sets {', '.join(RESERVED_TAG_KEYS)} itself"
                )
            if key.lower().startswith("aws:") or not 1 <= len(key) <= 128:
                raise ValueError(
                    f"has an invalid tag key {key!r}: 1-128 characters, not starting with 'aws:'"
                )
            if len(text) > 256 or not _TAG_TEXT.fullmatch(text):
                raise ValueError(
                    f"has an invalid value for {key!r}: at most 256 letters, digits, spaces "
                    "or . : / = + - @ _"
                )
        return value

    @field_validator("database")
    @classmethod
    def _database_serves_its_services(cls, value: DatabaseConfig | None, info: ValidationInfo):
        """In prod, a service cannot recover faster than its data: the database's tier must
        be at least as strict as the strictest service's."""
        services = info.data.get("services") or ()
        if value is None or not services or _context(info, "environment") != "prod":
            return value
        strictest = min(services, key=lambda s: TIERS.index(s.tier))
        if TIERS.index(value.tier) > TIERS.index(strictest.tier):
            raise ValueError(
                f"tier must be at least {strictest.tier} in prod, the tier of service "
                f"{strictest.name}: a service cannot recover faster than its data "
                f"(got {value.tier})"
            )
        return value

    @field_validator("dr_network")
    @classmethod
    def _dr_network(cls, value: DrNetworkConfig | None, info: ValidationInfo):
        if value is None:
            return value
        if not _context(info, "dr_region"):
            raise ValueError(
                "needs ballast:drRegion: this VPC is created in the disaster-recovery region"
            )
        primary = info.data.get("network")
        if primary is not None:
            mine, theirs = ipaddress.ip_network(value.cidr), ipaddress.ip_network(primary.cidr)
            if mine.overlaps(theirs):
                raise ValueError(
                    f"must not overlap ballast:network.cidr {primary.cidr}: the two VPCs "
                    f"are peered or routed to each other after a failover (got {value.cidr})"
                )
        return value

    @field_validator("services")
    @classmethod
    def _unique_services(cls, value: tuple[ServiceConfig, ...]):
        names = [s.name for s in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"must name each service once (repeated: {', '.join(dupes)})")
        return value

    @field_validator("services")
    @classmethod
    def _service_namespaces(cls, value: tuple[ServiceConfig, ...]):
        reserved = (*KUBERNETES_NAMESPACES, *PLATFORM_NAMESPACES)
        for service in value:
            namespace = service.namespace or service.name
            if namespace in reserved:
                raise ValueError(
                    f"must not put service {service.name!r} in namespace {namespace!r}: "
                    f"{', '.join(reserved)} belong to Kubernetes and the platform add-ons"
                )
        return value

    @field_validator("services")
    @classmethod
    def _one_budget_per_namespace(cls, value: tuple[ServiceConfig, ...]):
        for namespace in sorted({s.namespace or s.name for s in value}):
            members = [s for s in value if (s.namespace or s.name) == namespace]
            budgets = [s.name for s in members if s.budget is not None]
            if len(budgets) > 1:
                raise ValueError(
                    f"must set at most one budget per namespace: services "
                    f"{', '.join(budgets)} share namespace {namespace!r}"
                )
            tier = min(s.tier for s in members)  # tier-1 < tier-2 < tier-3
            for service in members:
                if service.budget is not None and service.tier != tier:
                    raise ValueError(
                        f"must set the budget of namespace {namespace!r} on a {tier} "
                        f"service: the namespace takes the most critical tier of its "
                        f"services, and service {service.name!r} is {service.tier}"
                    )
        return value

    @field_validator("services")
    @classmethod
    def _unique_routes(cls, value: tuple[ServiceConfig, ...]):
        seen: dict[tuple[str, str], str] = {}
        for service in value:
            route = service.ingress
            if route is None:
                continue
            key = (route.host, route.path)
            if key in seen:
                raise ValueError(
                    f"must route each host and path once: services {seen[key]!r} and "
                    f"{service.name!r} both claim {route.host}{route.path}"
                )
            seen[key] = service.name
        return value

    @field_validator("ingress")
    @classmethod
    def _ingress_needs_cluster(cls, value: IngressConfig | None, info: ValidationInfo):
        if value is not None and _context(info, "has_cluster") is False:
            raise ValueError(
                "needs ballast:cluster: the load balancers send to pods of the cluster, "
                "through target groups its controller fills"
            )
        return value

    @field_validator("vault")
    @classmethod
    def _vault_needs_cluster(cls, value: VaultConfig | None, info: ValidationInfo):
        if value is not None and _context(info, "has_cluster") is False:
            raise ValueError("needs ballast:cluster: Vault runs on the cluster's nodes")
        return value

    @field_validator("cluster")
    @classmethod
    def _cluster_admins(cls, value: ClusterConfig | None, info: ValidationInfo):
        if (
            value is not None
            and not value.admin_principal_arns
            and value.bootstrap_admin_arn is None
            and info.data.get("ci") is None
        ):
            raise ValueError(
                "needs adminPrincipalArns or bootstrapAdminArn when ballast:ci is not set: "
                "access entries are the only way in (the cluster's creator gets no implicit "
                "admin), so nothing could deploy the cluster layer"
            )
        return value

    @field_validator("gitops")
    @classmethod
    def _gitops_needs(cls, value: GitOpsConfig | None, info: ValidationInfo):
        if value is None:
            return value
        if _context(info, "has_cluster") is False:
            raise ValueError("needs ballast:cluster: Argo CD runs on the environment's cluster")
        if info.data.get("ci") is None and (
            value.repo_url is None or value.signing.repository is None
        ):
            raise ValueError(
                "needs repoUrl and signing.repository when ballast:ci is not set: both "
                "default to ballast:ci.repository"
            )
        return value

    @field_validator("observability")
    @classmethod
    def _observability_needs_cluster(
        cls, value: ObservabilityConfig | None, info: ValidationInfo
    ) -> ObservabilityConfig | None:
        if value is not None and _context(info, "has_cluster") is False:
            raise ValueError(
                "needs ballast:cluster: Prometheus and Alertmanager run on the "
                "environment's cluster"
            )
        if value is not None and value.runbook_base_url is None and info.data.get("gitops") is None:
            raise ValueError(
                "needs runbookBaseUrl when ballast:gitops is not set: the alerts link to "
                "the runbooks of the gitops repository by default"
            )
        return value

    @field_validator("runner")
    @classmethod
    def _runner_needs_ci(cls, value: RunnerConfig | None, info: ValidationInfo):
        if value is not None and info.data.get("ci") is None:
            raise ValueError(
                "needs ballast:ci: the runner takes the jobs of ci.repository, which then "
                "assume the CI roles through GitHub OIDC"
            )
        return value

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: RegistryConfig | None, info: ValidationInfo):
        if value is None:
            return value
        if info.data.get("ci") is None:
            raise ValueError(
                "needs ballast:ci: the push roles trust the workflows of ci.repository "
                "through GitHub OIDC"
            )
        services = {s.name for s in info.data.get("services") or []}
        unknown = [name for name in value.repositories or [] if name not in services]
        if unknown:
            raise ValueError(
                f"repositories {', '.join(unknown)} name no service of ballast:services "
                f"(services: {', '.join(sorted(services)) or 'none'})"
            )
        return value

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"must be a 12-digit AWS account ID (got {value!r})")
        return value


# --- parsing -------------------------------------------------------------------------


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects and lists are JSON-encoded (as the CLI does)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


#: Keys only a platform stack uses; an organization stack manages nothing but SCPs.
PLATFORM_ONLY_KEYS = (
    "network",
    "services",
    "ci",
    "audit",
    "boundary",
    "drRegion",
    "cluster",
    "drNetwork",
    "database",
    "backup",
    "faultInjection",
    "runner",
    "ingress",
    "registry",
    "vault",
    "gitops",
    "observability",
)
#: Keys only an organization stack uses (and needs).
ORGANIZATION_ONLY_KEYS = ("orgGuardrails",)


def _stack_kind_problems(data: Mapping[str, Any], environment: str | None) -> list[str]:
    """Which keys a stack needs or must not have depends on its kind."""
    kind = data.get("stackKind", "platform")
    problems: list[str] = []
    if kind == "organization":
        if "orgGuardrails" not in data:
            problems.append(
                f"{NAMESPACE}:orgGuardrails is required in an organization stack: the OUs "
                "(targetIds) the service control policies attach to and the allowedRegions"
            )
        problems.extend(
            f"{NAMESPACE}:{key} is not used by an organization stack, which manages only "
            "the service control policies; remove it"
            for key in PLATFORM_ONLY_KEYS
            if key in data
        )
        return problems
    if kind != "platform":
        return problems  # the literal check has reported it
    if "network" not in data:
        field = PlatformConfig.model_fields["network"]
        problems.append(f"{NAMESPACE}:network is required: {field.description}")
    problems.extend(
        f"{NAMESPACE}:{key} is only used by an organization stack "
        f"({NAMESPACE}:stackKind: organization), which runs from the management "
        "account; remove it here"
        for key in ORGANIZATION_ONLY_KEYS
        if key in data
    )
    if environment == "prod" and data.get("drRegion") is None:
        problems.append(
            f"{NAMESPACE}:drRegion is required in prod: the database replica and backup "
            "copies need a second region"
        )
    return problems


#: What a stack file can describe: an environment's platform (or the organization's
#: guardrails), or an environment's cluster layer.
StackConfig = PlatformConfig | ClusterStackConfig


def _ballast_keys(
    raw: Mapping[str, Any], secret_keys: Iterable[str], problems: list[str]
) -> dict[str, Any]:
    """The `ballast:` keys of flat stack config, decoded; a secret-only key given in
    clear text is reported, never kept."""
    secret = set(secret_keys)
    data: dict[str, Any] = {}
    for qualified, value in raw.items():
        namespace, _, key = qualified.partition(":")
        if namespace != NAMESPACE:
            continue
        if key in SECRET_KEYS and qualified not in secret:
            problems.append(
                f"{qualified} must be a Pulumi secret: set it with "
                f"`pulumi config set --secret {key} <value>` so it is never stored in "
                "clear text"
            )
            continue
        decoded = _decode(value)
        field = SECRET_FIELDS.get(key)
        if (
            field is not None
            and isinstance(decoded, Mapping)
            and decoded.get(field) is not None
            and qualified not in secret
        ):
            problems.append(
                f"{qualified}.{field} must be a Pulumi secret: set each of its keys with "
                f"`pulumi config set --secret --path '{qualified}.{field}.<key>' <value>` "
                "so it is never stored in clear text"
            )
            decoded = {k: v for k, v in decoded.items() if k != field}
        data[key] = decoded
    return data


def parse_stack_config(
    raw: Mapping[str, Any],
    *,
    secret_keys: Iterable[str] = (),
    source: str = "stack config",
    stack: str | None = None,
    project: str | None = None,
) -> StackConfig:
    """Build the config of any stack kind from flat stack config or raise `ConfigError`:
    a `ClusterStackConfig` when `ballast:stackKind` is `cluster`, else a `PlatformConfig`
    (see `parse_platform_config` for `raw`, `secret_keys`, `source`, `project` and
    `stack`). `stack` is this stack's name, when known (a cluster stack must not
    reference itself)."""
    if raw.get(f"{NAMESPACE}:stackKind") == "cluster":
        return parse_cluster_stack_config(raw, secret_keys=secret_keys, source=source, stack=stack)
    return parse_platform_config(
        raw, secret_keys=secret_keys, source=source, project=project, stack=stack
    )


#: The keys a cluster stack may set; every other key of a platform stack belongs there.
CLUSTER_STACK_KEYS = tuple(
    field.alias or name for name, field in ClusterStackConfig.model_fields.items()
)


def parse_cluster_stack_config(
    raw: Mapping[str, Any],
    *,
    secret_keys: Iterable[str] = (),
    source: str = "stack config",
    stack: str | None = None,
) -> ClusterStackConfig:
    """Build a `ClusterStackConfig` or raise `ConfigError` listing every problem. A key
    of the platform stack is refused with where it belongs instead: the cluster layer
    reads the platform's settings from that stack's outputs."""
    problems: list[str] = []
    # A platform stack's secret keys are reported below as belonging there, not as plain.
    platform_secrets = (f"{NAMESPACE}:{k}" for k in SECRET_KEYS if k not in CLUSTER_STACK_KEYS)
    data = _ballast_keys(raw, (*secret_keys, *platform_secrets), problems)
    platform_keys = {
        field.alias or name for name, field in PlatformConfig.model_fields.items()
    } - set(CLUSTER_STACK_KEYS)
    problems.extend(
        f"{NAMESPACE}:{key} belongs to the platform stack (the one ballast:platformStack "
        "names), whose outputs this cluster stack reads; remove it here"
        for key in sorted(data)
        if key in platform_keys
    )
    own = {k: v for k, v in data.items() if k not in platform_keys}
    config: ClusterStackConfig | None = None
    try:
        config = ClusterStackConfig.model_validate(own, context={"stack": stack})
    except ValidationError as exc:
        problems.extend(describe_errors(ClusterStackConfig, exc.errors(include_url=False)))
    if problems or config is None:
        raise ConfigError([f"{source}: {p}" for p in sorted(problems)])
    return config


def parse_platform_config(
    raw: Mapping[str, Any],
    *,
    secret_keys: Iterable[str] = (),
    source: str = "stack config",
    project: str | None = None,
    stack: str | None = None,
) -> PlatformConfig:
    """Build a `PlatformConfig` from flat stack config or raise `ConfigError`.

    `raw` maps qualified keys (`ballast:network`, `aws:region`, ...) to values as the
    Pulumi CLI hands them to a program: strings, with maps and lists JSON-encoded.
    `secret_keys` lists the qualified keys that hold Pulumi secrets. `source` prefixes
    every message (the stack file, e.g. `stacks/Pulumi.prod.yaml`). With `project` and
    `stack` (the Pulumi project and stack names) the physical names they make with
    `ballast:namePrefix` are checked too (`components.names.base_problems`).
    """
    problems: list[str] = []
    data = _ballast_keys(raw, secret_keys, problems)

    environment = data.get("environment")
    known_environment = environment if environment in ENVIRONMENTS else None
    context = {
        "environment": known_environment,
        "primary_region": data.get("primaryRegion")
        if isinstance(data.get("primaryRegion"), str)
        else None,
        "dr_region": data.get("drRegion") if isinstance(data.get("drRegion"), str) else None,
        "has_dr_network": data.get("drNetwork") is not None,
        "has_ingress": data.get("ingress") is not None,
        "has_cluster": data.get("cluster") is not None,
        "has_vault": data.get("vault") is not None,
        "has_database": data.get("database") is not None,
        "ingress_zone": _ingress_zone(data.get("ingress")),
    }
    config: PlatformConfig | None = None
    try:
        config = PlatformConfig.model_validate(data, context=context)
    except ValidationError as exc:
        problems.extend(describe_errors(PlatformConfig, exc.errors(include_url=False)))

    problems.extend(_stack_kind_problems(data, known_environment))
    if config is not None and project is not None and stack is not None:
        # Only a platform stack makes the audit buckets, the longest names.
        regions = (
            (config.primary_region, *((config.dr_region,) if config.dr_region else ()))
            if config.stack_kind == "platform"
            else ()
        )
        problems.extend(
            base_problems(
                config.physical_names(project, stack),
                regions=regions,
                prefix_key=f"{NAMESPACE}:namePrefix",
                prefix_is_default=config.name_prefix is None,
            )
        )
    if problems or config is None:
        # Sorted by key path, so related problems sit together and the order is stable.
        raise ConfigError([f"{source}: {p}" for p in sorted(problems)])
    return config


def _ingress_zone(section: Any) -> str | None:
    """The ingress zone's name, when the section gives one as a string (hosts are checked
    against it while the services are validated)."""
    zone = section.get("hostedZoneName") if isinstance(section, Mapping) else None
    return zone if isinstance(zone, str) else None


def stack_file_label(stack: str) -> str:
    """How messages name a stack's file (the project sets `stackConfigDir: stacks`)."""
    return f"stacks/Pulumi.{stack}.yaml"


def load_from_pulumi_runtime() -> StackConfig:
    """Read this program's config from the Pulumi runtime (real CLI or mock engine).

    The CLI hands config to the language host as `PULUMI_CONFIG` (and secret key names
    as `PULUMI_CONFIG_SECRET_KEYS`); the mock engine and the Automation API call
    `set_all_config`. Both are read so every key, known or not, is validated.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys.update(runtime_config._SECRET_KEYS.get())  # private: the SDK has no getter
    stack = pulumi.get_stack()
    return parse_stack_config(
        raw,
        secret_keys=secret_keys,
        source=stack_file_label(stack),
        stack=stack,
        project=pulumi.get_project(),
    )
