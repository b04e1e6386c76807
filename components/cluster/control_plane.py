"""The control plane: its KMS key and log group, its role, the EKS cluster itself, the
IRSA OIDC provider, and the kubeconfig the Kubernetes provider uses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.cluster.roles import OidcProvider, service_role
from components.cluster.scope import ClusterScope
from components.kms import LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER
from components.log_groups import encrypted_log_group

#: Every control-plane log type EKS can send to CloudWatch.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
#: EKS upgrade policy. STANDARD: when standard support of the version ends, EKS upgrades
#: the control plane itself; EXTENDED keeps the version for 12 more months at six times
#: the control-plane price.
SUPPORT_TYPE: Literal["STANDARD", "EXTENDED"] = "STANDARD"


def encryption_and_logs(scope: ClusterScope) -> tuple[aws.kms.Key, aws.cloudwatch.LogGroup]:
    """The key that envelope-encrypts Secrets and the control-plane logs, and the log
    group `/aws/eks/<name>/cluster`, created before the cluster so EKS never creates one
    without retention."""
    name = scope.name
    # The account administers the key through IAM (the AWS default); EKS uses it
    # through a grant its creator makes.
    return encrypted_log_group(
        scope.context,
        scope.parent,
        key_resource=f"{name}-secrets",
        key_description=f"Envelope-encrypts {name}'s Kubernetes Secrets and control-plane logs",
        group_resource=f"{name}-control-plane",
        group_name=f"/aws/eks/{name}/cluster",
        retention_days=scope.settings.log_retention_days,
        key_sid="CloudWatchLogsUsesKeyForTheControlPlaneLogsOnly",
        key_actions=LOG_GROUP_KEY_ACTIONS_DOCUMENTED_ORDER,
    )


def eks_cluster(
    scope: ClusterScope,
    private_subnet_ids: pulumi.Input[Any],
    key: aws.kms.Key,
    log_group: aws.cloudwatch.LogGroup,
) -> aws.eks.Cluster:
    """The cluster role (only the policy EKS documents) and the cluster: private endpoint
    (public only for the configured CIDRs), all control-plane logs, access entries only,
    EKS's own networking add-ons not bootstrapped, zonal shift on, deletion protection
    when the context protects."""
    name, settings, protect = scope.name, scope.settings, scope.context.protect
    role, policies = service_role(
        scope, "cluster", "eks.amazonaws.com", CLUSTER_POLICIES, f"EKS control plane of {name}"
    )
    vpc_config: dict[str, Any] = {
        "subnet_ids": private_subnet_ids,
        "endpoint_private_access": True,
        "endpoint_public_access": settings.endpoint_public_access,
    }
    if settings.endpoint_public_access:
        vpc_config["public_access_cidrs"] = list(settings.public_access_cidrs)
    return aws.eks.Cluster(
        name,
        name=name,
        role_arn=role.arn,
        version=settings.kubernetes_version,
        vpc_config=aws.eks.ClusterVpcConfigArgs(**vpc_config),
        encryption_config=aws.eks.ClusterEncryptionConfigArgs(
            resources=["secrets"],
            provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
        ),
        enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
        access_config=aws.eks.ClusterAccessConfigArgs(
            authentication_mode="API",
            bootstrap_cluster_creator_admin_permissions=False,
        ),
        # The managed add-ons install vpc-cni, kube-proxy and coredns; EKS's unmanaged
        # copies would conflict with them on the first add-on update.
        bootstrap_self_managed_addons=False,
        kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(ip_family="ipv4"),
        upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=SUPPORT_TYPE),
        # Lets an operator (or ARC autoshift) move traffic away from an impaired zone.
        zonal_shift_config=aws.eks.ClusterZonalShiftConfigArgs(enabled=True),
        deletion_protection=protect,
        tags=scope.tags(name),
        opts=scope.opts(
            stateful=True,
            # The log group must exist first (else EKS creates one that never expires);
            # the policy must outlive the cluster on destroy, or EKS cannot clean up its
            # network interfaces.
            depends_on=[log_group, *policies],
        ),
    )


def api_clients(
    scope: ClusterScope, cluster: aws.eks.Cluster, security_group_ids: Sequence[pulumi.Input[str]]
) -> list[aws.vpc.SecurityGroupIngressRule]:
    """HTTPS to the API endpoint from each of `security_group_ids` (the in-VPC runner):
    the private endpoint's network interfaces carry the cluster security group, which
    otherwise admits only the cluster's own members."""
    rules = []
    for index, source in enumerate(security_group_ids):
        name = f"{scope.name}-api-client-{index}"
        rules.append(
            aws.vpc.SecurityGroupIngressRule(
                name,
                security_group_id=cluster.vpc_config.cluster_security_group_id,
                description="Kubernetes API (HTTPS) from a client inside the VPC",
                referenced_security_group_id=source,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                tags=scope.tags(name),
                opts=scope.opts(),
            )
        )
    return rules


def oidc_provider(scope: ClusterScope, cluster: aws.eks.Cluster) -> OidcProvider:
    """The IAM OIDC provider of the cluster's issuer, for IRSA."""
    issuer_url: pulumi.Output[str] = cluster.identities.apply(_issuer)
    provider = aws.iam.OpenIdConnectProvider(
        f"{scope.name}-oidc",
        url=issuer_url,
        client_id_lists=["sts.amazonaws.com"],
        tags=scope.tags(f"{scope.name}-oidc"),
        opts=scope.opts(),
    )
    return OidcProvider(arn=provider.arn, issuer_url=issuer_url)


def _issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The cluster's OIDC issuer URL (EKS always reports exactly one)."""
    oidcs = identities[0].oidcs or []
    issuer = oidcs[0].issuer if oidcs else None
    if not issuer:
        raise ValueError("EKS reported no OIDC issuer for the cluster")
    return issuer


def kubeconfig(
    cluster_name: str,
    endpoint: pulumi.Input[str],
    certificate_authority: pulumi.Input[str],
    region: str,
) -> pulumi.Output[str]:
    """A kubeconfig for the cluster that authenticates with `aws eks get-token` (exec):
    no static token ever lands in state, and whoever runs Pulumi (the CI role, or the
    bootstrap admin) is who the cluster's access entries see."""

    def render(values: list[Any]) -> str:
        cluster_name, endpoint, authority = values
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": cluster_name,
                        "cluster": {
                            "server": endpoint,
                            "certificate-authority-data": authority,
                        },
                    }
                ],
                "contexts": [
                    {
                        "name": cluster_name,
                        "context": {"cluster": cluster_name, "user": cluster_name},
                    }
                ],
                "current-context": cluster_name,
                "users": [
                    {
                        "name": cluster_name,
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1beta1",
                                "command": "aws",
                                "args": [
                                    "eks",
                                    "get-token",
                                    "--cluster-name",
                                    cluster_name,
                                    "--region",
                                    region,
                                    "--output",
                                    "json",
                                ],
                                "interactiveMode": "Never",
                            }
                        },
                    }
                ],
            }
        )

    return pulumi.Output.all(cluster_name, endpoint, certificate_authority).apply(render)
