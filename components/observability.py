"""`Observability`: the cluster layer's metrics and alerting (docs/observability.md).

It installs kube-prometheus-stack (`cluster.addons.kube_prometheus_stack`) with the
on-call receivers' Secret, then the rules Prometheus evaluates, as `PrometheusRule`
objects labelled for its rule selector:

- `slo-<service>`: each service's SLI recording rules and burn-rate, queue-lag and
  rollout-restart alerts (`slo.service_rule_groups`; services without objectives get
  none);
- `platform-alerts`: the platform's own alerts (`slo.platform_rule_groups`), which
  replace the chart's default rules;
- `gitops`: the Argo CD alerts (`argocd_alerts`), when the platform has `ballast:gitops`.

After the release (which installs the monitoring.coreos.com CRDs) it also makes one
`PodMonitor` per platform piece the cluster layer runs (`scrape_targets`: Loki, Tempo,
Alloy, the OpenTelemetry Collector, Vault), so Prometheus scrapes them.

Every alert links its runbook in the repository (`ObservabilitySettings.runbook_base_url`)
and a panel of Grafana, reached at `grafana_url`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import slo
from components.cluster.addons import argocd_alerts, scrape_targets
from components.cluster.addons import kube_prometheus_stack as kps
from components.cluster.scope import InClusterScope
from components.config import GitOpsSettings, ObservabilitySettings, ServiceConfig

#: Where Grafana is reached when the platform has no internal ALB:
#: `kubectl -n observability port-forward svc/grafana 3000:80`.
PORT_FORWARD_GRAFANA_URL = "http://localhost:3000"


@dataclass(kw_only=True)
class ObservabilityArgs:
    """Inputs of `Observability`."""

    provider: k8s.Provider
    """The cluster layer's Kubernetes provider (required)."""
    settings: ObservabilitySettings
    """The resolved `ballast:observability` section, as the platform stack exports it
    (required)."""
    services: Sequence[ServiceConfig]
    """The platform's services; those with `slo` get rules (required)."""
    namespace: pulumi.Resource
    """The `observability` Namespace (the cluster baseline's; required)."""
    grafana_url: str = PORT_FORWARD_GRAFANA_URL
    """Grafana's address that the alerts' dashboard_url links start with (default: the
    port-forward address, for a platform without an internal ALB)."""
    receiver_urls: pulumi.Input[Mapping[str, str]] | None = None
    """The receivers' webhooks keyed like `ReceiversConfig` (a secret Output; default
    None: no receiver, the Secret stays empty and alerts notify nobody)."""
    gitops: GitOpsSettings | None = None
    """The resolved `ballast:gitops` section; with it, the Argo CD alerts are installed
    (default None: no Argo CD, no such alerts)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the release waits for besides the namespace (the priority classes)."""
    scrape: Sequence[tuple[scrape_targets.Target, pulumi.Resource]] = ()
    """The platform pieces to scrape with the release running each: one PodMonitor per
    pair, after that release (default none: the cluster layer passes those whose
    releases it made)."""


class Observability(pulumi.ComponentResource):
    """kube-prometheus-stack, the receivers' Secret and the PrometheusRules.

    Outputs: `release` (the Helm release), `rules` (PrometheusRule name -> resource),
    `monitors` (PodMonitor name -> resource), `links` (where the alerts point).
    """

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Observability", name, None, opts)
        scope = InClusterScope(name=name, parent=self, provider=args.provider)
        self.links = slo.AlertLinks(
            runbook_base=args.settings.runbook_base_url, grafana_url=args.grafana_url
        )
        secret = kps.receivers_secret(
            scope,
            receivers=args.settings.receivers,
            urls=args.receiver_urls,
            namespace=args.namespace,
        )
        self.release = kps.release(
            scope,
            settings=args.settings,
            namespace=args.namespace,
            depends_on=[secret, *args.depends_on],
        )
        self.rules: dict[str, k8s.apiextensions.CustomResource] = {}
        for manifest in rule_manifests(args.services, self.links, args.gitops):
            rule_name = manifest["metadata"]["name"]
            self.rules[rule_name] = k8s.apiextensions.CustomResource(
                f"{name}-rules-{rule_name}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                # The release installs the PrometheusRule CRD.
                opts=scope.opts([self.release]),
            )
        self.monitors = scrape_targets.monitors(scope, args.scrape, crds=self.release)
        self.register_outputs({"rules": sorted(self.rules), "monitors": sorted(self.monitors)})


def rule_manifests(
    services: Sequence[ServiceConfig],
    links: slo.AlertLinks,
    gitops: GitOpsSettings | None,
) -> list[dict[str, Any]]:
    """Every PrometheusRule the component installs, as manifests in
    `kube_prometheus_stack.NAMESPACE`: one per service with objectives, the platform
    alerts, and the GitOps alerts when there is Argo CD."""
    namespace = kps.NAMESPACE
    manifests = [
        slo.prometheus_rule(f"slo-{s.name}", namespace, slo.service_rule_groups(s, links))
        for s in services
        if s.slo is not None
    ]
    manifests.append(
        slo.prometheus_rule("platform-alerts", namespace, slo.platform_rule_groups(links))
    )
    if gitops is not None:
        manifests.append(
            argocd_alerts.prometheus_rule(
                gitops,
                namespace=namespace,
                dashboard_url=links.panel(slo.PLATFORM_DASHBOARD, slo.PLATFORM_PANELS["gitops"]),
                runbook_base=links.runbook_base,
            )
        )
    return manifests
