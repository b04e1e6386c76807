"""Vault's cluster-layer half (docs/vault.md): the servers' TLS certificate and the Helm
release of the official `vault` chart (`versions.VAULT_CHART_VERSION`).

The release runs Vault in HA with integrated Raft storage on every environment (dev runs
a one-node Raft, so it rehearses what staging and prod run):

- `replicas` servers (`ballast:vault.replicas`: 1 in dev, 3 elsewhere), never two on one
  node (required pod anti-affinity) and spread over the zones with a maximum skew of one
  (`DoNotSchedule`), a disruption budget of one unavailable server, requests equal to
  limits for memory, on the system node group at the platform priority;
- a Raft volume and an audit-log volume per server from the default StorageClass
  (encrypted gp3);
- TLS on the listener (API and cluster port) with a certificate from `tls_secret`;
- the `awskms` seal with the platform's unseal key, through the IRSA role the platform
  layer made (components/vault.py); when the platform also made the AWS secrets
  engine's role (components/vault_aws.py), the service account carries that one and
  the seal assumes its own role explicitly, so neither can do the other's work;
- the UI, reached only through the internal ALB: the platform stack's route sends it to
  the Service `vault-active`, and `load_balancer_controller.bindings` binds it. The chart
  makes no Ingress and no LoadBalancer Service.

Injection (docs/vault.md, "Injection"; a service's side is components/secret_injection.py):

- the **Agent Injector** in this release: a mutating webhook that adds a Vault Agent to
  every pod annotated `vault.hashicorp.com/agent-inject: "true"` in a service namespace
  (`injector_values`);
- the **Vault CSI provider** in a second release of the same chart, `vault-csi` in
  `kube-system` (`csi_provider_values`): the provider plugin of the Secrets Store CSI
  driver (components/cluster/addons/secrets_store_csi_driver.py), a DaemonSet with a
  caching Vault Agent beside it. Its own release because it needs host paths, which
  the `vault` namespace's Pod Security level (`baseline`) forbids.

Both trust the listener's CA (`ca_config_map` in kube-system for the provider; the
injector passes it to every agent it injects).

The audit device itself is a Vault API object: the cluster stack's configuration as code
enables a file device writing `AUDIT_LOG_FILE` on the audit volume
(components/cluster/addons/vault_config.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from components import vault_access, versions
from components.cluster.addons import secrets_store_csi_driver as csi_driver
from components.cluster.baseline import DEFAULT_STORAGE_CLASS
from components.cluster.scope import ClusterFacts, InClusterScope
from components.tags import TIER_LABEL
from components.workloads import HOST_KEY, ZONE_KEY, workload_defaults

NAMESPACE = "vault"
SERVICE_ACCOUNT = "vault"
RELEASE = "vault"
#: The chart's Service that selects only the active server (HA mode): the UI route's
#: target, so the ALB never sends a request to a standby.
ACTIVE_SERVICE = "vault-active"
#: The chart's headless Service: each server's stable DNS name for Raft.
INTERNAL_SERVICE = "vault-internal"
PORT = 8200
CLUSTER_PORT = 8201
#: The health check of the UI route: 200 from the active server only (a standby answers
#: 429, a sealed server 503).
HEALTH_CHECK_PATH = "/v1/sys/health"
#: The Secret (in the vault namespace) with the listener's certificate, key and CA.
TLS_SECRET = "vault-tls"
TLS_DIR = "/vault/userconfig/vault-tls"
#: The servers' certificate is valid for a year and renewed by the first `pulumi up` of
#: the cluster stack in its last 30 days (docs/vault.md, "TLS"); the CA for ten years.
CERT_VALIDITY_HOURS = 365 * 24
CERT_EARLY_RENEWAL_HOURS = 30 * 24
CA_VALIDITY_HOURS = 10 * 365 * 24
#: Where EKS projects the service account token IRSA exchanges for role credentials.
WEB_IDENTITY_TOKEN_FILE = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
#: Where each server serves its metrics (with `?format=prometheus`).
METRICS_PATH = "/v1/sys/metrics"
#: How long a server keeps a metric it has not updated: a rare event's series (a seal,
#: a failed unseal) stays readable over many scrapes, for the memory of its series.
METRICS_RETENTION = "24h"
#: Where each server's audit volume is mounted, and the audit log the file audit device
#: writes there.
AUDIT_DIR = "/vault/audit"
AUDIT_LOG_FILE = f"{AUDIT_DIR}/audit.log"
#: The labels the chart puts on every server pod.
SERVER_LABELS = {
    "app.kubernetes.io/name": "vault",
    "app.kubernetes.io/instance": RELEASE,
    "component": "server",
}


#: The labels the chart puts on the Agent Injector's pods.
INJECTOR_LABELS = {
    "app.kubernetes.io/name": "vault-agent-injector",
    "app.kubernetes.io/instance": RELEASE,
    "component": "webhook",
}
#: The second release of the chart: only the CSI provider, in kube-system.
CSI_RELEASE = "vault-csi"
CSI_NAMESPACE = csi_driver.NAMESPACE
#: The ConfigMap (in kube-system) with the listener's CA certificate (public), and where
#: the CSI provider and its agent mount it.
CA_CONFIG_MAP = "vault-ca"
CA_DIR = "/vault/userconfig/vault-ca"
#: The namespaces the injector's webhook sees: the services' (tiers 1 to 3). Platform
#: namespaces and Kubernetes' own are outside it, so a webhook that fails closed can
#: never stop a platform pod (the injector's own included) from starting.
SERVICE_TIERS = ("tier-1", "tier-2", "tier-3")
#: Requests and limits of each agent the injector adds to a pod (per pod, for every
#: pod of every service that uses the injector): 25m CPU (limit 50m) and 64Mi; an
#: agent that renders a few files needs little, and this is paid once per pod.
AGENT_CPU_REQUEST = "25m"
AGENT_CPU_LIMIT = "50m"
AGENT_MEMORY = "64Mi"


def in_cluster_url() -> str:
    """The active server's address inside the cluster."""
    return f"https://{ACTIVE_SERVICE}.{NAMESPACE}.svc:{PORT}"


def server_dns_names(replicas: int) -> list[str]:
    """Every name a client or a Raft peer reaches a server by: the Services, each pod's
    name under the headless Service, and localhost for `vault` run inside a pod."""
    services = (RELEASE, ACTIVE_SERVICE, "vault-standby", INTERNAL_SERVICE)
    names = [
        *(f"{s}.{NAMESPACE}.svc" for s in services),
        *(f"{s}.{NAMESPACE}.svc.cluster.local" for s in services),
        *(f"{RELEASE}-{i}.{INTERNAL_SERVICE}" for i in range(replicas)),
        *(f"{RELEASE}-{i}.{INTERNAL_SERVICE}.{NAMESPACE}.svc" for i in range(replicas)),
        "localhost",
    ]
    return names


def server_config(
    *, region: str, unseal_key_id: str, replicas: int, seal_role_arn: str | None = None
) -> str:
    """Vault's server configuration (HCL): a TLS listener, Raft storage that joins the
    other servers over TLS, the `awskms` seal with `unseal_key_id`, Kubernetes service
    registration (which labels the active pod for `vault-active`), the UI, and telemetry
    in Prometheus format (`METRICS_PATH`, kept `METRICS_RETENTION`, names without the
    host name so every server's series share one name).

    **The listener serves `METRICS_PATH` without a token**
    (`unauthenticated_metrics_access`). What that exposes: counters, gauges and timings
    of Vault's own operation (seal state, Raft leadership and commit times, request and
    lease counts, token counts by auth method, mount paths as label values); no secret,
    token, lease ID or policy. Who can read it: whatever reaches a server's port 8200,
    i.e. pods of the cluster and, through the internal ALB's route to `vault-active`,
    hosts inside the VPC; never the internet. Why not a token-based scrape: a sealed
    server rejects every authenticated request, so Prometheus would read nothing from
    exactly the server `VaultSealed` is about, while the unauthenticated handler answers
    sealed or not; and a token would be a long-lived Vault credential stored in a Secret
    of the observability namespace, a larger risk than the operational figures above.

    `seal_role_arn` (default None: the pod's IRSA role): the role the seal assumes with
    the pod's web identity token. Set when the service account's IRSA role is the AWS
    secrets engine's, so the seal keeps its own role and the engine cannot use the key."""
    seal_role = (
        f'  role_arn = "{seal_role_arn}"\n'
        f'  web_identity_token_file = "{WEB_IDENTITY_TOKEN_FILE}"\n'
        f'  role_session_name = "vault-seal"\n'
        if seal_role_arn is not None
        else ""
    )
    joins = "\n".join(
        f"""  retry_join {{
    leader_api_addr = "https://{RELEASE}-{i}.{INTERNAL_SERVICE}:{PORT}"
    leader_ca_cert_file = "{TLS_DIR}/ca.crt"
  }}"""
        for i in range(replicas)
    )
    return f"""ui = true
listener "tcp" {{
  address = "[::]:{PORT}"
  cluster_address = "[::]:{CLUSTER_PORT}"
  tls_disable = false
  tls_cert_file = "{TLS_DIR}/tls.crt"
  tls_key_file = "{TLS_DIR}/tls.key"
  tls_min_version = "tls12"
  telemetry {{
    unauthenticated_metrics_access = true
  }}
}}
storage "raft" {{
  path = "/vault/data"
{joins}
}}
seal "awskms" {{
  region = "{region}"
  kms_key_id = "{unseal_key_id}"
{seal_role}}}
service_registration "kubernetes" {{}}
telemetry {{
  prometheus_retention_time = "{METRICS_RETENTION}"
  disable_hostname = true
}}
"""


def server_affinity() -> dict[str, Any]:
    """Never two servers on one node (a node's loss costs one Raft voter at most); prefer
    the system node group."""
    defaults = workload_defaults(
        RELEASE, namespace=NAMESPACE, tier="platform", system_nodes=True, selector=SERVER_LABELS
    )
    return {
        **(defaults.affinity or {}),
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": dict(SERVER_LABELS)}, "topologyKey": HOST_KEY}
            ]
        },
    }


def server_spread() -> list[dict[str, Any]]:
    """Servers spread over the zones, at most one apart (`DoNotSchedule`): three servers
    over three zones is one per zone, so a zone's loss keeps two of three voters."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": ZONE_KEY,
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": dict(SERVER_LABELS)},
        }
    ]


def injector_replicas(environment: str) -> int:
    """Two injectors (spread over zones, a budget of one unavailable) outside dev: the
    webhook fails closed, so with one replica every restart of it would hold up pod
    creation in the service namespaces; one in dev."""
    return 1 if environment == "dev" else 2


def injector_values(*, environment: str, ca_cert: pulumi.Input[str]) -> dict[str, Any]:
    """The Agent Injector (`injector` values of the chart).

    - The webhook sees only the service namespaces (`SERVICE_TIERS` by their tier label)
      and **fails closed** (`failurePolicy: Fail`, 10 s timeout): a pod that asks for
      secrets never starts without them. Cost: while no injector answers, no pod can be
      created in a service namespace (running pods are not affected); hence two
      replicas outside dev.
    - Injected agents log in on `auth/kubernetes`, trust the listener's CA (`ca_cert`,
      passed as `AGENT_INJECT_VAULT_CACERT_BYTES`), revoke their leases when their pod
      stops, and get `AGENT_*` requests and limits.
    - The injector itself: platform priority, on the system node group, never two on
      one node, spread over zones, a budget of one unavailable."""
    replicas = injector_replicas(environment)
    defaults = workload_defaults(
        "vault-agent-injector",
        namespace=NAMESPACE,
        tier="platform",
        cpu="50m",
        memory="128Mi",
        system_nodes=True,
        selector=INJECTOR_LABELS,
    )
    return {
        "enabled": True,
        "replicas": replicas,
        "image": {"repository": "hashicorp/vault-k8s", "tag": versions.VAULT_K8S_VERSION},
        "agentImage": {"repository": "hashicorp/vault", "tag": versions.VAULT_VERSION},
        "agentDefaults": {
            "cpuRequest": AGENT_CPU_REQUEST,
            "cpuLimit": AGENT_CPU_LIMIT,
            "memRequest": AGENT_MEMORY,
            "memLimit": AGENT_MEMORY,
        },
        "authPath": vault_access.auth_path(),
        "revokeOnShutdown": True,
        "webhook": {
            "failurePolicy": "Fail",
            "timeoutSeconds": 10,
            "namespaceSelector": {
                "matchExpressions": [
                    {"key": TIER_LABEL, "operator": "In", "values": list(SERVICE_TIERS)}
                ]
            },
        },
        "extraEnvironmentVars": {"AGENT_INJECT_VAULT_CACERT_BYTES": ca_cert},
        "resources": defaults.resources,
        "tolerations": defaults.tolerations,
        "priorityClassName": defaults.priority_class_name,
        "affinity": {
            **(defaults.affinity or {}),
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": dict(INJECTOR_LABELS)},
                        "topologyKey": HOST_KEY,
                    }
                ]
            },
        },
        "topologySpreadConstraints": defaults.topology_spread_constraints,
        "podDisruptionBudget": {"maxUnavailable": defaults.max_unavailable},
    }


def csi_provider_values() -> dict[str, Any]:
    """The `vault-csi` release: only the chart's CSI provider (no server, no injector),
    pointed at the active server, as a DaemonSet on every node (it tolerates every
    taint, like the driver it plugs into) at `system-node-critical` priority. Its Vault
    Agent sidecar (`csi.agent`) caches tokens and leased secrets, so the driver's
    rotation polls do not issue a new credential each time; both trust the listener's
    CA from `CA_CONFIG_MAP`."""

    def resources(cpu: str, memory: str) -> dict[str, dict[str, str]]:
        return workload_defaults(
            CSI_RELEASE, namespace=CSI_NAMESPACE, tier="platform", cpu=cpu, memory=memory
        ).resources

    ca_file = f"{CA_DIR}/ca.crt"
    return {
        "global": {"enabled": True, "tlsDisable": False, "externalVaultAddr": in_cluster_url()},
        "injector": {"enabled": False},
        "server": {"enabled": False},
        "ui": {"enabled": False},
        "csi": {
            "enabled": True,
            "image": {
                "repository": "hashicorp/vault-csi-provider",
                "tag": versions.VAULT_CSI_PROVIDER_VERSION,
            },
            "resources": resources("50m", "64Mi"),
            "priorityClassName": csi_driver.PRIORITY_CLASS,
            "pod": {"tolerations": csi_driver.TOLERATE_EVERYTHING},
            "daemonSet": {
                "providersDir": csi_driver.PROVIDERS_DIR,
                "updateStrategy": {"type": "RollingUpdate", "maxUnavailable": "1"},
            },
            "volumes": [{"name": CA_CONFIG_MAP, "configMap": {"name": CA_CONFIG_MAP}}],
            "volumeMounts": [{"name": CA_CONFIG_MAP, "mountPath": CA_DIR, "readOnly": True}],
            "agent": {
                "enabled": True,
                "image": {"repository": "hashicorp/vault", "tag": versions.VAULT_VERSION},
                "resources": resources("25m", "64Mi"),
                "extraArgs": [f"-ca-cert={ca_file}"],
            },
        },
    }


def helm_values(
    *,
    region: str,
    replicas: int,
    storage_size_gib: int,
    role_arn: pulumi.Input[str],
    unseal_key_id: pulumi.Input[str],
    environment: str,
    ca_cert: pulumi.Input[str],
    aws_engine_role_arn: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """Values of the pinned vault chart (checked against its values.yaml and
    values.schema.json in the tests): the servers, and the Agent Injector
    (`injector_values` for `environment`, trusting `ca_cert`). `role_arn` is the server
    (unseal) role; `aws_engine_role_arn` (default None: no AWS secrets engine) the AWS
    secrets engine's. With both, the service account carries the engine's role (the AWS
    SDK's default credentials, which the engine uses) and the seal assumes `role_arn`
    itself."""
    defaults = workload_defaults(
        RELEASE,
        namespace=NAMESPACE,
        tier="platform",
        cpu="250m",
        memory="512Mi",
        system_nodes=True,
        selector=SERVER_LABELS,
    )
    storage = {
        "enabled": True,
        "size": f"{storage_size_gib}Gi",
        "storageClass": DEFAULT_STORAGE_CLASS,
        "accessMode": "ReadWriteOnce",
    }
    seal_role = None if aws_engine_role_arn is None else role_arn
    config = pulumi.Output.all(unseal_key_id, seal_role).apply(
        lambda found: server_config(
            region=region, unseal_key_id=found[0], replicas=replicas, seal_role_arn=found[1]
        )
    )
    return {
        "global": {"enabled": True, "tlsDisable": False},
        "injector": injector_values(environment=environment, ca_cert=ca_cert),
        "server": {
            "enabled": True,
            "image": {"repository": "hashicorp/vault", "tag": versions.VAULT_VERSION},
            # Upgrades replace standbys first and the active server last, by hand.
            "updateStrategyType": "OnDelete",
            "resources": defaults.resources,
            "tolerations": defaults.tolerations,
            "priorityClassName": defaults.priority_class_name,
            "affinity": server_affinity(),
            "topologySpreadConstraints": server_spread(),
            "extraEnvironmentVars": {
                # The `vault` CLI inside a pod verifies the listener with the CA.
                "VAULT_CACERT": f"{TLS_DIR}/ca.crt",
                "VAULT_ADDR": f"https://127.0.0.1:{PORT}",
            },
            "volumes": [{"name": TLS_SECRET, "secret": {"secretName": TLS_SECRET}}],
            "volumeMounts": [{"name": TLS_SECRET, "mountPath": TLS_DIR, "readOnly": True}],
            "readinessProbe": {"enabled": True, "port": PORT},
            "dataStorage": {**storage, "mountPath": "/vault/data"},
            "auditStorage": {**storage, "mountPath": AUDIT_DIR},
            "serviceAccount": {
                "create": True,
                "name": SERVICE_ACCOUNT,
                "annotations": {
                    "eks.amazonaws.com/role-arn": (
                        aws_engine_role_arn if aws_engine_role_arn is not None else role_arn
                    )
                },
            },
            "service": {"enabled": True, "active": {"enabled": True}},
            "ingress": {"enabled": False},
            "standalone": {"enabled": False},
            "ha": {
                "enabled": True,
                "replicas": replicas,
                "apiAddr": None,
                "raft": {"enabled": True, "setNodeId": True, "config": config},
                "disruptionBudget": {"enabled": True, "maxUnavailable": 1},
            },
        },
        # The UI is served by the active server's listener (`ui = true`) through the
        # internal ALB; no extra Service of the chart's.
        "ui": {"enabled": False},
        # The CSI provider is the `vault-csi` release (csi_provider_values).
        "csi": {"enabled": False},
    }


def tls_secret(
    scope: InClusterScope, *, replicas: int, namespace: pulumi.Resource
) -> tuple[k8s.core.v1.Secret, pulumi.Output[str]]:
    """The listener's certificate: a private CA for this cluster's Vault (ECDSA P-256,
    ten years) and a server certificate it signs for every name in `server_dns_names`
    (one year, renewed by the first `pulumi up` in its last 30 days), in the Secret
    `vault-tls` (`tls.crt`, `tls.key`, `ca.crt`). The keys live only in the stack's
    encrypted state and in that Secret. Returns the Secret and the CA certificate (PEM,
    public: what clients verify the listener with)."""
    provider = tls.Provider(f"{scope.name}-tls", opts=pulumi.ResourceOptions(parent=scope.parent))
    opts = pulumi.ResourceOptions(parent=scope.parent, provider=provider)
    ca_key = tls.PrivateKey(
        f"{scope.name}-vault-ca", algorithm="ECDSA", ecdsa_curve="P256", opts=opts
    )
    ca = tls.SelfSignedCert(
        f"{scope.name}-vault-ca",
        private_key_pem=ca_key.private_key_pem,
        is_ca_certificate=True,
        subject={"common_name": f"{scope.name} Vault CA", "organization": "Ballast"},
        validity_period_hours=CA_VALIDITY_HOURS,
        allowed_uses=["cert_signing", "crl_signing"],
        opts=opts,
    )
    key = tls.PrivateKey(
        f"{scope.name}-vault-server", algorithm="ECDSA", ecdsa_curve="P256", opts=opts
    )
    request = tls.CertRequest(
        f"{scope.name}-vault-server",
        private_key_pem=key.private_key_pem,
        subject={"common_name": f"{ACTIVE_SERVICE}.{NAMESPACE}.svc"},
        dns_names=server_dns_names(replicas),
        ip_addresses=["127.0.0.1"],
        opts=opts,
    )
    cert = tls.LocallySignedCert(
        f"{scope.name}-vault-server",
        cert_request_pem=request.cert_request_pem,
        ca_private_key_pem=ca_key.private_key_pem,
        ca_cert_pem=ca.cert_pem,
        validity_period_hours=CERT_VALIDITY_HOURS,
        early_renewal_hours=CERT_EARLY_RENEWAL_HOURS,
        allowed_uses=["digital_signature", "key_encipherment", "server_auth", "client_auth"],
        opts=opts,
    )
    secret = k8s.core.v1.Secret(
        f"{scope.name}-vault-tls",
        metadata={"name": TLS_SECRET, "namespace": NAMESPACE},
        type="kubernetes.io/tls",
        string_data={
            "tls.crt": cert.cert_pem,
            "tls.key": key.private_key_pem,
            "ca.crt": ca.cert_pem,
        },
        opts=scope.opts([namespace]),
    )
    return secret, ca.cert_pem


def ca_config_map(scope: InClusterScope, ca_cert: pulumi.Input[str]) -> k8s.core.v1.ConfigMap:
    """The listener's CA certificate (`ca.crt`) in kube-system, for the CSI provider."""
    return k8s.core.v1.ConfigMap(
        f"{scope.name}-vault-ca",
        metadata={"name": CA_CONFIG_MAP, "namespace": CSI_NAMESPACE},
        data={"ca.crt": ca_cert},
        opts=scope.opts(),
    )


def csi_provider_release(
    scope: InClusterScope, *, ca: pulumi.Resource, driver: pulumi.Resource
) -> k8s.helm.v3.Release:
    """The `vault-csi` release, after the CSI driver and the CA ConfigMap."""
    return k8s.helm.v3.Release(
        f"{scope.name}-vault-csi",
        name=CSI_RELEASE,
        chart=versions.VAULT_CHART,
        version=versions.VAULT_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.VAULT_CHART_REPOSITORY),
        namespace=CSI_NAMESPACE,
        values=csi_provider_values(),
        opts=scope.opts([ca, driver]),
    )


def release(
    scope: InClusterScope,
    *,
    cluster: ClusterFacts,
    namespace: pulumi.Resource,
    priority_classes: Sequence[pulumi.Resource],
    csi_driver_release: pulumi.Resource | None,
) -> k8s.helm.v3.Release | None:
    """The TLS Secret and the Helm release (servers and injector), after the namespace
    and the priority classes; with `csi_driver_release`, also the CA ConfigMap and the
    `vault-csi` release after it. None when the platform has no Vault (no unseal key or
    role was made)."""
    vault = cluster.vault
    if vault is None:
        return None
    secret, ca_cert = tls_secret(scope, replicas=vault.replicas, namespace=namespace)
    if csi_driver_release is not None:
        csi_provider_release(scope, ca=ca_config_map(scope, ca_cert), driver=csi_driver_release)
    return k8s.helm.v3.Release(
        f"{scope.name}-vault",
        name=RELEASE,
        chart=versions.VAULT_CHART,
        version=versions.VAULT_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.VAULT_CHART_REPOSITORY),
        namespace=NAMESPACE,
        values=helm_values(
            region=cluster.region,
            replicas=vault.replicas,
            storage_size_gib=vault.storage_size_gib,
            role_arn=vault.server_role_arn,
            unseal_key_id=vault.unseal_key_id,
            environment=cluster.environment,
            ca_cert=ca_cert,
            aws_engine_role_arn=vault.aws_engine_role_arn,
        ),
        opts=scope.opts([namespace, secret, *priority_classes]),
    )
