"""The AWS Load Balancer Controller, serving only TargetGroupBindings: Pulumi owns the load
balancers, listeners, rules, target groups and security-group rules (`Ingress`,
components/ingress.py, in the platform stack, which also makes the controller's IRSA
role), and the controller keeps each target group's registered pod IPs in step with a
Service's endpoints. docs/ingress.md has the choice and its trade-off.

This module is the cluster layer's half: the Helm release (two replicas on the system
node group, spread over zones, a disruption budget, requests and limits, its webhooks
on; no IngressClass, no Service mutator, no backend security group, no WAF or Shield
calls: nothing that would let an `Ingress` or a `Service` create a load balancer) and a
`TargetGroupBinding` per route, in the service's namespace, after the release (so on
destroy every binding goes before the controller that finalises it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.cluster.scope import ClusterFacts, InClusterScope
from components.workloads import workload_defaults

NAMESPACE = "ingress"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
RELEASE = "aws-load-balancer-controller"
#: The CRD version of TargetGroupBinding the pinned release serves (and stores).
BINDING_API_VERSION = "elbv2.k8s.aws/v1beta1"
#: Replicas: one leads, the other takes over (and serves the webhook) when its node goes.
REPLICAS = 2


def helm_values(
    *, cluster_name: str, region: str, vpc_id: pulumi.Input[str], role_arn: pulumi.Input[str]
) -> dict[str, Any]:
    """Values of the pinned aws-load-balancer-controller chart."""
    defaults = workload_defaults(
        RELEASE,
        namespace=NAMESPACE,
        tier="platform",
        cpu="100m",
        memory="256Mi",
        system_nodes=True,
    )
    return {
        "clusterName": cluster_name,
        "region": region,
        # Given, so the controller never asks the instance metadata service (IMDS hop
        # limit 1 keeps pods from reaching it anyway).
        "vpcId": vpc_id,
        "replicaCount": REPLICAS,
        "fullnameOverride": RELEASE,
        "serviceAccount": {
            "create": True,
            "name": SERVICE_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        # No IngressClass: an Ingress has no class to name, and the pack refuses one
        # with the ALB class anyway.
        "createIngressClassResource": False,
        "ingressClassParams": {"create": False},
        # No mutating webhook for Services of type LoadBalancer (the pack refuses them).
        "enableServiceMutatorWebhook": False,
        # The rules between ALBs and pods are Pulumi's (Ingress._open).
        "enableBackendSecurityGroup": False,
        "enableShield": False,
        "enableWaf": False,
        "enableWafv2": False,
        **defaults.helm_values(),
    }


def binding(route: Mapping[str, Any]) -> dict[str, Any]:
    """The TargetGroupBinding of one route (an `Ingress.route_outputs` entry): Service
    `service` port `port` in `namespace` fills target group `targetGroupArn` with pod
    IPs. No `networking`: the security-group rule is Pulumi's."""
    return {
        "apiVersion": BINDING_API_VERSION,
        "kind": "TargetGroupBinding",
        "metadata": {
            "name": f"{route['name']}-{'internal' if route['internal'] else 'public'}",
            "namespace": route["namespace"],
            "labels": {"app.kubernetes.io/managed-by": "pulumi"},
        },
        "spec": {
            "serviceRef": {"name": route["service"], "port": int(route["port"])},
            "targetGroupARN": route["targetGroupArn"],
            "targetType": "ip",
        },
    }


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
) -> k8s.helm.v3.Release | None:
    """The controller's Helm release, or None when the platform has no ingress (no role
    was made for it)."""
    if cluster.load_balancer_controller_role_arn is None or cluster.vpc_id is None:
        return None
    return k8s.helm.v3.Release(
        f"{scope.name}-lb-controller",
        name=RELEASE,
        chart=versions.LOAD_BALANCER_CONTROLLER_CHART,
        version=versions.LOAD_BALANCER_CONTROLLER_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(
            repo=versions.LOAD_BALANCER_CONTROLLER_CHART_REPOSITORY
        ),
        namespace=NAMESPACE,
        values=helm_values(
            cluster_name=cluster.name,
            region=cluster.region,
            vpc_id=cluster.vpc_id,
            role_arn=cluster.load_balancer_controller_role_arn,
        ),
        opts=scope.opts([namespace, *priority_classes]),
    )


def bindings(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    controller: k8s.helm.v3.Release,
    namespaces: Mapping[str, pulumi.Resource],
) -> list[k8s.apiextensions.CustomResource]:
    """A TargetGroupBinding per route, after the controller (whose chart brings the CRD
    and the webhook) and the route's namespace; destroyed before either."""
    made = []
    for route in cluster.routes:
        manifest = binding(route)
        depends: list[pulumi.Resource] = [controller]
        if route["namespace"] in namespaces:
            depends.append(namespaces[route["namespace"]])
        made.append(
            k8s.apiextensions.CustomResource(
                f"{scope.name}-tgb-{manifest['metadata']['name']}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=scope.opts(depends),
            )
        )
    return made
