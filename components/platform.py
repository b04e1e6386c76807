"""`Platform`: composes one environment from its validated config. It owns nothing but
the per-region AWS providers; every resource belongs to a component.

Order matters: `Identity` (the permission boundary and the role factory) and
`AuditTrail` come first, so every later component gets the role factory as an argument
and everything it does is recorded from the first resource on.

`Organization` is the other kind of stack: the management account's own, which manages
only the service control policies (`ballast:stackKind: organization`).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.audit_trail import AuditTrail, AuditTrailArgs
from components.cluster import Cluster, cluster_args_from_config
from components.config import PlatformConfig
from components.identity import GitHubCiArgs, Identity, IdentityArgs
from components.network import Network, NetworkArgs
from components.org_guardrails import OrgGuardrails, OrgGuardrailsArgs

MANAGED_BY = "pulumi"
#: `service` and `tier` tags of the security baseline's resources.
SECURITY_TAGS = {"service": "security", "tier": "tier-1"}
ROLE_TYPE = "aws:iam/role:Role"


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
    `audit_trail`, `network`, `cluster` (None without `ballast:cluster`).
    """

    def __init__(
        self, name: str, config: PlatformConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
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
        regions = [config.primary_region] + ([config.dr_region] if config.dr_region else [])
        prod = config.environment == "prod"

        ci = config.ci
        github = None
        if ci is not None:
            environment = ci.environment or config.environment
            github = GitHubCiArgs(
                repository=ci.repository,
                environment=environment,
                plan_environment=ci.plan_environment or environment,
                oidc_provider_arn=ci.oidc_provider_arn,
                state_bucket=ci.state_bucket,
                state_project=pulumi.get_project(),
                state_stack=pulumi.get_stack(),
                secrets_key_arn=ci.secrets_key_arn,
            )
        self.identity = Identity(
            f"{name}-iam",
            IdentityArgs(
                environment=config.environment,
                regions=regions,
                extra_services=config.boundary.extra_services,
                github=github,
                security_principal_arns=config.audit.security_principal_arns,
                tags=SECURITY_TAGS,
            ),
            opts=in_primary,
        )
        guard.boundary_arn = self.identity.boundary_arn
        roles = self.identity.roles

        audit = config.audit
        self.audit_trail = AuditTrail(
            f"{name}-audit",
            AuditTrailArgs(
                environment=config.environment,
                region=config.primary_region,
                roles=roles,
                security_role_arn=self.identity.security_role_arn,
                security_role_name=self.identity.security_role_name,
                bucket_prefix=self.identity.audit_bucket_prefix,
                dr_region=config.dr_region,
                dr_provider=self.dr_provider,
                log_retention_days=audit.log_retention_days,
                cloud_watch_retention_days=audit.cloud_watch_retention_days,
                object_lock=prod,
                object_lock_mode=audit.object_lock_mode,
                object_lock_days=audit.object_lock_days,
                guardduty_features=audit.guard_duty_features,
                findings_min_severity=audit.findings_min_severity,
                protect=prod,
                tags=SECURITY_TAGS,
            ),
            opts=in_primary,
        )

        net = config.network
        self.network = Network(
            f"{name}-net",
            NetworkArgs(
                region=config.primary_region,
                roles=roles,
                cidr=net.cidr,
                az_count=net.az_count,
                availability_zones=net.availability_zones,
                nat_mode=net.nat_mode,
                interface_endpoints=net.interface_endpoints,
                flow_log_retention_days=net.flow_log_retention_days,
                tags={"service": "network", "tier": "tier-1"},
                protect=prod,
            ),
            opts=in_primary,
        )

        self.cluster: Cluster | None = None
        if config.cluster is not None:
            cluster_tags = {"service": "kubernetes", "tier": "tier-1"}
            self.cluster = Cluster(
                f"{name}-eks",
                cluster_args_from_config(
                    config.cluster,
                    environment=config.environment,
                    region=config.primary_region,
                    roles=roles,
                    private_subnet_ids=self.network.private_subnet_ids,
                    availability_zones=self.network.availability_zones,
                    services=config.services,
                    deployer_principal_arn=self.identity.ci_apply_role_arn,
                    tags=cluster_tags,
                    instance_tags={**tags, **cluster_tags},
                    protect=prod,
                ),
                opts=in_primary,
            )

        self.register_outputs(
            {
                "vpcId": self.network.vpc_id,
                "boundaryArn": self.identity.boundary_arn,
                "trailArn": self.audit_trail.trail_arn,
                "findingsTopicArn": self.audit_trail.findings_topic_arn,
            }
        )

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
                target_ids=guardrails.target_ids,
                allowed_regions=guardrails.allowed_regions,
                exempt_principal_arns=guardrails.exempt_principal_arns,
                tags={"service": "org-guardrails", "tier": "tier-1"},
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        self.register_outputs({"policyIds": self.guardrails.policy_ids})
