"""`Platform`: composes one environment from its validated config. It owns nothing but
the per-region AWS providers; every resource belongs to a component.

Order matters: `Identity` (the permission boundary and the role factory) and
`AuditTrail` come first, so every later component gets the role factory as an argument
and everything it does is recorded from the first resource on.

`Organization` is the management account's own stack, which manages only the service
control policies (`ballast:stackKind: organization`).

`ClusterLayer` composes an environment's cluster stack (`ballast:stackKind: cluster`):
everything in Kubernetes, built on what its platform stack exports (docs/layers.md).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi.runtime.sync_await import _sync_await

from components.alerting import Alerting, AlertingArgs
from components.audit_trail import AuditTrail, AuditTrailArgs
from components.cluster import Cluster, ClusterArgs
from components.cluster.addons import (
    alloy,
    argocd,
    argocd_alerts,
    autoscaler,
    kube_prometheus_stack,
    load_balancer_controller,
    loki,
    nvidia_device_plugin,
    otel_collector,
    policy_controller,
    scrape_targets,
    secrets_store_csi_driver,
    tempo,
    vault_config,
)
from components.cluster.addons import grafana as grafana_addon
from components.cluster.addons import vault as vault_addon
from components.cluster.baseline import ClusterBaseline, ClusterBaselineArgs
from components.cluster.control_plane import kubeconfig
from components.cluster.scope import (
    ClusterFacts,
    GrafanaFacts,
    InClusterScope,
    TelemetryFacts,
    VaultFacts,
)
from components.config import (
    TIER_OBJECTIVES,
    ClusterStackConfig,
    GitOpsSettings,
    NetworkConfig,
    ObservabilityConfig,
    ObservabilitySettings,
    PlatformConfig,
    ServiceConfig,
    VaultAdminJwtConfig,
    VaultConfig,
)
from components.context import AwsContext
from components.database import Database, DatabaseArgs, ReplicaArgs
from components.grafana import Grafana, GrafanaArgs
from components.iam import RoleFactory
from components.identity import Identity, IdentityArgs
from components.ingress import Ingress, IngressArgs
from components.names import PhysicalNames
from components.network import Network, NetworkArgs, plan_subnets
from components.observability import Observability, ObservabilityArgs
from components.org_guardrails import OrgGuardrails, OrgGuardrailsArgs
from components.outputs import stack_outputs
from components.registry import Registry, RegistryArgs
from components.resilience import Resilience, ResilienceArgs
from components.runner import CiRunner, CiRunnerArgs
from components.tags import FAULT_INJECTION_TAG, FAULT_INJECTION_TAG_VALUE
from components.telemetry_storage import TelemetryStorage, TelemetryStorageArgs
from components.vault import Vault, VaultArgs
from components.vault_aws import AwsSecretsEngineRoles, AwsSecretsEngineRolesArgs

MANAGED_BY = "pulumi"
#: `service` and `tier` tags of the security baseline's resources.
SECURITY_TAGS = {"service": "security", "tier": "tier-1"}
NETWORK_TAGS = {"service": "network", "tier": "tier-1"}
ROLE_TYPE = "aws:iam/role:Role"
#: What Grafana reads, in the cluster: Prometheus (kube-prometheus-stack), Loki and Tempo
#: at the query addresses their add-on modules name.
GRAFANA_DATASOURCES = grafana_addon.Datasources(
    prometheus_url=kube_prometheus_stack.query_url(),
    loki_url=loki.query_url(),
    tempo_url=tempo.query_url(),
)
#: Grafana's address without an internal ALB: `kubectl -n observability port-forward
#: svc/grafana 3000`.
GRAFANA_PORT_FORWARD_URL = f"http://localhost:{grafana_addon.PORT}"
#: The internal ALB route Grafana is reached through (the alerts' dashboard links).
GRAFANA_ROUTE = "grafana"


def default_tags(config: PlatformConfig, project: str) -> dict[str, str]:
    """Tags every AWS resource of the environment carries, through the providers."""
    return {
        **config.tags,
        "environment": config.environment,
        "project": project,
        "owner": config.owner,
        "managed-by": MANAGED_BY,
    }


class BoundaryGuard:
    """A transformation on `Platform`: any IAM role registered beneath it without a
    permission boundary gets the platform's, with a warning.

    Ballast's own components create roles only through `RoleFactory`; this catches a role
    created directly (a forked component, a third-party Python component) before it
    reaches AWS. A role created before the boundary exists is refused outright.
    """

    def __init__(self) -> None:
        self.boundary_arn: pulumi.Input[str] | None = None

    def __call__(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != ROLE_TYPE or args.props.get("permissions_boundary") is not None:
            return None
        if self.boundary_arn is None:
            raise pulumi.RunError(
                f"IAM role {args.name} is created before the permission boundary exists; "
                "create roles with Identity's RoleFactory"
            )
        pulumi.log.warn(
            f"IAM role {args.name} was created without the RoleFactory; the platform's "
            "permission boundary was added to it",
            resource=args.resource,
        )
        props: dict[str, Any] = {**args.props, "permissions_boundary": self.boundary_arn}
        return pulumi.ResourceTransformationResult(props, args.opts)


class Platform(pulumi.ComponentResource):
    """One environment: per-region providers, then the components in dependency order.

    Attributes: `primary_provider`, `dr_provider` (None without a DR region), `identity`,
    `audit_trail`, `network`, `registry` (None without `ballast:registry`), `cluster`
    (None without `ballast:cluster`), `ingress` (None without `ballast:ingress` or a
    cluster), `vault` and `vault_aws` (None without `ballast:vault`), `grafana` (None
    without a cluster), `telemetry` (the log and trace stores; None without a cluster),
    `observability` (the resolved `ballast:observability`; None without it), `dr_network`
    (None without
    `ballast:drNetwork`), `alerting` (the alert topics), `database` (None without
    `ballast:database`), `resilience`.
    """

    def __init__(
        self,
        name: str,
        config: PlatformConfig,
        opts: pulumi.ResourceOptions | None = None,
        *,
        names: PhysicalNames,
    ) -> None:
        """`names` is how this stack names its resources (`config.physical_names`);
        `name`, the component's own, is `names.base` in `__main__.py`, so every child's
        name starts with it."""
        guard = BoundaryGuard()
        super().__init__(
            "ballast:components:Platform",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[guard])),
        )
        if config.network is None:
            raise ValueError("a platform stack needs ballast:network")
        self.config = config
        tags = default_tags(config, pulumi.get_project())

        self.primary_provider = self._aws_provider(
            f"{name}-aws-primary", config.primary_region, tags
        )
        self.dr_provider = (
            self._aws_provider(f"{name}-aws-dr", config.dr_region, tags)
            if config.dr_region
            else None
        )
        in_primary = pulumi.ResourceOptions(parent=self, provider=self.primary_provider)
        #: One account and partition lookup for the whole environment.
        self.context = AwsContext.lookup(
            environment=config.environment,
            names=names,
            region=config.primary_region,
            provider=self.primary_provider,
            parent=self,
            protect=config.environment == "prod",
        )
        self.dr_context = (
            self.context.in_region(config.dr_region, self.dr_provider)
            if config.dr_region and self.dr_provider is not None
            else None
        )
        regions = [config.primary_region] + ([config.dr_region] if config.dr_region else [])
        prod = config.environment == "prod"

        self.identity = Identity(
            f"{name}-iam",
            IdentityArgs(
                context=self.context.with_tags(SECURITY_TAGS),
                regions=regions,
                boundary=config.boundary,
                ci=config.ci,
                state_project=pulumi.get_project(),
                state_stack=pulumi.get_stack(),
                security_principal_arns=config.audit.security_principal_arns,
            ),
            opts=in_primary,
        )
        guard.boundary_arn = self.identity.boundary_arn
        roles = self.identity.roles

        self.audit_trail = AuditTrail(
            f"{name}-audit",
            AuditTrailArgs(
                context=self.context.with_tags(SECURITY_TAGS),
                dr_context=self.dr_context,
                roles=roles,
                settings=config.audit,
                security_role_arn=self.identity.security_role_arn,
                security_role_name=self.identity.security_role_name,
                bucket_prefix=self.identity.audit_bucket_prefix,
            ),
            opts=in_primary,
        )

        self.network = Network(
            f"{name}-net",
            NetworkArgs(
                context=self.context.with_tags(NETWORK_TAGS), roles=roles, settings=config.network
            ),
            opts=in_primary,
        )

        self.runner: CiRunner | None = None
        if config.runner is not None and config.ci is not None:
            self.runner = CiRunner(
                f"{name}-runner",
                CiRunnerArgs(
                    context=self.context.with_tags({"service": "ci", "tier": "tier-2"}),
                    roles=roles,
                    settings=config.runner,
                    repository=config.ci.repository,
                    vpc_id=self.network.vpc_id,
                    subnet_ids=self.network.private_subnet_ids,
                ),
                opts=in_primary,
            )

        self.registry: Registry | None = None
        ci, oidc_provider = config.ci, self.identity.github_oidc_provider_arn
        if config.registry is not None and ci is not None and oidc_provider is not None:
            self.registry = Registry(
                f"{name}-images",
                RegistryArgs(
                    context=self.context.with_tags({"service": "ci", "tier": "tier-2"}),
                    roles=roles,
                    settings=config.registry,
                    services=config.registry.repositories or [s.name for s in config.services],
                    repository=ci.repository,
                    push_environment=(
                        config.registry.push_environment or ci.environment or config.environment
                    ),
                    github_oidc_provider_arn=oidc_provider,
                ),
                opts=in_primary,
            )

        self.cluster: Cluster | None = None
        if config.cluster is not None:
            cluster_tags = {"service": "kubernetes", "tier": "tier-1"}
            self.cluster = Cluster(
                f"{name}-eks",
                ClusterArgs(
                    context=self.context.with_tags(cluster_tags),
                    roles=roles,
                    settings=config.cluster,
                    private_subnet_ids=self.network.private_subnet_ids,
                    availability_zones=self.network.availability_zones,
                    deployer_principal_arn=self.identity.ci_apply_role_arn,
                    planner_principal_arn=self.identity.ci_plan_role_arn,
                    # The runner runs the cluster stack, so it reaches the private API.
                    api_client_security_group_ids=(
                        [self.runner.security_group_id] if self.runner is not None else []
                    ),
                    # Nodes are cattle: the FIS node experiment may terminate them.
                    instance_tags={
                        **tags,
                        **cluster_tags,
                        FAULT_INJECTION_TAG: FAULT_INJECTION_TAG_VALUE,
                    },
                ),
                opts=in_primary,
            )

        self.ingress: Ingress | None = None
        if config.ingress is not None and self.cluster is not None:
            self.ingress = Ingress(
                f"{name}-ingress",
                IngressArgs(
                    context=self.context.with_tags({"service": "ingress", "tier": "tier-1"}),
                    roles=roles,
                    settings=config.ingress,
                    services=config.services,
                    vpc_id=self.network.vpc_id,
                    vpc_cidr=config.network.cidr,
                    public_subnet_ids=self.network.public_subnet_ids,
                    private_subnet_ids=self.network.private_subnet_ids,
                    availability_zones=self.network.availability_zones,
                    cluster_name=self.cluster.cluster_name,
                    cluster_security_group_id=self.cluster.cluster_security_group_id,
                    oidc_provider_arn=self.cluster.oidc_provider_arn,
                    oidc_issuer_url=self.cluster.oidc_issuer_url,
                    controller_namespace=load_balancer_controller.NAMESPACE,
                    controller_service_account=load_balancer_controller.SERVICE_ACCOUNT,
                ),
                opts=in_primary,
            )

        self.vault: Vault | None = None
        self.vault_aws: AwsSecretsEngineRoles | None = None
        if config.vault is not None and self.cluster is not None:
            self.vault = self._vault(name, config.vault, roles, self.cluster)
            self.vault_aws = AwsSecretsEngineRoles(
                f"{name}-vault-aws",
                AwsSecretsEngineRolesArgs(
                    context=self.context.with_tags({"service": "vault", "tier": "tier-1"}),
                    roles=roles,
                    services=config.services,
                    oidc_provider_arn=self.cluster.oidc_provider_arn,
                    oidc_issuer_url=self.cluster.oidc_issuer_url,
                    namespace=vault_addon.NAMESPACE,
                    service_account=vault_addon.SERVICE_ACCOUNT,
                ),
                opts=in_primary,
            )
        self.telemetry: TelemetryStorage | None = None
        if self.cluster is not None:
            self.telemetry = TelemetryStorage(
                f"{name}-telemetry",
                TelemetryStorageArgs(
                    context=self.context.with_tags({"service": "observability", "tier": "tier-1"}),
                    roles=roles,
                    settings=config.observability or ObservabilityConfig(),
                    oidc_provider_arn=self.cluster.oidc_provider_arn,
                    oidc_issuer_url=self.cluster.oidc_issuer_url,
                    loki_service_account=(loki.NAMESPACE, loki.SERVICE_ACCOUNT),
                    tempo_service_account=(tempo.NAMESPACE, tempo.SERVICE_ACCOUNT),
                ),
                opts=in_primary,
            )
        self.gitops = self._gitops(config)
        self.grafana: Grafana | None = None
        if self.cluster is not None:
            self.grafana = self._grafana(name)
        self.observability = self._observability(config)

        self._data_and_recovery(name, config, roles, prod)

        self.register_outputs(
            {
                "vpcId": self.network.vpc_id,
                "boundaryArn": self.identity.boundary_arn,
                "trailArn": self.audit_trail.trail_arn,
                "findingsTopicArn": self.audit_trail.findings_topic_arn,
            }
        )

    def stack_outputs(self) -> dict[str, Any]:
        """Every stack output of the environment: where it is, then each component's
        (`STACK_OUTPUTS`), absent ones as null."""
        config = self.config
        return {
            "environment": config.environment,
            "primaryRegion": config.primary_region,
            "drRegion": config.dr_region,
            # The cluster layer names a namespace per service from this, with its budget,
            # and its SLO rules (no setting is written in both stack files); nothing here
            # is secret.
            "services": [
                {
                    "name": s.name,
                    "tier": s.tier,
                    "namespace": s.namespace or s.name,
                    **(
                        {"budget": s.budget.model_dump(by_alias=True, exclude_none=True)}
                        if s.budget is not None
                        else {}
                    ),
                    # Its objectives: the cluster layer's SLO rules are generated from them.
                    **(
                        {"slo": s.slo.model_dump(by_alias=True, exclude_none=True)}
                        if s.slo is not None
                        else {}
                    ),
                    # What the cluster layer configures in Vault for the service.
                    **(
                        {"secrets": s.secrets.model_dump(by_alias=True, exclude_none=True)}
                        if s.secrets is not None
                        else {}
                    ),
                }
                for s in config.services
            ],
            **stack_outputs(self.network, Network),
            **stack_outputs(self.identity, Identity),
            **stack_outputs(self.audit_trail, AuditTrail),
            **stack_outputs(self.runner, CiRunner),
            **stack_outputs(self.registry, Registry),
            **stack_outputs(self.cluster, Cluster),
            **stack_outputs(self.ingress, Ingress),
            **stack_outputs(self.vault, Vault),
            **stack_outputs(self.grafana, Grafana),
            **stack_outputs(self.telemetry, TelemetryStorage),
            **stack_outputs(self.vault_aws, AwsSecretsEngineRoles),
            # The cluster layer installs Argo CD from this (plain data, nothing secret).
            "gitops": (self.gitops.model_dump(by_alias=True, mode="json") if self.gitops else None),
            # The cluster layer installs kube-prometheus-stack and the rules from this
            # (plain data); the receivers' webhooks travel apart, as a secret output.
            "observability": (
                self.observability.model_dump(by_alias=True, mode="json")
                if self.observability
                else None
            ),
            "observabilityReceivers": self._receiver_urls(config),
            **stack_outputs(self.database, Database),
            **stack_outputs(self.resilience, Resilience),
            **stack_outputs(self.alerting, Alerting),
        }

    def _gitops(self, config: PlatformConfig) -> GitOpsSettings | None:
        """`ballast:gitops` resolved, and the Argo CD UI's route on the internal ALB where
        there is one (elsewhere the UI is reached with `kubectl port-forward`)."""
        if config.gitops is None:
            return None
        ui_host = None
        if self.ingress is not None and self.ingress.internal_arn is not None:
            route = self.ingress.route(
                "argocd",
                namespace=argocd.NAMESPACE,
                service=argocd.SERVER_SERVICE,
                port=argocd.SERVER_PORT,
                health_check_path="/healthz",
                internal=True,
            )
            ui_host = route.host
        return config.gitops.settings(
            environment=config.environment,
            ci_repository=config.ci.repository if config.ci else None,
            ui_host=ui_host,
        )

    def _grafana(self, name: str) -> Grafana:
        """Grafana's platform half, and its UI's route on the internal ALB where there is
        one (never on the public ALB); elsewhere the UI is reached with
        `kubectl port-forward`."""
        url = GRAFANA_PORT_FORWARD_URL
        if self.ingress is not None and self.ingress.internal_arn is not None:
            route = self.ingress.route(
                GRAFANA_ROUTE,
                namespace=grafana_addon.NAMESPACE,
                service=grafana_addon.SERVICE,
                port=grafana_addon.PORT,
                health_check_path=grafana_addon.HEALTH_CHECK_PATH,
                internal=True,
            )
            url = route.url
        return Grafana(
            f"{name}-grafana",
            GrafanaArgs(
                context=self.context.with_tags({"service": "observability", "tier": "tier-1"}),
                url=url,
                admin_user=grafana_addon.ADMIN_USER,
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.primary_provider),
        )

    def _observability(self, config: PlatformConfig) -> ObservabilitySettings | None:
        """`ballast:observability` resolved: replicas for the environment, and the
        runbooks of the gitops repository at its target revision unless
        `runbookBaseUrl` says otherwise."""
        section = config.observability
        if section is None:
            return None
        base = section.runbook_base_url
        if base is None and self.gitops is not None:
            web = argocd_alerts.repository_web_url(self.gitops.repo_url)
            base = f"{web}/blob/{self.gitops.target_revision}"
        if base is None:
            raise ValueError("ballast:observability needs runbookBaseUrl without ballast:gitops")
        return section.settings(environment=config.environment, runbook_base_url=base)

    @staticmethod
    def _receiver_urls(config: PlatformConfig) -> pulumi.Output[dict[str, str]] | None:
        """The receivers' webhooks, keyed like `ReceiversConfig`, as a secret (empty
        without receivers); None without `ballast:observability`."""
        section = config.observability
        if section is None:
            return None
        urls = section.receivers.configured() if section.receivers is not None else {}
        return pulumi.Output.secret(urls)

    def _aws_provider(self, name: str, region: str, tags: dict[str, str]) -> aws.Provider:
        return aws.Provider(
            name,
            region=region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
            # Refuse to touch any other account: a prod stack run with dev credentials
            # (or the reverse) fails before it changes anything.
            allowed_account_ids=[self.config.account_id] if self.config.account_id else None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _vault(
        self, name: str, settings: VaultConfig, roles: RoleFactory, cluster: Cluster
    ) -> Vault:
        """Vault's platform half, and its UI's route on the internal ALB where there is
        one (never on the public ALB): to the active server's Service, over HTTPS."""
        url = vault_addon.in_cluster_url()
        if self.ingress is not None and self.ingress.internal_arn is not None:
            route = self.ingress.route(
                "vault",
                namespace=vault_addon.NAMESPACE,
                service=vault_addon.ACTIVE_SERVICE,
                port=vault_addon.PORT,
                health_check_path=vault_addon.HEALTH_CHECK_PATH,
                internal=True,
                protocol="HTTPS",
            )
            url = route.url
        return Vault(
            f"{name}-vault",
            VaultArgs(
                context=self.context.with_tags({"service": "vault", "tier": "tier-1"}),
                roles=roles,
                settings=settings,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer_url=cluster.oidc_issuer_url,
                namespace=vault_addon.NAMESPACE,
                service_account=vault_addon.SERVICE_ACCOUNT,
                url=url,
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.primary_provider),
        )

    def _data_and_recovery(
        self, name: str, config: PlatformConfig, roles: RoleFactory, prod: bool
    ) -> None:
        """The DR network (when the database has a replica), the database, then AWS
        Backup and the FIS experiments (docs/data-and-dr.md)."""
        in_primary = pulumi.ResourceOptions(parent=self, provider=self.primary_provider)
        network, dr_net = config.network, config.dr_network
        dr_provider = self.dr_provider
        if network is None:
            raise ValueError("a platform stack needs ballast:network")
        self.dr_network: Network | None = None
        if dr_net is not None and self.dr_context is not None:
            self.dr_network = Network(
                f"{name}-dr-net",
                NetworkArgs(
                    context=self.dr_context.with_tags(NETWORK_TAGS), roles=roles, settings=dr_net
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=dr_provider),
            )

        db = config.database
        replicated = bool(
            db is not None and db.replica and self.dr_network is not None and self.dr_context
        )
        # One alert topic per region with alarms: the primary's, and the DR region's when
        # the replica (and its lag alarm) lives there.
        self.alerting = Alerting(
            f"{name}-alerts",
            AlertingArgs(
                context=self.context.with_tags({"service": "alerting", "tier": "tier-1"}),
                other_regions=(
                    [self.dr_context.with_tags({"service": "alerting", "tier": "tier-1"})]
                    if replicated and self.dr_context is not None
                    else []
                ),
                webhook_url=(
                    pulumi.Output.secret(config.alert_webhook_url)
                    if config.alert_webhook_url is not None
                    else None
                ),
                ticket_webhook_url=(
                    pulumi.Output.secret(config.alert_ticket_webhook_url)
                    if config.alert_ticket_webhook_url is not None
                    else None
                ),
            ),
            opts=in_primary,
        )

        self.database: Database | None = None
        if db is not None:
            replica = None
            if replicated and dr_net and self.dr_network is not None and self.dr_context:
                replica = ReplicaArgs(
                    context=self.dr_context,
                    vpc_id=self.dr_network.vpc_id,
                    subnet_ids=self.dr_network.isolated_subnet_ids,
                    client_cidrs=workload_cidrs(dr_net),
                    # Lag beyond the RPO is a risk, not an outage: a ticket.
                    alarm_actions=[self.alerting.topic_arn_of(self.dr_context.region, "ticket")],
                )
            self.database = Database(
                f"{name}-db",
                DatabaseArgs(
                    context=self.context.with_tags({"service": "database", "tier": db.tier}),
                    roles=roles,
                    settings=db,
                    vpc_id=self.network.vpc_id,
                    subnet_ids=self.network.isolated_subnet_ids,
                    # With a cluster, only its nodes and pods (the cluster security
                    # group) reach the database; without one, the workload subnets.
                    **(
                        {"client_security_group_ids": [self.cluster.cluster_security_group_id]}
                        if self.cluster is not None
                        else {"client_cidrs": workload_cidrs(network)}
                    ),
                    replica=replica,
                    # The primary is down: a page.
                    alarm_actions=[self.alerting.topic_arn_of(self.context.region, "page")],
                ),
                opts=in_primary,
            )

        self.resilience = Resilience(
            f"{name}-resilience",
            ResilienceArgs(
                context=self.context.with_tags({"service": "resilience", "tier": "tier-1"}),
                roles=roles,
                backup=config.backup,
                fault_injection=config.fault_injection,
                tier_retention_days={
                    tier: objective.backup_retention_days
                    for tier, objective in TIER_OBJECTIVES.items()
                },
                availability_zones=self.network.availability_zones,
                dr_context=self.dr_context,
                database_arn=self.database.arn if self.database else None,
                database_multi_az=bool(self.database and self.database.multi_az),
                database_alarm_arns=self.database.alarm_arns if self.database else (),
            ),
            opts=in_primary,
        )


def workload_cidrs(network: NetworkConfig) -> list[str]:
    """The private (workload) subnet blocks of a network: who may reach its database."""
    return [p.cidr for p in plan_subnets(network.cidr, network.az_count) if p.tier == "private"]


class Organization(pulumi.ComponentResource):
    """The management account's stack: its provider and the organisation's SCPs.

    Attributes: `provider`, `guardrails`.
    """

    def __init__(
        self, name: str, config: PlatformConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Organization", name, None, opts)
        guardrails = config.org_guardrails
        if guardrails is None:
            raise ValueError("an organization stack needs ballast:orgGuardrails")
        self.provider = aws.Provider(
            f"{name}-aws",
            region=config.primary_region,
            default_tags=aws.ProviderDefaultTagsArgs(
                tags=default_tags(config, pulumi.get_project())
            ),
            allowed_account_ids=[config.account_id] if config.account_id else None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.guardrails = OrgGuardrails(
            f"{name}-scp",
            OrgGuardrailsArgs(
                settings=guardrails, tags={"service": "org-guardrails", "tier": "tier-1"}
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        self.register_outputs({"policyIds": self.guardrails.policy_ids})

    def stack_outputs(self) -> dict[str, Any]:
        """The organization stack's outputs: the SCPs and where they are attached."""
        return stack_outputs(self.guardrails, OrgGuardrails)


class ClusterLayer(pulumi.ComponentResource):
    """One environment's cluster layer: reads its platform stack through a
    `StackReference`, builds a Kubernetes provider for that cluster, then the in-cluster
    baseline and the add-ons' releases, all through that provider and nothing else.

    Attributes: `platform` (the StackReference), `cluster` (`ClusterFacts`),
    `kubernetes_provider`, `baseline`, `vault` (Vault's configuration, None when the
    platform has no Vault), `observability` (None without `ballast:observability` in the
    platform stack), and the in-cluster addresses of the log and trace pieces (None when
    the platform stack made no stores): `loki_url` and `tempo_url` (Grafana's Loki and
    Tempo datasources), `otlp_endpoint` (where services send traces).
    """

    #: Outputs of the platform stack this layer reads; a test checks that the platform
    #: stack exports each of them, so renaming one cannot silently break this layer.
    READS = (
        "environment",
        "primaryRegion",
        "availabilityZones",
        "services",
        "clusterName",
        "clusterEndpoint",
        "clusterCertificateAuthority",
        "clusterKubernetesVersion",
        "clusterAutoscalerRoleArn",
        "clusterVolumeTags",
        "vpcId",
        "ingressControllerRoleArn",
        "ingressRoutes",
        "clusterGpuNodeGroups",
        "vaultReplicas",
        "vaultStorageSizeGib",
        "vaultServerRoleArn",
        "vaultUnsealKeyId",
        "lokiBucketName",
        "lokiRoleArn",
        "lokiRetentionDays",
        "lokiReplicas",
        "lokiWalStorageGib",
        "tempoBucketName",
        "tempoRoleArn",
        "tempoRetentionDays",
        "tempoWalStorageGib",
        "vaultUrl",
        "vaultConfiguration",
        "vaultServiceRoleArns",
        "vaultAwsEngineRoleArn",
        "databaseDnsName",
        "databaseName",
        "databasePort",
        "gitops",
        "grafanaAdminPassword",
        "grafanaUrl",
        "observability",
        "observabilityReceivers",
    )

    def __init__(
        self, name: str, config: ClusterStackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:ClusterLayer", name, None, opts)
        self.config = config
        platform_stack = config.platform_stack
        self.platform = pulumi.StackReference(
            f"{pulumi.get_organization()}/{pulumi.get_project()}/{platform_stack}",
            opts=pulumi.ResourceOptions(parent=self),
        )

        def known(output: str, *, optional: bool = False) -> Any:
            return known_output(self.platform, output, stack=platform_stack, optional=optional)

        self.cluster = ClusterFacts(
            name=known("clusterName"),
            region=known("primaryRegion"),
            environment=known("environment"),
            kubernetes_version=known("clusterKubernetesVersion"),
            zone_count=len(known("availabilityZones")),
            endpoint=self.platform.require_output("clusterEndpoint"),
            certificate_authority=self.platform.require_output("clusterCertificateAuthority"),
            autoscaler_role_arn=self.platform.require_output("clusterAutoscalerRoleArn"),
            volume_tags=known("clusterVolumeTags"),
            services=[ServiceConfig.model_validate(s) for s in known("services")],
            vpc_id=self.platform.require_output("vpcId"),
            load_balancer_controller_role_arn=known("ingressControllerRoleArn", optional=True),
            routes=known("ingressRoutes", optional=True) or (),
            gpu_node_groups=list(known("clusterGpuNodeGroups")),
            vault=self._vault_facts(known),
            telemetry=self._telemetry_facts(known),
            gitops=_gitops(known("gitops", optional=True)),
            grafana=self._grafana_facts(known),
        )
        cluster = self.cluster
        self.kubernetes_provider = k8s.Provider(
            f"{cluster.name}-k8s",
            kubeconfig=kubeconfig(
                cluster.name, cluster.endpoint, cluster.certificate_authority, cluster.region
            ),
            # The same name the platform stack gave it before the two layers, so a state
            # moved from there is adopted (docs/layers.md).
            opts=pulumi.ResourceOptions(
                parent=self, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]
            ),
        )
        self.baseline = ClusterBaseline(
            cluster.name,
            ClusterBaselineArgs(provider=self.kubernetes_provider, cluster=cluster),
            opts=pulumi.ResourceOptions(parent=self),
        )
        addons = InClusterScope(name=cluster.name, parent=self, provider=self.kubernetes_provider)
        autoscaler.release(
            addons,
            cluster=cluster,
            namespace=self.baseline.namespaces[autoscaler.NAMESPACE],
            priority_classes=self.baseline.priority_classes,
        )
        controller = load_balancer_controller.release(
            addons,
            cluster=cluster,
            namespace=self.baseline.namespaces[load_balancer_controller.NAMESPACE],
            priority_classes=self.baseline.priority_classes,
        )
        if controller is not None:
            load_balancer_controller.bindings(
                addons,
                cluster=cluster,
                controller=controller,
                namespaces=self.baseline.namespaces,
            )
        nvidia_device_plugin.release(addons, cluster=cluster)
        csi_driver = secrets_store_csi_driver.release(addons, cluster=cluster)
        vault_release = vault_addon.release(
            addons,
            cluster=cluster,
            namespace=self.baseline.namespaces[vault_addon.NAMESPACE],
            priority_classes=self.baseline.priority_classes,
            csi_driver_release=csi_driver,
        )
        self.vault: vault_config.ConfiguredVault | None = None
        if vault_release is not None:
            self.vault = vault_config.configure(
                addons, settings=self._vault_configuration(known), release=vault_release
            )
        if csi_driver is not None:
            secrets_store_csi_driver.secret_provider_classes(
                addons,
                services=secrets_store_csi_driver.service_secret_needs(cluster.services),
                driver=csi_driver,
                namespaces=self.baseline.namespaces,
            )
        #: The platform pieces Prometheus scrapes, each with its release (`_observability`).
        self._scrape: list[tuple[scrape_targets.Target, pulumi.Resource]] = []
        if vault_release is not None:
            self._scrape.append((scrape_targets.VAULT, vault_release))
        self._telemetry(addons)
        webhook = config.gitops_webhook_url
        if webhook is not None and cluster.gitops is None:
            raise pulumi.RunError(
                "ballast:gitopsWebhookUrl is set but platform stack "
                f"{platform_stack} has no ballast:gitops: there is no Argo CD to notify"
            )
        argocd_release = argocd.release(
            addons,
            cluster=cluster,
            namespace=self.baseline.namespaces[argocd.NAMESPACE],
            priority_classes=self.baseline.priority_classes,
            webhook_url=pulumi.Output.secret(webhook) if webhook is not None else None,
        )
        if argocd_release is not None:
            argocd.app_of_apps(
                addons, cluster=cluster, argocd=argocd_release, notify=webhook is not None
            )
        policy_controller.release(
            addons,
            cluster=cluster,
            namespace=self.baseline.namespaces[policy_controller.NAMESPACE],
            priority_classes=self.baseline.priority_classes,
        )
        grafana_addon.release(
            addons,
            cluster=cluster,
            namespace=self.baseline.namespaces[grafana_addon.NAMESPACE],
            urls=GRAFANA_DATASOURCES,
        )
        self.observability = self._observability(cluster.name, known)
        self.register_outputs({"platformStack": platform_stack})

    def _observability(self, name: str, known: Any) -> Observability | None:
        """Metrics and alerting, when the platform stack has `ballast:observability`,
        with a PodMonitor for Vault and the log and trace pieces this layer made (none
        without it: no kube-prometheus-stack, no monitoring CRDs). Alerts link Grafana at the internal ALB route named `GRAFANA_ROUTE` when the
        platform has one, else at the port-forward address."""
        exported = known("observability", optional=True)
        if exported is None:
            return None
        settings = ObservabilitySettings.model_validate(exported)
        grafana = next(
            (
                f"https://{r['host']}"
                for r in self.cluster.routes
                if r.get("name") == GRAFANA_ROUTE and r.get("internal")
            ),
            None,
        )
        return Observability(
            f"{name}-observability",
            ObservabilityArgs(
                provider=self.kubernetes_provider,
                settings=settings,
                services=self.cluster.services,
                namespace=self.baseline.namespaces[kube_prometheus_stack.NAMESPACE],
                **({"grafana_url": grafana} if grafana else {}),
                receiver_urls=(
                    self.platform.require_output("observabilityReceivers")
                    if settings.receivers
                    else None
                ),
                gitops=self.cluster.gitops,
                depends_on=self.baseline.priority_classes,
                scrape=self._scrape,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _telemetry(self, addons: InClusterScope) -> None:
        """Logs and traces: Loki, then the agent that writes to it (Alloy); Tempo, then
        the collector that writes to it. Query URLs: `loki_url`, `tempo_url`; where
        services send traces: `otlp_endpoint` (None each without the stores)."""
        cluster, baseline = self.cluster, self.baseline
        namespace = baseline.namespaces[loki.NAMESPACE]
        priority = baseline.priority_classes
        logs = loki.release(addons, cluster=cluster, namespace=namespace, priority_classes=priority)
        traces = tempo.release(
            addons, cluster=cluster, namespace=namespace, priority_classes=priority
        )
        self.loki_url: str | None = None
        self.tempo_url: str | None = None
        self.otlp_endpoint: str | None = None
        if logs is None or traces is None:
            return
        agent = alloy.release(
            addons, cluster=cluster, namespace=namespace, priority_classes=priority, after=[logs]
        )
        collector = otel_collector.release(
            addons, cluster=cluster, namespace=namespace, priority_classes=priority, after=[traces]
        )
        pieces = (
            (scrape_targets.LOKI, logs),
            (scrape_targets.TEMPO, traces),
            (scrape_targets.ALLOY, agent),
            (scrape_targets.OTEL_COLLECTOR, collector),
        )
        self._scrape.extend((t, r) for t, r in pieces if r is not None)
        self.loki_url = loki.query_url()
        self.tempo_url = tempo.query_url()
        self.otlp_endpoint = otel_collector.otlp_grpc_endpoint()

    @staticmethod
    def _telemetry_facts(known: Any) -> TelemetryFacts | None:
        """The log and trace stores' platform half, when the platform stack has one."""
        bucket = known("lokiBucketName", optional=True)
        if bucket is None:
            return None
        return TelemetryFacts(
            loki_bucket_name=bucket,
            loki_role_arn=known("lokiRoleArn"),
            loki_retention_days=int(known("lokiRetentionDays")),
            loki_replicas=int(known("lokiReplicas")),
            loki_wal_storage_gib=int(known("lokiWalStorageGib")),
            tempo_bucket_name=known("tempoBucketName"),
            tempo_role_arn=known("tempoRoleArn"),
            tempo_retention_days=int(known("tempoRetentionDays")),
            tempo_wal_storage_gib=int(known("tempoWalStorageGib")),
        )

    @staticmethod
    def _vault_facts(known: Any) -> VaultFacts | None:
        """Vault's platform half, when the platform stack has one."""
        replicas = known("vaultReplicas", optional=True)
        if replicas is None:
            return None
        return VaultFacts(
            replicas=int(replicas),
            storage_size_gib=int(known("vaultStorageSizeGib")),
            server_role_arn=known("vaultServerRoleArn"),
            unseal_key_id=known("vaultUnsealKeyId"),
            aws_engine_role_arn=known("vaultAwsEngineRoleArn", optional=True),
        )

    def _vault_configuration(self, known: Any) -> vault_config.VaultConfiguration:
        """What Vault's configuration needs from the platform stack: its address, the
        services' roles and the database."""
        cluster = self.cluster
        arns = self.platform.get_output("vaultServiceRoleArns")
        database_name = known("databaseName", optional=True)
        configuration = known("vaultConfiguration")
        admin = configuration.get("adminJwt")
        return vault_config.VaultConfiguration(
            address=configuration["address"],
            region=cluster.region,
            services=cluster.services,
            service_role_arns={
                s.name: _role_of(arns, s.name)
                for s in cluster.services
                if s.secrets is not None and s.secrets.aws is not None
            },
            database=(
                vault_config.DatabaseTarget(
                    host=self.platform.require_output("databaseDnsName"),
                    port=int(known("databasePort")),
                    name=database_name,
                )
                if database_name is not None
                else None
            ),
            admin_jwt=VaultAdminJwtConfig.model_validate(admin) if admin is not None else None,
        )

    def _grafana_facts(self, known: Any) -> GrafanaFacts | None:
        """Grafana's platform half, when the platform stack has one (its password stays
        a secret: read with `require_output`, never `known`)."""
        url = known("grafanaUrl", optional=True)
        if url is None:
            return None
        return GrafanaFacts(
            admin_password=self.platform.require_output("grafanaAdminPassword"), url=str(url)
        )

    def stack_outputs(self) -> dict[str, Any]:
        """The cluster stack's outputs: which platform it builds on, its namespaces, and
        where services find Vault (null without Vault): its internal URL, the auth
        mounts, and each service's policy and role names."""
        configured = self.vault
        return {
            "environment": self.cluster.environment,
            "platformStack": self.config.platform_stack,
            "clusterName": self.cluster.name,
            "namespaces": sorted(self.baseline.namespaces),
            # Where Grafana's datasources and the services' OTLP exporters point.
            "lokiUrl": self.loki_url,
            "tempoUrl": self.tempo_url,
            "otlpEndpoint": self.otlp_endpoint,
            "vaultUrl": (self.platform.get_output("vaultUrl") if configured is not None else None),
            "vaultAuthMounts": configured.auth_mounts if configured is not None else None,
            "vaultServiceRoles": configured.service_roles if configured is not None else None,
            "vaultDatabaseBootstrapPassword": (
                configured.database_bootstrap_password if configured is not None else None
            ),
        }


def _role_of(arns: pulumi.Output[Any], service: str) -> pulumi.Output[str]:
    """`service`'s role ARN in the platform stack's `vaultServiceRoleArns` (a map)."""

    def pick(found: Any) -> str:
        arn = (found or {}).get(service)
        if not isinstance(arn, str):
            raise pulumi.RunError(
                f"service {service} declares secrets.aws but the platform stack exports no "
                "role for it in vaultServiceRoleArns: run `pulumi up` on the platform stack"
            )
        return arn

    return arns.apply(pick)


def _gitops(exported: Any) -> GitOpsSettings | None:
    """The platform stack's `gitops` output, validated again (it is plain data)."""
    return None if exported is None else GitOpsSettings.model_validate(exported)


def known_output(
    reference: pulumi.StackReference, output: str, *, stack: str, optional: bool = False
) -> Any:
    """The plain value of another stack's output, for what must be known while the program
    runs (resource names, pinned versions): the engine reads a referenced stack before the
    program goes on, in a preview too. Secret outputs stay secret through `require_output`;
    never read one here. Fails with one sentence when the stack does not export it, unless
    `optional` (an output that is null when its component is absent): then None."""
    details = _sync_await(reference.get_output_details(output))
    if details.secret_value is not None:
        raise pulumi.RunError(
            f"output {output} of stack {stack} is a secret; it cannot name resources"
        )
    if details.value is None:
        if optional:
            return None
        raise pulumi.RunError(
            f"stack {stack} exports no output {output}: run `pulumi up` on it first, or "
            "check ballast:platformStack"
        )
    return details.value
