"""`AwsContext`: what every AWS component needs to know about where it deploys.

The composition root looks the account and partition up once (`AwsContext.lookup`) and
hands each component a context for its region, carrying the component's own tags
(`service`, `tier`) and whether stateful resources are protected. A component derives
from it, instead of rebuilding them itself: its children's tags (`tags_for`), ARNs in
this account (`arn`, keyword arguments only, so a swapped call cannot type-check), and
the resource options of its children (`child`, `stateful`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws

from components.names import PhysicalNames

#: ARNs of global services carry no region (IAM, S3 buckets, Route 53).
NO_REGION = ""


@dataclass(frozen=True, kw_only=True)
class AwsContext:
    """One environment in one region, as a component sees it."""

    environment: str
    """Environment name (`dev`, `staging`, `prod`): tags, tag-based scoping and the
    strictness of prod. Not names: two stacks of one environment share it."""

    names: PhysicalNames
    """How this stack names its resources (`<namePrefix>-<stack>`): IAM names, log groups,
    the private DNS zone."""

    region: str
    """Region of `provider`: the region every child is created in."""

    account_id: pulumi.Output[str]
    """The account the provider's credentials deploy into (one lookup per stack)."""

    partition: pulumi.Output[str]
    """`aws`, `aws-cn` or `aws-us-gov`: the first field of every ARN."""

    reverse_dns_prefix: pulumi.Output[str]
    """`com.amazonaws` (or the partition's own): the prefix of VPC endpoint services."""

    provider: pulumi.ProviderResource | None = None
    """The region's AWS provider; components that also build in a second region take a
    second context for it."""

    protect: bool = False
    """Protect stateful resources (keys, log groups, databases, buckets, vaults) from
    deletion, and turn on the deletion protection AWS services offer (the composition
    root sets it in prod)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """The component's own tags (`service`, `tier`), on every child; the provider's
    default tags (environment, project, owner, managed-by) apply on top."""

    @classmethod
    def lookup(
        cls,
        *,
        environment: str,
        names: PhysicalNames,
        region: str,
        provider: pulumi.ProviderResource | None,
        parent: pulumi.Resource | None = None,
        protect: bool = False,
    ) -> AwsContext:
        """A context whose account and partition are looked up through `provider`."""
        invoke = pulumi.InvokeOptions(parent=parent, provider=provider)
        partition = aws.get_partition_output(opts=invoke)
        return cls(
            environment=environment,
            names=names,
            region=region,
            account_id=aws.get_caller_identity_output(opts=invoke).account_id,
            partition=partition.partition,
            reverse_dns_prefix=partition.reverse_dns_prefix,
            provider=provider,
            protect=protect,
        )

    def in_region(self, region: str, provider: pulumi.ProviderResource | None) -> AwsContext:
        """The same environment, account and tags in another region (the DR region)."""
        return replace(self, region=region, provider=provider)

    def with_tags(self, tags: Mapping[str, str]) -> AwsContext:
        """This context with `tags` added to the component's own tags."""
        return replace(self, tags={**self.tags, **tags})

    def tags_for(self, name: str | None = None, **extra: str) -> dict[str, str]:
        """The component's tags, then `extra`, then `Name` when `name` is given."""
        tags = {**self.tags, **extra}
        if name:
            tags["Name"] = name
        return tags

    def arn(
        self, *, service: str, resource: pulumi.Input[str], region: str | None = None
    ) -> pulumi.Output[str]:
        """`arn:<partition>:<service>:<region>:<account>:<resource>` in this account.

        `region` defaults to the context's; pass `NO_REGION` for global services (IAM).
        """
        return pulumi.Output.format(
            "arn:{0}:{1}:{2}:{3}:{4}",
            self.partition,
            service,
            self.region if region is None else region,
            self.account_id,
            resource,
        )

    def managed_policy_arn(self, policy: str) -> pulumi.Output[str]:
        """The ARN of an AWS managed policy (`service-role/AmazonEBSCSIDriverPolicy`)."""
        return pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", self.partition, policy)

    def opts(
        self,
        parent: pulumi.Resource,
        *,
        stateful: bool = False,
        provider: pulumi.ProviderResource | None = None,
        depends_on: Sequence[pulumi.Resource] | None = None,
    ) -> pulumi.ResourceOptions:
        """Options of a child of `parent`: protected when `stateful` and the context
        protects; `provider` for a child in another region (default: the parent's)."""
        return pulumi.ResourceOptions(
            parent=parent,
            provider=provider,
            protect=self.protect if stateful else None,
            depends_on=depends_on,
        )
