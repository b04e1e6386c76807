"""Argo CD objects Ballast declares (the AppProjects and root Applications of the
cluster stacks): prod never syncs by itself, and no project or application deploys into
`kube-system` or a platform namespace.

Argo CD's own namespace is the one exception a project may target, and only for
`Application` objects: that is what an App-of-Apps deploys. Argo CD enforces the
project's whitelist at sync time, so an Application aimed at that namespace can create
nothing else there.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ResourceValidationArgs

from ballast_guardrails.spec import HIGH, SECURITY, Report, Settings, resource_policy
from ballast_guardrails.values import as_list, get

APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
#: Kubernetes' own namespaces and the platform add-ons' (components/config/cluster.py).
FORBIDDEN_NAMESPACES = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "default",
    "cluster-autoscaler",
    "ingress",
    "observability",
    "vault",
]
APPLICATIONS_ONLY = [{"group": "argoproj.io", "kind": "Application"}]


@resource_policy(
    name="argocd-manual-sync-in-prod",
    types={APPLICATION},
    description="Argo CD Applications have no automated sync where it is not allowed "
    "(prod): a person syncs, inside the sync windows.",
    severity=HIGH,
    profile=SECURITY,
    remediation="Remove spec.syncPolicy.automated; sync prod by hand after reviewing the "
    "diff (docs/gitops.md).",
    config={
        "automatedSyncAllowed": {
            "type": "boolean",
            "default": False,
            "description": "Whether this environment's Applications may sync by themselves "
            "(dev and staging: true; prod: false).",
        }
    },
)
def _manual_sync(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if settings["automatedSyncAllowed"]:
        return
    if get(args.props, "spec", "syncPolicy", "automated") is not None:
        report("spec.syncPolicy.automated is set: this environment syncs only by hand")


def _destination_problems(
    namespace: object, settings: Settings, *, applications_only: bool
) -> list[str]:
    name = str(namespace) if namespace is not None else ""
    if name in ("", "*") or "*" in name:
        return [f"destination namespace {name or '(none)'} is not one named namespace"]
    if name in settings["forbiddenNamespaces"]:
        return [f"destination namespace {name} is Kubernetes' or the platform's"]
    if name == settings["argocdNamespace"] and not applications_only:
        return [
            f"destination namespace {name} is Argo CD's own; a project may target it only "
            "with Application objects alone"
        ]
    return []


_NAMESPACE_CONFIG: dict[str, dict[str, Any]] = {
    "forbiddenNamespaces": {
        "type": "array",
        "items": {"type": "string"},
        "default": FORBIDDEN_NAMESPACES,
        "description": "Namespaces no project or application may deploy into.",
    },
    "argocdNamespace": {
        "type": "string",
        "default": "gitops",
        "description": "Argo CD's namespace: only an Applications-only project may target it.",
    },
}


@resource_policy(
    name="argocd-no-platform-destinations",
    types={APPLICATION, APP_PROJECT},
    description="Argo CD projects and applications deploy only into service namespaces, "
    "never kube-system or a platform namespace.",
    severity=HIGH,
    profile=SECURITY,
    remediation="Point the destination at the service's own namespace; platform add-ons "
    "are the cluster stack's, not Argo CD's.",
    config=_NAMESPACE_CONFIG,
)
def _no_platform_destinations(
    args: ResourceValidationArgs, report: Report, settings: Settings
) -> None:
    spec = get(args.props, "spec")
    if args.resource_type == APP_PROJECT:
        whitelist = as_list(get(spec, "namespaceResourceWhitelist"))
        applications_only = [dict(w) for w in whitelist] == APPLICATIONS_ONLY
        for destination in as_list(get(spec, "destinations")):
            for problem in _destination_problems(
                get(destination, "namespace"), settings, applications_only=applications_only
            ):
                report(f"AppProject {problem}")
        return
    namespace = get(spec, "destination", "namespace")
    for problem in _destination_problems(namespace, settings, applications_only=True):
        report(f"Application {problem}")
