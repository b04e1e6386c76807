"""The Secrets Store CSI driver (`versions.SECRETS_STORE_CSI_DRIVER_CHART_VERSION`): mounts
a pod's `SecretProviderClass` as a read-only volume, filled by a provider plugin; the
only plugin installed is Vault's (the `vault-csi` release of components/cluster/addons/
vault.py). It runs only when the platform has Vault (docs/vault.md, "Injection").

- **Where**: a DaemonSet on every node (it tolerates every taint: a pod on a GPU or
  system node mounts its secrets the same way), in `kube-system` at
  `system-node-critical` priority: the driver is privileged (it propagates mounts to the
  kubelet), which the Pod Security level of Ballast's platform namespaces (`baseline`)
  forbids, and a node without it cannot start any pod that mounts secrets. No
  disruption budget or spread: a DaemonSet has one pod per node by construction, and
  its rolling update replaces one node's pod at a time (`maxUnavailable: 1`); pods
  that already run keep their mounted files while the driver restarts.
- **Requests and limits**: the driver 50m CPU / 128Mi (memory limit = request, like every
  platform workload), the node registrar and the liveness probe 10m / 32Mi each: about
  70m CPU and 192Mi per node, which every node pays whether or not it runs a pod that
  mounts secrets.
- **Rotation on** (`enableSecretRotation`, every `ROTATION_POLL_INTERVAL`): the driver
  asks the provider again for every mounted volume and rewrites the files that changed,
  so short-lived credentials (15 minutes by default) are replaced before they expire.
  Cost: one provider call per mounted volume per interval (a node with 30 such pods:
  15 calls a minute); Vault's CSI provider answers them from its agent's cache until a
  lease needs renewing, so Vault sees a fraction of them. Failure mode: if Vault or the
  provider is down, the files keep their last content (no error in the pod) until the
  credentials in them expire; the driver logs and emits an event per failed rotation.
  The application must re-read its files (or reload on change) to use new values.
- **No sync to Kubernetes Secrets** (`syncSecret.enabled: false`): a synced Secret is a
  static copy of the credential in etcd, readable by anyone who can read Secrets in the
  namespace, and env vars built from it never change in a running pod, which is what
  the zero-static-credentials rule is against. Cost: an application that only reads
  environment variables must read files instead.
- **Token for the provider** (`tokenRequests`): the driver passes the pod's
  service-account token for the audience `vault` to the provider, which logs in with
  it as the service's Vault role (components/vault_access.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import vault_access, versions
from components.cluster.scope import ClusterFacts, InClusterScope
from components.secret_injection import secret_provider_class
from components.vault_access import SecretNeeds
from components.workloads import workload_defaults

NAMESPACE = "kube-system"
RELEASE = "secrets-store-csi-driver"
#: Where the driver looks for provider plugins' sockets; the Vault CSI provider puts its
#: socket there (`csi.daemonSet.providersDir` of the vault chart must be the same).
PROVIDERS_DIR = "/var/run/secrets-store-csi-providers"
#: How often mounted volumes are refreshed from their provider (default 2m, the driver's
#: own default once rotation is on): a credential that expires in 15 minutes is replaced
#: at least six times before it does.
ROTATION_POLL_INTERVAL = "2m"
#: Kubernetes' own priority for per-node agents that pods cannot start without.
PRIORITY_CLASS = "system-node-critical"
#: Tolerate every taint: the driver must be on every node a pod can land on.
TOLERATE_EVERYTHING = [{"operator": "Exists"}]


def _resources(cpu: str, memory: str) -> dict[str, dict[str, str]]:
    return workload_defaults(
        RELEASE, namespace=NAMESPACE, tier="platform", cpu=cpu, memory=memory
    ).resources


def helm_values() -> dict[str, Any]:
    """Values of the pinned secrets-store-csi-driver chart (checked against its
    values.yaml in the tests)."""
    return {
        "linux": {
            "enabled": True,
            "image": {"tag": versions.SECRETS_STORE_CSI_DRIVER_APP_VERSION},
            # The chart installs the SecretProviderClass CRDs of the same release.
            "crds": {"enabled": True},
            "driver": {"resources": _resources("50m", "128Mi")},
            "registrar": {"resources": _resources("10m", "32Mi")},
            "livenessProbe": {"resources": _resources("10m", "32Mi")},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "providersDir": PROVIDERS_DIR,
            "tolerations": TOLERATE_EVERYTHING,
            "priorityClassName": PRIORITY_CLASS,
        },
        "windows": {"enabled": False},
        "syncSecret": {"enabled": False},
        "enableSecretRotation": True,
        "rotationPollInterval": ROTATION_POLL_INTERVAL,
        "providerHealthCheck": True,
        "tokenRequests": [{"audience": vault_access.TOKEN_AUDIENCE}],
    }


def release(
    scope: InClusterScope, *, cluster: ClusterFacts, depends_on: Sequence[pulumi.Resource] = ()
) -> k8s.helm.v3.Release | None:
    """The driver's release, or None when the platform has no Vault (nothing would
    provide secrets)."""
    if cluster.vault is None:
        return None
    return k8s.helm.v3.Release(
        f"{scope.name}-secrets-store-csi-driver",
        name=RELEASE,
        chart=versions.SECRETS_STORE_CSI_DRIVER_CHART,
        version=versions.SECRETS_STORE_CSI_DRIVER_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(
            repo=versions.SECRETS_STORE_CSI_DRIVER_CHART_REPOSITORY
        ),
        namespace=NAMESPACE,
        values=helm_values(),
        opts=scope.opts(list(depends_on)),
    )


def service_secret_needs(services: Iterable[Any]) -> list[tuple[str, str, SecretNeeds]]:
    """(service, namespace, needs) of every service that asks Vault for something. A
    service's needs come from its `secrets` setting (`SecretNeeds.of`); a service
    without that setting (every service until `ballast:services[].secrets` is in the
    configuration) asks for nothing and gets no SecretProviderClass."""
    out = []
    for service in services:
        needs = SecretNeeds.of(getattr(service, "secrets", None))
        if needs:
            out.append((service.name, service.namespace or service.name, needs))
    return out


def secret_provider_classes(
    scope: InClusterScope,
    *,
    services: Iterable[tuple[str, str, SecretNeeds]],
    driver: pulumi.Resource,
    namespaces: Mapping[str, pulumi.Resource],
) -> list[k8s.apiextensions.CustomResource]:
    """One `SecretProviderClass` per (service, namespace, needs), in the service's
    namespace, after the driver's release (which installs the CRD) and the namespace."""
    classes = []
    for service, namespace, needs in services:
        manifest = secret_provider_class(service, namespace, needs)
        classes.append(
            k8s.apiextensions.CustomResource(
                f"{scope.name}-secretproviderclass-{service}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=scope.opts([driver, namespaces[namespace]]),
            )
        )
    return classes
