"""Argo CD and the environment's App-of-Apps (docs/gitops.md).

The platform stack resolves `ballast:gitops` into `GitOpsSettings`, makes the UI's route
on the internal ALB (`Platform`, through `Ingress.route(..., internal=True)` to Service
`argocd-server` port 8080 in namespace `gitops`) and exports the settings as `gitops`.
This module is the cluster layer's half:

- the **release** of the pinned `argo-cd` chart in namespace `gitops`: on the system
  nodes (tolerating their taint, preferring them), spread over zones, platform priority,
  requests and limits on every component. prod runs HA: Redis HA (three Redis with
  Sentinel behind HAProxy), two replicas of the API server, the repo server and the
  ApplicationSet controller, and a disruption budget for each; dev and staging one
  replica each. The UI speaks plain HTTP on 8080 behind the ALB, which terminates TLS
  (`server.insecure`); no Ingress, no LoadBalancer Service. The local admin exists only
  in dev; staging and prod sign in through OIDC (`gitops.oidc`). RBAC: read-only by
  default; `syncer` (sync, and nothing else) for `gitops.syncGroup`, and in prod for it
  alone. The application controller exports its metrics (the drift alert reads
  `argocd_app_info`).
- two **AppProjects**: `<env>` for the services (source: the configured repository;
  destinations: the service namespaces only; no cluster-scoped kind; the platform's
  quota, limit and network objects denied; the configured sync windows) and
  `<env>-root` for the App-of-Apps itself (the same repository; only `Application`
  objects, only in Argo CD's namespace).
- the **root Application** `<env>-root`, tracking `gitops/envs/<env>` (or the configured
  path), whose children are one Application per service. dev and staging sync by
  themselves, prune, and revert drift (`selfHeal`); prod has no automated sync: a
  member of the sync group syncs it, inside the sync windows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import versions
from components.cluster.scope import ClusterFacts, InClusterScope
from components.config import GitOpsSettings
from components.tags import NODE_GROUP_LABEL
from components.workloads import (
    SYSTEM_NODE_GROUP,
    SYSTEM_NODES_TOLERATION,
    ZONE_KEY,
    workload_defaults,
)

NAMESPACE = "gitops"
RELEASE = "argocd"
#: The API server's Service and the port the internal ALB's target group sends to (the
#: Service port equals the container port, as every TargetGroupBinding here expects).
SERVER_SERVICE = "argocd-server"
SERVER_PORT = 8080
API_VERSION = "argoproj.io/v1alpha1"
#: Where Argo CD deploys: the cluster it runs in.
IN_CLUSTER = "https://kubernetes.default.svc"
#: Kinds a service's manifests may not create in its namespace: the platform sets the
#: namespace's quota, limits and network rules (components/cluster/baseline.py).
PLATFORM_OWNED_KINDS = ("ResourceQuota", "LimitRange", "NetworkPolicy")
#: The RBAC role of the sync group.
SYNC_ROLE = "role:syncer"

#: Requests per component (memory limit = request, CPU limit twice the request).
_RESOURCES = {
    "controller": ("250m", "1Gi"),
    "repoServer": ("100m", "512Mi"),
    "server": ("50m", "256Mi"),
    "applicationSet": ("50m", "128Mi"),
    "notifications": ("50m", "128Mi"),
    "redis": ("50m", "128Mi"),
}


def highly_available(environment: str) -> bool:
    """prod runs Argo CD HA; dev and staging a replica of each component."""
    return environment == "prod"


def project_name(environment: str) -> str:
    """The services' AppProject of an environment."""
    return environment


def root_name(environment: str) -> str:
    """The App-of-Apps (and its AppProject) of an environment."""
    return f"{environment}-root"


def _rbac(settings: GitOpsSettings) -> dict[str, str]:
    """Read-only for everyone signed in; sync (nothing else) for the sync group. In prod
    the group's sync right covers only the services' project."""
    project = project_name(settings.environment)
    scope = f"{project}/*" if settings.environment == "prod" else "*/*"
    lines = [f"p, {SYNC_ROLE}, applications, sync, {scope}, allow"]
    if settings.sync_group:
        lines.append(f"g, {settings.sync_group}, {SYNC_ROLE}")
    return {
        "policy.default": "role:readonly",
        "policy.csv": "\n".join(lines) + "\n",
        "scopes": "[groups]",
    }


def _cm(settings: GitOpsSettings) -> dict[str, Any]:
    cm: dict[str, Any] = {
        # The local admin only in dev; staging and prod sign in through OIDC.
        "admin.enabled": settings.environment == "dev",
        "users.anonymous.enabled": False,
        "exec.enabled": False,
    }
    if settings.ui_host:
        cm["url"] = f"https://{settings.ui_host}"
    if settings.oidc is not None:
        cm["oidc.config"] = yaml.safe_dump(
            {
                "name": "SSO",
                "issuer": settings.oidc.issuer,
                "clientID": settings.oidc.client_id,
                "enablePKCEAuthentication": True,
                "requestedScopes": list(settings.oidc.scopes),
            },
            sort_keys=False,
        )
    return cm


#: The notifications controller's webhook service and the events it is told about.
WEBHOOK_SERVICE = "gitops"
WEBHOOK_SECRET_KEY = "webhook-url"
NOTIFY_TRIGGERS = {
    "on-out-of-sync": ("The application differs from Git", "app.status.sync.status == 'OutOfSync'"),
    "on-degraded": ("The application is Degraded", "app.status.health.status == 'Degraded'"),
    "on-sync-failed": (
        "A sync failed",
        "app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']",
    ),
}


def notification_values(settings: GitOpsSettings, webhook_url: pulumi.Input[str]) -> dict[str, Any]:
    """The notifications controller's webhook (URL from the secret), one JSON template and
    the three triggers; projects subscribe with `subscription_annotations()`."""
    body = json.dumps(
        {
            "environment": settings.environment,
            "application": "{{.app.metadata.name}}",
            "project": "{{.app.spec.project}}",
            "sync": "{{.app.status.sync.status}}",
            "health": "{{.app.status.health.status}}",
            "revision": "{{.app.status.sync.revision}}",
        }
    )
    return {
        "secret": {"items": {WEBHOOK_SECRET_KEY: webhook_url}},
        "notifiers": {
            f"service.webhook.{WEBHOOK_SERVICE}": yaml.safe_dump(
                {
                    "url": f"${WEBHOOK_SECRET_KEY}",
                    "headers": [{"name": "Content-Type", "value": "application/json"}],
                },
                sort_keys=False,
            )
        },
        "templates": {
            "template.gitops-event": yaml.safe_dump(
                {"webhook": {WEBHOOK_SERVICE: {"method": "POST", "body": body}}}, sort_keys=False
            )
        },
        "triggers": {
            f"trigger.{name}": yaml.safe_dump(
                [
                    {
                        "description": description,
                        "send": ["gitops-event"],
                        "when": when,
                        # Once per state a revision reaches, not on every refresh.
                        "oncePer": "app.status.sync.revision",
                    }
                ],
                sort_keys=False,
            )
            for name, (description, when) in NOTIFY_TRIGGERS.items()
        },
    }


def subscription_annotations() -> dict[str, str]:
    """What subscribes every application of a project to the webhook's events."""
    return {
        f"notifications.argoproj.io/subscribe.{trigger}.{WEBHOOK_SERVICE}": ""
        for trigger in NOTIFY_TRIGGERS
    }


def _component(name: str, replicas: int | None, *, pdb: bool) -> dict[str, Any]:
    cpu, memory = _RESOURCES[name]
    defaults = workload_defaults(
        f"argocd-{name.lower()}", namespace=NAMESPACE, tier="platform", cpu=cpu, memory=memory
    )
    values: dict[str, Any] = {"resources": defaults.resources}
    if replicas is not None:
        values["replicas"] = replicas
    if pdb:
        values["pdb"] = {"enabled": True, "maxUnavailable": 1}
    return values


def helm_values(
    settings: GitOpsSettings,
    *,
    zone_count: int,
    webhook_url: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """Values of the pinned argo-cd chart for one environment; with `webhook_url` (a
    secret), the notifications controller posts every project's events there."""
    ha = highly_available(settings.environment)
    replicas = 2 if ha else 1
    spread_hard = ha and zone_count >= 2
    values: dict[str, Any] = {
        "fullnameOverride": RELEASE,
        "global": {
            **({"domain": settings.ui_host} if settings.ui_host else {}),
            "priorityClassName": "platform-critical",
            "tolerations": [SYSTEM_NODES_TOLERATION.manifest()],
            "affinity": {
                "podAntiAffinity": "soft",
                "nodeAffinity": {
                    "type": "soft",
                    "matchExpressions": [
                        {"key": NODE_GROUP_LABEL, "operator": "In", "values": [SYSTEM_NODE_GROUP]}
                    ],
                },
            },
            # Without a labelSelector the chart uses each component's own.
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": ZONE_KEY,
                    "whenUnsatisfiable": "DoNotSchedule" if spread_hard else "ScheduleAnyway",
                }
            ],
            "logging": {"format": "json"},
        },
        "configs": {
            "cm": _cm(settings),
            # TLS ends at the internal ALB; the hop to the pod stays in the VPC.
            "params": {"server.insecure": True},
            "rbac": _rbac(settings),
        },
        # OIDC talks to the identity provider directly: no Dex.
        "dex": {"enabled": False},
        "controller": {
            **_component("controller", 1, pdb=ha),
            "metrics": {"enabled": True},
        },
        "repoServer": _component("repoServer", replicas, pdb=ha),
        "applicationSet": _component("applicationSet", replicas, pdb=ha),
        "server": {
            **_component("server", replicas, pdb=ha),
            "service": {"type": "ClusterIP", "servicePortHttp": SERVER_PORT},
        },
        "notifications": {
            "enabled": True,
            **_component("notifications", None, pdb=False),
            **(notification_values(settings, webhook_url) if webhook_url is not None else {}),
        },
        "redis": {"enabled": not ha, **_component("redis", None, pdb=False)},
        "redis-ha": {"enabled": ha},
    }
    if ha:
        values["redis-ha"].update(
            {
                "tolerations": [SYSTEM_NODES_TOLERATION.manifest()],
                "haproxy": {"tolerations": [SYSTEM_NODES_TOLERATION.manifest()]},
            }
        )
    return values


def _sync_windows(settings: GitOpsSettings) -> list[dict[str, Any]]:
    return [
        {
            "kind": w.kind,
            "schedule": w.schedule,
            "duration": w.duration,
            "timeZone": w.time_zone,
            "manualSync": w.manual_sync,
            "applications": ["*"],
        }
        for w in settings.sync_windows
    ]


def services_project(
    settings: GitOpsSettings, service_namespaces: Iterable[str], *, notify: bool = False
) -> dict[str, Any]:
    """The AppProject every service's Application belongs to (subscribed to the webhook's
    events with `notify`)."""
    environment = settings.environment
    spec: dict[str, Any] = {
        "description": f"The services of {environment}: their namespaces, from the "
        "environment's repository, nothing cluster-scoped.",
        "sourceRepos": [settings.repo_url],
        "destinations": [
            {"server": IN_CLUSTER, "namespace": namespace}
            for namespace in sorted(set(service_namespaces))
        ],
        "clusterResourceWhitelist": [],
        "namespaceResourceBlacklist": [{"group": "", "kind": k} for k in PLATFORM_OWNED_KINDS[:2]]
        + [{"group": "networking.k8s.io", "kind": PLATFORM_OWNED_KINDS[2]}],
        "orphanedResources": {"warn": True},
    }
    windows = _sync_windows(settings)
    if windows:
        spec["syncWindows"] = windows
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": _metadata(project_name(environment), notify),
        "spec": spec,
    }


def _metadata(name: str, notify: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": NAMESPACE}
    if notify:
        metadata["annotations"] = subscription_annotations()
    return metadata


def root_project(settings: GitOpsSettings, *, notify: bool = False) -> dict[str, Any]:
    """The App-of-Apps' own AppProject: it may create `Application` objects in Argo CD's
    namespace and nothing else."""
    environment = settings.environment
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": _metadata(root_name(environment), notify),
        "spec": {
            "description": f"The App-of-Apps of {environment}: Applications only.",
            "sourceRepos": [settings.repo_url],
            "destinations": [{"server": IN_CLUSTER, "namespace": NAMESPACE}],
            "clusterResourceWhitelist": [],
            "namespaceResourceWhitelist": [{"group": "argoproj.io", "kind": "Application"}],
        },
    }


def sync_policy(environment: str) -> dict[str, Any]:
    """dev and staging: automated, pruning, reverting drift; prod: by hand only."""
    options = ["PruneLast=true", "ApplyOutOfSyncOnly=true"]
    if environment == "prod":
        return {"syncOptions": options}
    return {
        "automated": {"prune": True, "selfHeal": True, "allowEmpty": False},
        "syncOptions": options,
        "retry": {
            "limit": 5,
            "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"},
        },
    }


def root_application(settings: GitOpsSettings) -> dict[str, Any]:
    """The environment's App-of-Apps."""
    environment = settings.environment
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": {
            "name": root_name(environment),
            "namespace": NAMESPACE,
            # Deleting the root deletes its children (and so their resources).
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": root_name(environment),
            "source": {
                "repoURL": settings.repo_url,
                "targetRevision": settings.target_revision,
                "path": settings.path,
            },
            "destination": {"server": IN_CLUSTER, "namespace": NAMESPACE},
            "syncPolicy": sync_policy(environment),
        },
    }


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
    webhook_url: pulumi.Input[str] | None = None,
) -> k8s.helm.v3.Release | None:
    """Argo CD's Helm release, or None when the platform has no `ballast:gitops`;
    `webhook_url` (a secret) turns the notifications on."""
    if cluster.gitops is None:
        return None
    return k8s.helm.v3.Release(
        f"{scope.name}-argocd",
        name=RELEASE,
        chart=versions.ARGO_CD_CHART,
        version=versions.ARGO_CD_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.ARGO_CD_CHART_REPOSITORY),
        namespace=NAMESPACE,
        values=helm_values(cluster.gitops, zone_count=cluster.zone_count, webhook_url=webhook_url),
        opts=scope.opts([namespace, *priority_classes]),
    )


def app_of_apps(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    argocd: k8s.helm.v3.Release,
    notify: bool = False,
) -> list[k8s.apiextensions.CustomResource]:
    """The two AppProjects and the root Application, after the release (whose chart
    brings the CRDs); the root goes first on destroy, so its finalizer still has a
    controller to run it."""
    settings = cluster.gitops
    if settings is None:
        return []
    namespaces = [s.namespace or s.name for s in cluster.services]
    made: list[k8s.apiextensions.CustomResource] = []
    projects = (
        services_project(settings, namespaces, notify=notify),
        root_project(settings, notify=notify),
    )
    for manifest in projects:
        made.append(_custom_resource(scope, manifest, [argocd]))
    made.append(_custom_resource(scope, root_application(settings), [argocd, *made]))
    return made


def _custom_resource(
    scope: InClusterScope, manifest: dict[str, Any], depends: Sequence[pulumi.Resource]
) -> k8s.apiextensions.CustomResource:
    kind = manifest["kind"].lower()
    return k8s.apiextensions.CustomResource(
        f"{scope.name}-{kind}-{manifest['metadata']['name']}",
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        spec=manifest["spec"],
        opts=scope.opts(depends),
    )
