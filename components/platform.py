"""`Platform`: composes one environment from its validated config. It owns nothing but
the per-region AWS providers; every resource belongs to a component."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import PlatformConfig
from components.network import Network, NetworkArgs

MANAGED_BY = "pulumi"


def default_tags(config: PlatformConfig, project: str) -> dict[str, str]:
    """Tags every AWS resource of the environment carries, through the providers."""
    return {
        **config.tags,
        "environment": config.environment,
        "project": project,
        "owner": config.owner,
        "managed-by": MANAGED_BY,
    }


class Platform(pulumi.ComponentResource):
    """One environment: per-region providers, then the components in dependency order.

    Attributes: `primary_provider`, `dr_provider` (None without a DR region), `network`.
    """

    def __init__(
        self, name: str, config: PlatformConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Platform", name, None, opts)
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

        net = config.network
        self.network = Network(
            f"{name}-net",
            NetworkArgs(
                region=config.primary_region,
                cidr=net.cidr,
                az_count=net.az_count,
                availability_zones=net.availability_zones,
                nat_mode=net.nat_mode,
                interface_endpoints=net.interface_endpoints,
                flow_log_retention_days=net.flow_log_retention_days,
                tags={"service": "network", "tier": "tier-1"},
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.primary_provider),
        )

        self.register_outputs({"vpcId": self.network.vpc_id})

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
