"""Every pinned engine, add-on and chart version of the platform, in one place.

Bump versions here, in a reviewed change of their own (never mixed with a feature), and
read the release notes first. Each pin says where it came from, so the next person can
check it the same way.

Refreshing the EKS managed add-ons for a Kubernetes version (run with credentials for
any account; the answer is the same for every account of a partition)::

    for addon in vpc-cni coredns kube-proxy aws-ebs-csi-driver eks-pod-identity-agent; do
      aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name "$addon" \\
        --query 'addons[0].addonVersions[].[addonVersion, compatibilities[0].defaultVersion]' \\
        --output text | head -3
    done

The first column is the version, the second whether it is EKS's default for that
Kubernetes version. An add-on version that does not list the cluster's Kubernetes
version fails `CreateAddon`/`UpdateAddon` at apply time, before anything changes.

Renovate (`.github/renovate.json`) proposes chart and autoscaler-image bumps from this
file: a chart is pinned as three consecutive constants, `<NAME>_CHART_REPOSITORY`,
`<NAME>_CHART` and `<NAME>_CHART_VERSION`, which is the shape its custom manager reads
(tests/test_repository_hygiene.py fails for a chart pinned any other way). The add-on and
engine versions below need AWS credentials to look up, so they are refreshed by hand.

The Kubernetes upgrade procedure (one minor at a time: control plane, then add-ons, then
node groups, then the autoscaler image) is in docs/cluster.md.
"""

from __future__ import annotations

from typing import Final

#: Kubernetes minor version of the EKS control plane and the managed node groups.
#: EKS released 1.35 on 2026-01-28; its standard support runs until 2027-03-27, extended
#: support (at extra cost per cluster hour) until 2028-03-27 (EKS Kubernetes release
#: calendar, docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html).
#: kubernetes-validate 1.37.0 ships the 1.35 schemas the tests validate against.
KUBERNETES_VERSION: Final = "1.35"

#: Managed add-on versions per Kubernetes minor version. Only versions listed here can be
#: chosen in `ballast:cluster.kubernetesVersion`: an upgrade starts by adding the next
#: minor's add-on versions.
#:
#: Sources for 1.35 (EKS's *default* version for each add-on, i.e. what an unpinned
#: cluster would get; pinning the default keeps "pin" and "upgrade" separate changes):
#: - vpc-cni v1.22.4-eksbuild.3, kube-proxy v1.35.3-eksbuild.21 and coredns
#:   v1.13.2-eksbuild.21: `describe-addon-versions --kubernetes-version 1.35` defaults as
#:   read on 2026-08-27 and recorded in a public EKS 1.35 Terraform configuration. The
#:   EKS User Guide's tables list newer non-default builds for 1.35 (coredns
#:   v1.14.3-eksbuild.3); moving coredns to v1.14 is a deliberate upgrade, not a pin.
#: - aws-ebs-csi-driver v1.63.1-eksbuild.1 and eks-pod-identity-agent v1.3.10-eksbuild.3:
#:   the 1.35 defaults of the same query recorded in another public configuration
#:   (pod-identity-agent v1.3.10-eksbuild.3 is also what EKS 1.36 clusters resolve to).
#: Re-run the query above before the first `pulumi up` of a fork; new builds appear
#: every few weeks.
ADDON_VERSIONS: Final[dict[str, dict[str, str]]] = {
    "1.35": {
        "vpc-cni": "v1.22.4-eksbuild.3",
        "kube-proxy": "v1.35.3-eksbuild.21",
        "coredns": "v1.13.2-eksbuild.21",
        "aws-ebs-csi-driver": "v1.63.1-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
    },
}

#: Kubernetes versions Ballast can build a cluster for (those with pinned add-ons).
SUPPORTED_KUBERNETES_VERSIONS: Final = tuple(sorted(ADDON_VERSIONS))

#: Cluster Autoscaler: chart `cluster-autoscaler` from the Kubernetes autoscaler project's
#: Helm repository. The autoscaler's minor version must equal the cluster's Kubernetes
#: minor (its scheduler simulation is compiled from that release), so the image tag is
#: pinned per Kubernetes version, next to the chart. Chart 9.59.0 defaults to image
#: v1.35.0; v1.35.2 is a later 1.35 patch release of registry.k8s.io/autoscaling/
#: cluster-autoscaler (tags follow github.com/kubernetes/autoscaler releases
#: "cluster-autoscaler-1.35.x"; check there for a newer patch when bumping).
CLUSTER_AUTOSCALER_CHART_REPOSITORY: Final = "https://kubernetes.github.io/autoscaler"
CLUSTER_AUTOSCALER_CHART: Final = "cluster-autoscaler"
CLUSTER_AUTOSCALER_CHART_VERSION: Final = "9.59.0"
CLUSTER_AUTOSCALER_IMAGE_TAGS: Final[dict[str, str]] = {"1.35": "v1.35.2"}

#: AWS Load Balancer Controller: chart `aws-load-balancer-controller` from the EKS charts
#: repository, and the controller image it deploys (appVersion v3.5.0 of chart 3.5.0).
#: In Ballast it only serves TargetGroupBindings (Pulumi owns the load balancers,
#: docs/ingress.md); its IAM policy is derived from the upstream policy of exactly this
#: release (components/data/aws-load-balancer-controller/), so a bump brings that file
#: along. The CRDs of the same release are what the tests validate bindings against.
LOAD_BALANCER_CONTROLLER_CHART_REPOSITORY: Final = "https://aws.github.io/eks-charts"
LOAD_BALANCER_CONTROLLER_CHART: Final = "aws-load-balancer-controller"
LOAD_BALANCER_CONTROLLER_CHART_VERSION: Final = "3.5.0"
LOAD_BALANCER_CONTROLLER_APP_VERSION: Final = "v3.5.0"

#: HashiCorp Vault: the official chart `vault` from HashiCorp's Helm repository, and the
#: Vault server (and agent) version it deploys: chart 0.34.1 has appVersion 2.0.4 and
#: defaults `server.image.tag`, `injector.agentImage.tag` and `csi.agent.image.tag` to it.
#: It is pinned because the tests check every value Ballast sets against the values.yaml
#: and values.schema.json of exactly this chart release (the reference data), and the
#: server version is written into the release explicitly, so a chart bump cannot change
#: the Vault version unnoticed. Upgrades: standbys first, the active node last
#: (docs/vault.md; the StatefulSet's update strategy is OnDelete).
VAULT_CHART_REPOSITORY: Final = "https://helm.releases.hashicorp.com"
VAULT_CHART: Final = "vault"
VAULT_CHART_VERSION: Final = "0.34.1"
VAULT_VERSION: Final = "2.0.4"
#: The Agent Injector (`hashicorp/vault-k8s`) and the Vault CSI provider
#: (`hashicorp/vault-csi-provider`) that chart 0.34.1 deploys by default
#: (`injector.image.tag`, `csi.image.tag` in its values.yaml); written into the releases
#: explicitly for the same reason as the server version. The agents they run are
#: `VAULT_VERSION`.
VAULT_K8S_VERSION: Final = "1.7.6"
VAULT_CSI_PROVIDER_VERSION: Final = "1.7.4"

#: Secrets Store CSI driver: chart `secrets-store-csi-driver` from the Kubernetes SIGs'
#: Helm repository, deploying driver v1.6.0 (appVersion of chart 1.6.0, which is also
#: the image tag its values.yaml sets), whose SecretProviderClass CRD
#: (secrets-store.csi.x-k8s.io, in the shared reference data) the tests validate each
#: service's class against. Pinned because the tests walk every value Ballast sets
#: against exactly this chart's values.yaml; the Vault CSI provider above plugs into it.
# One line each, the shape Renovate's regex reads (the URL makes the first one long).
# fmt: off
SECRETS_STORE_CSI_DRIVER_CHART_REPOSITORY: Final = "https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts"
SECRETS_STORE_CSI_DRIVER_CHART: Final = "secrets-store-csi-driver"
SECRETS_STORE_CSI_DRIVER_CHART_VERSION: Final = "1.6.0"
# fmt: on
SECRETS_STORE_CSI_DRIVER_APP_VERSION: Final = "v1.6.0"

#: Argo CD: chart `argo-cd` from the Argo project's Helm repository, deploying Argo CD
#: v3.4.4 (appVersion of chart 10.1.1). The chart installs the argoproj.io CRDs of that
#: release, which the tests validate the AppProject and Applications against.
ARGO_CD_CHART_REPOSITORY: Final = "https://argoproj.github.io/argo-helm"
ARGO_CD_CHART: Final = "argo-cd"
ARGO_CD_CHART_VERSION: Final = "10.1.1"
ARGO_CD_APP_VERSION: Final = "v3.4.4"

#: Sigstore policy-controller: chart `policy-controller` from Sigstore's Helm repository,
#: deploying policy-controller 0.13.1 (appVersion of chart 0.10.6), whose
#: ClusterImagePolicy CRD (policy.sigstore.dev) the tests validate the policy against.
POLICY_CONTROLLER_CHART_REPOSITORY: Final = "https://sigstore.github.io/helm-charts"
POLICY_CONTROLLER_CHART: Final = "policy-controller"
POLICY_CONTROLLER_CHART_VERSION: Final = "0.10.6"
POLICY_CONTROLLER_APP_VERSION: Final = "0.13.1"

#: TLS policy of every HTTPS listener: TLS 1.3 and TLS 1.2 with forward-secret AES-GCM
#: ciphers only, no TLS 1.0/1.1 (ELB's "Security policies for your Application Load
#: Balancer" table). It is the policy ELB itself recommends for new HTTPS listeners and
#: the one the console preselects; clients older than TLS 1.2 (Android 4.3, Java 7, IE
#: on Windows 7 without updates) cannot connect, which is the point. A newer policy
#: (the post-quantum `ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09`, say) is a reviewed
#: change here; the pack's lb-tls-policy accepts any TLS 1.2+ policy.
ALB_TLS_POLICY: Final = "ELBSecurityPolicy-TLS13-1-2-2021-06"

#: NVIDIA device plugin: chart `nvidia-device-plugin` from NVIDIA's Helm repository (the
#: install instructions of github.com/NVIDIA/k8s-device-plugin). 0.20.0 is the newest
#: release tag there (v0.20.0, 2026-08-19; chart and app version are the same); the
#: chart's image defaults to the app version. There is no reference copy of this chart
#: in the shared reference data: its values (components/cluster/addons/
#: nvidia_device_plugin.py) were checked by reading the chart's values.yaml at the tag.
NVIDIA_DEVICE_PLUGIN_CHART_REPOSITORY: Final = "https://nvidia.github.io/k8s-device-plugin"
NVIDIA_DEVICE_PLUGIN_CHART: Final = "nvidia-device-plugin"
NVIDIA_DEVICE_PLUGIN_CHART_VERSION: Final = "0.20.0"


def addon_versions(kubernetes_version: str) -> dict[str, str]:
    """The pinned managed add-on versions for a Kubernetes minor version."""
    try:
        return dict(ADDON_VERSIONS[kubernetes_version])
    except KeyError:
        raise ValueError(
            f"no add-on versions are pinned for Kubernetes {kubernetes_version}; "
            f"supported: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)} (components/versions.py)"
        ) from None


def cluster_autoscaler_image_tag(kubernetes_version: str) -> str:
    """The Cluster Autoscaler image tag matching a Kubernetes minor version."""
    try:
        return CLUSTER_AUTOSCALER_IMAGE_TAGS[kubernetes_version]
    except KeyError:
        raise ValueError(
            f"no Cluster Autoscaler image is pinned for Kubernetes {kubernetes_version} "
            "(components/versions.py)"
        ) from None


#: PostgreSQL on RDS, for every Ballast database (primary and cross-region replica).
#: Pinned to major.minor with `auto_minor_version_upgrade=False`, so an engine change is
#: always a reviewed change here, applied in the maintenance window, replica first (RDS
#: refuses a replica older than its source). 17.7 is the minor that RDS named as the upgrade target when it
#: retired 17.1-17.4 on 2026-05-31 (the RDS deprecation notice of that date), so it is a
#: version RDS creates instances on. Before the first `pulumi up` of a fork, list what
#: the region offers and move to the newest 17.x::
#:
#:     aws rds describe-db-engine-versions --engine postgres --engine-version 17 \
#:       --query 'DBEngineVersions[].EngineVersion' --output text
#:
#: When RDS ends standard support for a pinned minor it upgrades the instance itself in
#: the maintenance window; bump the pin before that date, or the next preview shows the
#: downgrade as a diff. A major upgrade (e.g. to 18) also changes the family and needs
#: `allow_major_version_upgrade`; see docs/data-and-dr.md.
POSTGRES_ENGINE_VERSION: Final = "17.7"

#: CA of the database server certificates (RSA 2048, valid to 2061): clients verify the
#: endpoint against the RDS CA bundle; the default CA of new instances can change.
RDS_CA_CERTIFICATE: Final = "rds-ca-rsa2048-g1"

#: Image of the in-VPC CI runner: a CodeBuild curated image (Amazon Linux 2023, x86_64,
#: with git, the AWS CLI and the language runtimes of the CodeBuild User Guide's
#: "Available runtimes" table). AWS patches curated images within a major version and
#: caches the supported ones on its build hosts, so jobs start without pulling the image;
#: the pin is the major version and moves only by a reviewed change. 6.0 is the newest
#: Amazon Linux 2023 x86_64 standard major that table lists (5.0 is the one before).
#: Check what the region offers before bumping it::
#:
#:     aws codebuild list-curated-environment-images \
#:       --query 'platforms[].languages[].images[].name' --output text \
#:       | tr '\t' '\n' | grep amazonlinux-x86_64-standard
RUNNER_IMAGE: Final = "aws/codebuild/amazonlinux-x86_64-standard:6.0"


def postgres_family(engine_version: str) -> str:
    """The parameter-group family of a PostgreSQL version: `16.6` -> `postgres16`."""
    major = engine_version.split(".", 1)[0]
    if not major.isdigit():
        raise ValueError(f"not a PostgreSQL version: {engine_version!r}")
    return f"postgres{major}"
