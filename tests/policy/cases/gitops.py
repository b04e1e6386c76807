"""Argo CD Applications and AppProjects declared with the Pulumi Kubernetes provider,
through the analyzer protocol."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from tests.policy.casebook import Case

REPO = "https://github.com/acme/platform.git"
IN_CLUSTER = "https://kubernetes.default.svc"
SYNC = "argocd-manual-sync-in-prod"
DESTINATIONS = "argocd-no-platform-destinations"


def application(namespace: str = "checkout", *, automated: bool = False):
    def build(env, name):
        policy: dict = {"syncOptions": ["PruneLast=true"]}
        if automated:
            policy["automated"] = {"prune": True, "selfHeal": True}
        k8s.apiextensions.CustomResource(
            name,
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata={"name": name, "namespace": "gitops"},
            spec={
                "project": "prod",
                "source": {"repoURL": REPO, "targetRevision": "main", "path": "gitops/envs/prod"},
                "destination": {"server": IN_CLUSTER, "namespace": namespace},
                "syncPolicy": policy,
            },
            opts=pulumi.ResourceOptions(provider=env.k8s),
        )

    return build


def project(*namespaces: str, applications_only: bool = False):
    def build(env, name):
        spec: dict = {
            "sourceRepos": [REPO],
            "destinations": [{"server": IN_CLUSTER, "namespace": n} for n in namespaces],
            "clusterResourceWhitelist": [],
        }
        if applications_only:
            spec["namespaceResourceWhitelist"] = [{"group": "argoproj.io", "kind": "Application"}]
        k8s.apiextensions.CustomResource(
            name,
            api_version="argoproj.io/v1alpha1",
            kind="AppProject",
            metadata={"name": name, "namespace": "gitops"},
            spec=spec,
            opts=pulumi.ResourceOptions(provider=env.k8s),
        )

    return build


CASES = [
    Case("prod-app-manual", application(), passes=(SYNC, DESTINATIONS)),
    Case("prod-app-automated", application(automated=True), fails=SYNC),
    Case("staging-app-automated", application(automated=True), passes=(SYNC,), config="staging"),
    Case("app-into-kube-system", application("kube-system"), fails=DESTINATIONS),
    Case("app-into-vault", application("vault"), fails=DESTINATIONS),
    Case("root-app-into-argocd", application("gitops"), passes=(DESTINATIONS,)),
    Case("project-services", project("checkout", "catalog"), passes=(DESTINATIONS,)),
    Case("project-platform", project("checkout", "observability"), fails=DESTINATIONS),
    Case("project-any-namespace", project("*"), fails=DESTINATIONS),
    Case("project-root", project("gitops", applications_only=True), passes=(DESTINATIONS,)),
    Case("project-argocd-anything", project("gitops"), fails=DESTINATIONS),
]
