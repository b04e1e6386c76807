"""Signed images only: the Sigstore policy-controller and the `ClusterImagePolicy` that
requires a keyless signature from the repository's image workflow (docs/gitops.md).

- **Where it applies**: the service namespaces of staging and prod, which the baseline
  labels `policy.sigstore.dev/include: "true"` (`service_namespace_labels`); the
  controller's admission webhook sees no other namespace. dev has neither the
  controller nor the label.
- **What it requires**: every image in those namespaces signed keylessly (Fulcio
  certificate, Rekor entry) by `GitOpsSettings.signing_subject`, i.e. the workflow file
  of the configured repository running on the configured ref, as GitHub Actions' OIDC
  issuer vouches. prod enforces (`mode: enforce`, admission refused); staging warns
  (`mode: warn`, admitted with a warning).
- **The platform's own images** (Argo CD, Redis, HAProxy, the autoscaler, the load
  balancer controller, this controller) run in platform namespaces, which carry no label:
  they are trusted by the pinned chart version (components/versions.py) and its
  registry, not by a signature (docs/gitops.md lists them).

The release runs in Argo CD's namespace (`gitops`): two webhook replicas with a
disruption budget in prod (the webhook fails closed), on the system nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.cluster.scope import ClusterFacts, InClusterScope
from components.config import GitOpsSettings
from components.workloads import SYSTEM_NODES_TOLERATION, workload_defaults

NAMESPACE = "gitops"
RELEASE = "policy-controller"
API_VERSION = "policy.sigstore.dev/v1beta1"
POLICY_NAME = "signed-by-ci"
#: The label that puts a namespace under the webhook (the chart's namespaceSelector).
INCLUDE_LABEL = "policy.sigstore.dev/include"
#: Sigstore's public-good Fulcio (certificates) and Rekor (transparency log).
FULCIO_URL = "https://fulcio.sigstore.dev"
REKOR_URL = "https://rekor.sigstore.dev"


def mode(environment: str) -> str | None:
    """enforce in prod, warn in staging, None (no controller) in dev."""
    return {"prod": "enforce", "staging": "warn"}.get(environment)


def service_namespace_labels(settings: GitOpsSettings | None) -> dict[str, str]:
    """Labels every service namespace gets: the include label where a policy applies."""
    if settings is None or mode(settings.environment) is None:
        return {}
    return {INCLUDE_LABEL: "true"}


def helm_values(settings: GitOpsSettings) -> dict[str, Any]:
    """Values of the pinned policy-controller chart."""
    prod = settings.environment == "prod"
    defaults = workload_defaults(
        "policy-controller", namespace=NAMESPACE, tier="platform", cpu="100m", memory="256Mi"
    )
    return {
        "webhook": {
            "replicaCount": 2 if prod else 1,
            "resources": defaults.resources,
            # Fail closed: an image that cannot be checked is not admitted.
            "failurePolicy": "Fail",
            "podDisruptionBudget": {"enabled": prod, "minAvailable": 1},
            "priorityClass": "platform-critical",
            # An image no policy matches is refused in prod, warned about in staging.
            "configData": {"no-match-policy": "deny" if prod else "warn"},
        },
        "commonTolerations": [SYSTEM_NODES_TOLERATION.manifest()],
    }


def cluster_image_policy(settings: GitOpsSettings) -> dict[str, Any]:
    """Every image in an included namespace signed keylessly by the image workflow."""
    policy_mode = mode(settings.environment)
    if policy_mode is None:
        raise ValueError(f"no image policy in {settings.environment}")
    return {
        "apiVersion": API_VERSION,
        "kind": "ClusterImagePolicy",
        "metadata": {"name": POLICY_NAME},
        "spec": {
            "mode": policy_mode,
            "images": [{"glob": "**"}],
            "authorities": [
                {
                    "name": "image-workflow",
                    "keyless": {
                        "url": FULCIO_URL,
                        "identities": [
                            {
                                "issuer": settings.signing_issuer,
                                "subject": settings.signing_subject,
                            }
                        ],
                    },
                    "ctlog": {"url": REKOR_URL},
                }
            ],
        },
    }


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
) -> list[pulumi.Resource]:
    """The release and the policy, or nothing without `ballast:gitops` or in dev."""
    settings = cluster.gitops
    if settings is None or mode(settings.environment) is None:
        return []
    controller = k8s.helm.v3.Release(
        f"{scope.name}-policy-controller",
        name=RELEASE,
        chart=versions.POLICY_CONTROLLER_CHART,
        version=versions.POLICY_CONTROLLER_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(
            repo=versions.POLICY_CONTROLLER_CHART_REPOSITORY
        ),
        namespace=NAMESPACE,
        values=helm_values(settings),
        opts=scope.opts([namespace, *priority_classes]),
    )
    manifest = cluster_image_policy(settings)
    policy = k8s.apiextensions.CustomResource(
        f"{scope.name}-clusterimagepolicy-{POLICY_NAME}",
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        spec=manifest["spec"],
        opts=scope.opts([controller]),
    )
    return [controller, policy]
