"""Malformed stack configs, through the CLI: each gives its exact message and exit 2,
before any resource is registered."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ballast.cli import app
from components.config import ConfigError, parse_platform_config
from components.workloads import NAMESPACE_BUDGETS
from tests.conftest import ROOT

runner = CliRunner()

BASE = {
    "pulumi:disable-default-providers": ["*"],
    "ballast:environment": "prod",
    "ballast:owner": "platform-team",
    "ballast:primaryRegion": "eu-west-1",
    "ballast:drRegion": "eu-central-1",
    "ballast:network": {"cidr": "10.30.0.0/16", "azCount": 3, "natMode": "per-az"},
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project whose stacks/ the tests fill with one bad stack each."""
    root = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "Pulumi.yaml", root)
    shutil.copy(ROOT / "__main__.py", root)
    shutil.copytree(
        ROOT / "components", root / "components", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "stacks").mkdir()
    return root


def preview(project: Path, config: dict, *extra: str):
    (project / "stacks" / "Pulumi.bad.yaml").write_text(yaml.safe_dump({"config": config}))
    return runner.invoke(app, ["preview", "bad", "--project-dir", str(project), *extra])


def with_network(**changes) -> dict:
    network = {**BASE["ballast:network"], **changes}
    return {**BASE, "ballast:network": network}


def with_section(key: str, **values) -> dict:
    return {**BASE, f"ballast:{key}": values}


#: The management account's stack: SCPs only (stacks/Pulumi.org.yaml.example).
ORG = {
    "pulumi:disable-default-providers": ["*"],
    "ballast:stackKind": "organization",
    "ballast:environment": "prod",
    "ballast:owner": "platform-team",
    "ballast:primaryRegion": "us-east-1",
    "ballast:orgGuardrails": {"targetIds": ["ou-ab12-cdef3456"], "allowedRegions": ["us-east-1"]},
}


def with_guardrails(**changes) -> dict:
    return {**ORG, "ballast:orgGuardrails": {**ORG["ballast:orgGuardrails"], **changes}}


#: Keyless CI from one repository (what the runner serves).
CI = {"repository": "acme/platform"}

#: An environment's cluster layer: everything else comes from its platform stack.
CLUSTER_STACK = {
    "pulumi:disable-default-providers": ["*"],
    "ballast:stackKind": "cluster",
    "ballast:platformStack": "prod",
}
#: What a cluster stack says when it is given a key of its platform stack.
BELONGS = (
    "belongs to the platform stack (the one ballast:platformStack names), whose outputs "
    "this cluster stack reads; remove it here"
)

#: A DR-region VPC that does not overlap BASE's network.
DR_NETWORK = {"cidr": "10.31.0.0/20"}


def with_database(*, dr_network: bool = False, base: dict = BASE, **values) -> dict:
    """BASE (prod, DR region eu-central-1) with a database, and a DR network if asked."""
    config = {**base, "ballast:database": {"name": "app", **values}}
    if dr_network:
        config["ballast:drNetwork"] = DR_NETWORK
    return config


#: A staging stack without a DR region.
STAGING = {
    **{k: v for k, v in BASE.items() if k != "ballast:drRegion"},
    "ballast:environment": "staging",
}


CLUSTER_ADMIN = "arn:aws:iam::111111111111:role/platform-admins"
GENERAL = {"name": "general", "instanceTypes": ["m7i.large", "m6i.large"], "maxSize": 6}


def with_cluster(*groups: dict, **values) -> dict:
    """BASE (prod, no CI) with a valid cluster section, changed by `values`."""
    cluster = {"adminPrincipalArns": [CLUSTER_ADMIN], "nodeGroups": list(groups) or [GENERAL]}
    return {**BASE, "ballast:cluster": {**cluster, **values}}


def with_budget(**budget) -> dict:
    """BASE with one tier-1 service whose namespace budget is `budget`."""
    return {**BASE, "ballast:services": [{"name": "api", "tier": "tier-1", "budget": budget}]}


def with_node_group(**changes) -> dict:
    return with_cluster({**GENERAL, **changes})


#: A valid ingress section (BASE has no cluster: combine it with `with_cluster()`).
INGRESS = {"hostedZoneName": "example.com", "platformCidrs": ["198.51.100.0/24"]}
WEB = {"name": "web", "tier": "tier-1"}


def with_ingress(*services: dict, **changes) -> dict:
    """BASE with a cluster and an ingress section (changed by `changes`; None drops a
    key), and `services` if given."""
    section = {k: v for k, v in {**INGRESS, **changes}.items() if v is not None}
    config = {**with_cluster(), "ballast:ingress": section}
    if services:
        config["ballast:services"] = list(services)
    return config


def with_vault(config: dict | None = None, **values) -> dict:
    """`config` (default: BASE with a cluster) with a `ballast:vault` section."""
    return {**(config if config is not None else with_cluster()), "ballast:vault": values}


def with_observability(config: dict | None = None, **values) -> dict:
    """`config` (default: BASE with a cluster and GitOps) with `ballast:observability`."""
    if config is None:
        config = {**with_cluster(), "ballast:ci": CI, "ballast:gitops": {"syncGroup": "release"}}
    return {**config, "ballast:observability": values}


def routed(name: str = "web", **ingress) -> dict:
    """A tier-1 service with an ingress at www.example.com:8080, changed by `ingress`."""
    return {
        "name": name,
        "tier": "tier-1",
        "ingress": {"host": "www.example.com", "port": 8080, **ingress},
    }


#: A valid prod gitops section without ballast:ci (so repoUrl and the signer are given).
GITOPS = {
    "repoUrl": "https://github.com/org/repo.git",
    "syncGroup": "release-managers",
    "signing": {"repository": "org/repo"},
}


def with_gitops(**changes) -> dict:
    """BASE with a cluster and a gitops section changed by `changes` (None drops a key)."""
    section = {k: v for k, v in {**GITOPS, **changes}.items() if v is not None}
    return {**with_cluster(), "ballast:gitops": section}


P = "stacks/Pulumi.bad.yaml: "

CASES = [
    # --- physical names (ballast:namePrefix; the fixture's project is ballast, stack bad) ---
    pytest.param(
        {**BASE, "ballast:namePrefix": "Acme_Platform"},
        "ballast:namePrefix must be lowercase letters, digits and single hyphens, starting with a letter and not ending in a hyphen, as S3 bucket and RDS names require (got 'Acme_Platform')",
        id="name-prefix-characters",
    ),
    pytest.param(
        {**BASE, "ballast:namePrefix": "acme--platform"},
        "ballast:namePrefix must be lowercase letters, digits and single hyphens, starting with a letter and not ending in a hyphen, as S3 bucket and RDS names require (got 'acme--platform')",
        id="name-prefix-double-hyphen",
    ),
    pytest.param(
        # BASE's regions: eu-west-1 and eu-central-1, the longer one counts.
        {**BASE, "ballast:namePrefix": "acme-commerce-platform"},
        "ballast:namePrefix is 'acme-commerce-platform', which with the stack name makes the audit bucket acme-commerce-platform-bad-audit-access-logs-<account>-eu-central-1 70 characters long; S3 accepts at most 63, so <namePrefix>-<stack> ('acme-commerce-platform-bad') may have at most 19 characters in eu-central-1 (it has 26)",
        id="name-prefix-too-long",
    ),
    pytest.param(
        {**BASE, "ballast:namePrefix": ["acme"]},
        "ballast:namePrefix must be a string (got ['acme'])",
        id="name-prefix-type",
    ),
    # --- vault (ballast:vault) ---
    pytest.param(
        with_vault(replicas=4),
        "ballast:vault.replicas must be an odd number from 1 to 7: Raft needs a majority, and an even count tolerates no more failures than one fewer (got 4)",
        id="vault-replicas-even",
    ),
    pytest.param(
        with_vault(replicas=9),
        "ballast:vault.replicas must be an odd number from 1 to 7: Raft needs a majority, and an even count tolerates no more failures than one fewer (got 9)",
        id="vault-replicas-too-many",
    ),
    pytest.param(
        with_vault(replicas=1),
        "ballast:vault.replicas must be at least 3 in prod, so that losing one zone keeps a quorum (got 1)",
        id="vault-replicas-prod-single",
    ),
    pytest.param(
        with_vault(BASE),
        "ballast:vault needs ballast:cluster: Vault runs on the cluster's nodes",
        id="vault-without-cluster",
    ),
    pytest.param(
        with_vault(storageSizeGib=0),
        "ballast:vault.storageSizeGib must be between 1 and 1000 (got 0)",
        id="vault-storage-size",
    ),
    pytest.param(
        with_vault(replica=3),
        "ballast:vault.replica is not a known key; did you mean replicas? (accepted: address, adminJwt, replicas, storageSizeGib)",
        id="vault-unknown-key",
    ),
    # --- observability (ballast:observability) ---
    pytest.param(
        with_observability(alertmanagerReplicas=4),
        "ballast:observability.alertmanagerReplicas must be an odd number from 1 to 7: an even cluster can split into two equal halves that both notify (got 4)",
        id="observability-alertmanager-even",
    ),
    pytest.param(
        with_observability(alertmanagerReplicas=1),
        "ballast:observability.alertmanagerReplicas must be at least 3 in prod, so the Alertmanager cluster keeps its silences and deduplication while one member is lost (got 1)",
        id="observability-alertmanager-prod-single",
    ),
    pytest.param(
        with_observability(prometheusReplicas=1),
        "ballast:observability.prometheusReplicas must be at least 2 in prod, so losing a node or a zone keeps a Prometheus evaluating the alerts (got 1)",
        id="observability-prometheus-prod-single",
    ),
    pytest.param(
        with_observability(prometheusReplicas=5),
        "ballast:observability.prometheusReplicas must be from 1 to 4 (got 5)",
        id="observability-prometheus-too-many",
    ),
    pytest.param(
        with_observability(prometheusStorageGib=40, retentionSizeGib=40),
        "ballast:observability.retentionSizeGib must be below prometheusStorageGib (40): the write-ahead log is not counted in it (got 40)",
        id="observability-retention-size",
    ),
    pytest.param(
        with_observability(retentionDays=0),
        "ballast:observability.retentionDays must be between 1 and 365 (got 0)",
        id="observability-retention-days",
    ),
    pytest.param(
        with_observability(runbookBaseUrl="http://git.example.com/ops/blob/main"),
        "ballast:observability.runbookBaseUrl must be an https:// URL (got 'http://git.example.com/ops/blob/main')",
        id="observability-runbook-base",
    ),
    pytest.param(
        with_observability(with_cluster()),
        "ballast:observability needs runbookBaseUrl when ballast:gitops is not set: the alerts link to the runbooks of the gitops repository by default",
        id="observability-without-runbooks",
    ),
    pytest.param(
        with_observability(BASE, runbookBaseUrl="https://github.com/acme/platform/blob/main"),
        "ballast:observability needs ballast:cluster: Prometheus and Alertmanager run on the environment's cluster",
        id="observability-without-cluster",
    ),
    pytest.param(
        with_observability(
            receivers={
                "pageWebhookUrl": "https://pager.example.com/x",
                "ticketWebhookUrl": "https://t.example.com/y",
            }
        ),
        "ballast:observability.receivers must be a Pulumi secret: set each of its keys with `pulumi config set --secret --path 'ballast:observability.receivers.<key>' <value>` so it is never stored in clear text",
        id="observability-receivers-plain",
    ),
    pytest.param(
        with_observability(retention=30),
        "ballast:observability.retention is not a known key; did you mean retentionDays? (accepted: alertmanagerReplicas, alertmanagerStorageGib, logs, prometheusReplicas, prometheusStorageGib, receivers, retentionDays, retentionSizeGib, runbookBaseUrl, traces)",
        id="observability-unknown-key",
    ),
    # --- logs and traces (ballast:observability) ---
    pytest.param(
        with_observability(logs={"replicas": 2}),
        "ballast:observability.logs.replicas must be 1, or 3 to 9: replicated Loki writes every stream to 3 servers (got 2)",
        id="loki-replicas-two",
    ),
    pytest.param(
        with_observability(logs={"replicas": 1}),
        "ballast:observability.logs.replicas must be at least 3 in prod, so that losing one zone keeps logs flowing (got 1)",
        id="loki-replicas-prod-single",
    ),
    pytest.param(
        with_observability(logs={"retentionDays": 0}),
        "ballast:observability.logs.retentionDays must be between 1 and 3650 (got 0)",
        id="log-retention-zero",
    ),
    pytest.param(
        with_observability(traces={"retentionDays": 4000}),
        "ballast:observability.traces.retentionDays must be between 1 and 3650 (got 4000)",
        id="trace-retention-too-long",
    ),
    pytest.param(
        with_observability(traces={"walStorageGib": 1}),
        "ballast:observability.traces.walStorageGib must be between 5 and 500 (got 1)",
        id="tempo-volume-too-small",
    ),
    pytest.param(
        with_observability(logs={"retention": 7}),
        "ballast:observability.logs.retention is not a known key; did you mean retentionDays? (accepted: replicas, retentionDays, walStorageGib)",
        id="observability-logs-unknown-key",
    ),
    pytest.param(
        with_vault(address="http://vault.internal:8200"),
        "ballast:vault.address must be an https:// URL: Vault's listener only speaks TLS (got 'http://vault.internal:8200')",
        id="vault-address-plain-http",
    ),
    pytest.param(
        with_vault(
            replicas=3,
            adminJwt={"oidcDiscoveryUrl": "https://sso.example.com", "boundAudiences": ["vault"]},
        ),
        "ballast:vault.adminJwt.boundClaims is required: Claims a login token must carry, each one of the listed values (e.g. `{groups: [platform-admins]}`); at least one, so not every user of the identity provider is an admin.",
        id="vault-admin-jwt-without-claims",
    ),
    # --- ballast:services[].secrets ---
    pytest.param(
        {**BASE, "ballast:services": [{"name": "api", "tier": "tier-1", "secrets": {"kv": True}}]},
        "ballast:services[0].secrets needs ballast:vault: the Vault that issues the credentials",
        id="secrets-without-vault",
    ),
    pytest.param(
        {
            **with_vault(replicas=3),
            "ballast:services": [{"name": "api", "tier": "tier-1", "secrets": {"database": True}}],
        },
        "ballast:services[0].secrets.database needs ballast:database: the PostgreSQL the dynamic users are created in",
        id="secrets-database-without-database",
    ),
    pytest.param(
        {
            **with_vault(replicas=3),
            "ballast:services": [
                {
                    "name": "api",
                    "tier": "tier-1",
                    "secrets": {
                        "aws": {
                            "roleArn": "arn:aws:iam::111122223333:role/x",
                            "policy": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
                                ],
                            },
                        }
                    },
                }
            ],
        },
        "ballast:services[0].secrets.aws.roleArn is not a known key (accepted: policy)",
        id="secrets-aws-role-arn",
    ),
    pytest.param(
        {
            **with_vault(replicas=3),
            "ballast:services": [
                {
                    "name": "api",
                    "tier": "tier-1",
                    "secrets": {
                        "aws": {
                            "policy": {
                                "Version": "2012-10-17",
                                "Statement": [{"Action": "s3:GetObject", "Resource": "*"}],
                            }
                        }
                    },
                }
            ],
        },
        'ballast:services[0].secrets.aws.policy Statement[0] needs "Effect": "Allow" or "Deny"',
        id="secrets-aws-policy-effect",
    ),
    pytest.param(
        {
            **with_vault(replicas=3),
            "ballast:services": [
                {"name": "api", "tier": "tier-1", "secrets": {"serviceAccount": "API_SA"}}
            ],
        },
        "ballast:services[0].secrets.serviceAccount must be a DNS-1123 label: lowercase letters, digits and '-', starting with a letter, at most 63 characters (got 'API_SA')",
        id="secrets-service-account",
    ),
    # --- ingress (ballast:ingress, ballast:services[].ingress) ---
    pytest.param(
        with_ingress(hostedZoneName="Example.com."),
        "ballast:ingress.hostedZoneName must be a DNS name of lowercase labels such as example.com, without a trailing dot (got 'Example.com.')",
        id="ingress-zone-name",
    ),
    pytest.param(
        with_ingress(hostedZoneId="example"),
        "ballast:ingress.hostedZoneId must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ (got 'example')",
        id="ingress-zone-id",
    ),
    pytest.param(
        with_ingress(platformCidrs=[]),
        "ballast:ingress.platformCidrs must list at least 1 entry (got 0)",
        id="ingress-platform-cidrs-empty",
    ),
    pytest.param(
        with_ingress(hostedZoneName=None),
        "ballast:ingress.hostedZoneName is required: The public Route 53 zone every ingress host name lives in, e.g. example.com. It names the certificate (*.<zone>) and is checked against every host; the zone itself is not created here.",
        id="ingress-zone-missing",
    ),
    pytest.param(
        with_ingress(platformCidrs=["0.0.0.0/0"]),
        "ballast:ingress.platformCidrs must not include the whole internet: the internal ALB serves platform UIs to operators only (got 0.0.0.0/0)",
        id="ingress-platform-cidrs-internet",
    ),
    pytest.param(
        with_ingress(allowedCidrs=["203.0.113.7/24"]),
        "ballast:ingress.allowedCidrs must list network addresses: '203.0.113.7/24' has host bits set, did you mean 203.0.113.0/24?",
        id="ingress-allowed-cidrs-host-bits",
    ),
    pytest.param(
        with_ingress(wafRateLimit=5),
        "ballast:ingress.wafRateLimit must be between 10 and 2000000000 (got 5)",
        id="ingress-waf-rate-limit",
    ),
    pytest.param(
        with_ingress(idleTimeoutSeconds=5000),
        "ballast:ingress.idleTimeoutSeconds must be between 1 and 4000 (got 5000)",
        id="ingress-idle-timeout",
    ),
    pytest.param(
        with_ingress(wafLogRetentionDays=31),
        "ballast:ingress.wafLogRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 31)",
        id="ingress-waf-log-retention",
    ),
    pytest.param(
        {**BASE, "ballast:ingress": INGRESS},
        "ballast:ingress needs ballast:cluster: the load balancers send to pods of the cluster, through target groups its controller fills",
        id="ingress-without-cluster",
    ),
    pytest.param(
        with_ingress(routed(host="www.example.org")),
        "ballast:services[0].ingress.host must be inside ballast:ingress.hostedZoneName example.com, where its record and certificate are made (got 'www.example.org')",
        id="service-host-outside-zone",
    ),
    pytest.param(
        with_ingress(routed(port=0)),
        "ballast:services[0].ingress.port must be between 1 and 65535 (got 0)",
        id="service-port-zero",
    ),
    pytest.param(
        with_ingress(routed(port=70000)),
        "ballast:services[0].ingress.port must be between 1 and 65535 (got 70000)",
        id="service-port-too-high",
    ),
    pytest.param(
        with_ingress(routed(), routed("api", port=9090)),
        "ballast:services must route each host and path once: services 'web' and 'api' both claim www.example.com/",
        id="service-duplicate-host-and-path",
    ),
    pytest.param(
        {**with_cluster(), "ballast:services": [routed()]},
        "ballast:services[0].ingress needs ballast:ingress: the public ALB, its zone and certificate the route is made on",
        id="service-ingress-without-section",
    ),
    pytest.param(
        with_ingress(routed(path="api")),
        "ballast:services[0].ingress.path must be a path starting with '/', at most 128 characters of letters, digits and _ - . $ / ~ \" ' @ : + & * ? (got 'api')",
        id="service-path-without-slash",
    ),
    pytest.param(
        with_ingress(routed(healthCheckPath="healthz")),
        "ballast:services[0].ingress.healthCheckPath must be a path starting with '/', at most 128 characters of letters, digits and _ - . $ / ~ \" ' @ : + & * ? (got 'healthz')",
        id="service-health-check-path",
    ),
    # --- the image registry (ballast:registry) ---
    pytest.param(
        with_section("registry", keepImages=50),
        "ballast:registry needs ballast:ci: the push roles trust the workflows of ci.repository through GitHub OIDC",
        id="registry-needs-ci",
    ),
    pytest.param(
        {**with_section("registry", repositories=["billing"]), "ballast:ci": CI},
        "ballast:registry repositories billing name no service of ballast:services (services: none)",
        id="registry-unknown-service",
    ),
    pytest.param(
        {**with_section("registry", keepImages=0), "ballast:ci": CI},
        "ballast:registry.keepImages must be between 1 and 10000 (got 0)",
        id="registry-keep-images",
    ),
    pytest.param(
        {**with_section("registry", repositories=["Checkout"]), "ballast:ci": CI},
        "ballast:registry.repositories must be ECR repository names: lowercase letters and digits, separated by '.', '_' or '-' (got 'Checkout')",
        id="registry-repository-name",
    ),
    # --- the in-VPC runner (ballast:runner) ---
    pytest.param(
        {**with_section("runner", computeType="BUILD_GENERAL1_2XLARGE"), "ballast:ci": CI},
        "ballast:runner.computeType must be one of 'BUILD_GENERAL1_SMALL', 'BUILD_GENERAL1_MEDIUM', 'BUILD_GENERAL1_LARGE' (got 'BUILD_GENERAL1_2XLARGE')",
        id="runner-compute-type",
    ),
    pytest.param(
        {**with_section("runner", buildTimeoutMinutes=4), "ballast:ci": CI},
        "ballast:runner.buildTimeoutMinutes must be between 5 and 2160 (got 4)",
        id="runner-timeout-range",
    ),
    pytest.param(
        {**with_section("runner", buildTimeoutMinutes="an hour"), "ballast:ci": CI},
        "ballast:runner.buildTimeoutMinutes must be a whole number (got 'an hour')",
        id="runner-timeout-type",
    ),
    pytest.param(
        {**with_section("runner", concurrentBuildLimit=0), "ballast:ci": CI},
        "ballast:runner.concurrentBuildLimit must be at least 1 (got 0)",
        id="runner-concurrency",
    ),
    pytest.param(
        {
            **with_section("runner", connectionArn="arn:aws:iam::111111111111:role/github"),
            "ballast:ci": CI,
        },
        "ballast:runner.connectionArn must be a CodeConnections connection ARN such as arn:aws:codeconnections:us-east-1:111111111111:connection/1234abcd-12ab-34cd-56ef-1234567890ab (got 'arn:aws:iam::111111111111:role/github')",
        id="runner-connection-arn",
    ),
    pytest.param(
        {**with_section("runner", computeTyp="BUILD_GENERAL1_SMALL"), "ballast:ci": CI},
        "ballast:runner.computeTyp is not a known key; did you mean computeType? (accepted: buildTimeoutMinutes, computeType, concurrentBuildLimit, connectionArn)",
        id="runner-typo",
    ),
    pytest.param(
        with_section("runner", computeType="BUILD_GENERAL1_SMALL"),
        "ballast:runner needs ballast:ci: the runner takes the jobs of ci.repository, which then assume the CI roles through GitHub OIDC",
        id="runner-without-ci",
    ),
    # --- cluster stacks (ballast:stackKind: cluster) ---
    pytest.param(
        {k: v for k, v in CLUSTER_STACK.items() if k != "ballast:platformStack"},
        "ballast:platformStack is required: The environment's platform stack in this project (its name, e.g. prod), read through a StackReference; its `pulumi up` must have run first.",
        id="cluster-stack-no-platform",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:platformStack": "prod cluster"},
        "ballast:platformStack must be a stack name of this project: letters, digits, '-', '_' or '.' (got 'prod cluster')",
        id="cluster-stack-bad-name",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:platformStack": "bad"},
        "ballast:platformStack must name the platform stack, not this cluster stack itself (got 'bad')",
        id="cluster-stack-itself",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:gitopsWebhookUrl": "https://hooks.example.com/T0/B0/abc"},
        "ballast:gitopsWebhookUrl must be a Pulumi secret: set it with `pulumi config set --secret gitopsWebhookUrl <value>` so it is never stored in clear text",
        id="cluster-stack-plain-webhook",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:platformStack": ["prod"]},
        "ballast:platformStack must be a string (got ['prod'])",
        id="cluster-stack-list",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:environment": "prod"},
        f"ballast:environment {BELONGS}",
        id="cluster-stack-environment",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:network": {"cidr": "10.0.0.0/16"}},
        f"ballast:network {BELONGS}",
        id="cluster-stack-network",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:cluster": {"nodeGroups": [GENERAL]}},
        f"ballast:cluster {BELONGS}",
        id="cluster-stack-cluster",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:services": [{"name": "checkout", "tier": "tier-1"}]},
        f"ballast:services {BELONGS}",
        id="cluster-stack-services",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:platfromStack": "prod"},
        "ballast:platfromStack is not a known key; did you mean platformStack? (accepted: gitopsWebhookUrl, platformStack, stackKind)",
        id="cluster-stack-typo",
    ),
    pytest.param(
        {**CLUSTER_STACK, "ballast:alertWebhookUrl": "https://hooks.example.com/T000/B000/XXXX"},
        f"ballast:alertWebhookUrl {BELONGS}",
        id="cluster-stack-webhook-not-echoed",
    ),
    pytest.param(
        with_cluster(bootstrapAdminArn="arn:aws:iam::123456789012:role/*"),
        "ballast:cluster.bootstrapAdminArn must be the ARN of the IAM role or user that runs the first pulumi up, such as arn:aws:iam::123456789012:role/Admin (got 'arn:aws:iam::123456789012:role/*')",
        id="cluster-bootstrap-admin-wildcard",
    ),
    pytest.param(
        with_network(azCount=2),
        "ballast:network.azCount must be at least 3 in prod (got 2)",
        id="prod-az-count",
    ),
    pytest.param(
        with_network(azCount=7),
        "ballast:network.azCount must be between 2 and 6 (got 7)",
        id="az-count-range",
    ),
    pytest.param(
        with_network(azCount="three"),
        "ballast:network.azCount must be a whole number (got 'three')",
        id="az-count-type",
    ),
    pytest.param(
        with_network(cidr="10.0.0.0/33"),
        "ballast:network.cidr must be an IPv4 CIDR block such as 10.40.0.0/16 (got '10.0.0.0/33')",
        id="cidr-syntax",
    ),
    pytest.param(
        with_network(cidr="10.30.0.1/16"),
        "ballast:network.cidr must be a network address: '10.30.0.1/16' has host bits set, did you mean 10.30.0.0/16?",
        id="cidr-host-bits",
    ),
    pytest.param(
        with_network(cidr="10.30.0.0/24"),
        "ballast:network.cidr must be a /16 to /22 block so that every subnet of the plan fits (got /24)",
        id="cidr-too-small",
    ),
    pytest.param(
        with_network(cidr="8.8.0.0/16"),
        "ballast:network.cidr must lie in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10) (got 8.8.0.0/16)",
        id="cidr-public",
    ),
    pytest.param(
        {**BASE, "ballast:netwrok": {"cidr": "10.1.0.0/16"}},
        "ballast:netwrok is not a known key; did you mean network? (accepted: accountId, alertTicketWebhookUrl, alertWebhookUrl, audit, backup, boundary, ci, cluster, database, drNetwork, drRegion, environment, faultInjection, gitops, ingress, namePrefix, network, observability, orgGuardrails, owner, primaryRegion, registry, runner, services, stackKind, tags, vault)",
        id="unknown-top-level-key",
    ),
    pytest.param(
        with_network(natmode="single"),
        "ballast:network.natmode is not a known key; did you mean natMode? (accepted: availabilityZones, azCount, cidr, flowLogRetentionDays, interfaceEndpoints, natMode)",
        id="unknown-nested-key",
    ),
    pytest.param(
        with_network(natMode="none"),
        "ballast:network.natMode must be one of 'per-az', 'single' (got 'none')",
        id="nat-mode-value",
    ),
    pytest.param(
        with_network(natMode="single"),
        "ballast:network.natMode must be 'per-az' in prod: a single NAT gateway makes every zone's egress depend on one zone (got 'single')",
        id="prod-single-nat",
    ),
    pytest.param(
        {**BASE, "ballast:primaryRegion": "us-east"},
        "ballast:primaryRegion must be an AWS region the installed botocore knows, such as us-east-1 or eu-central-1 (got 'us-east'); did you mean us-east-2?",
        id="region-form",
    ),
    pytest.param(
        # Well-formed, but no such region: only the partition data can tell.
        {**BASE, "ballast:primaryRegion": "eu-west-9"},
        "ballast:primaryRegion must be an AWS region the installed botocore knows, such as us-east-1 or eu-central-1 (got 'eu-west-9'); did you mean eu-west-3?",
        id="region-unknown",
    ),
    pytest.param(
        {**BASE, "ballast:drRegion": "us-gov-east-9"},
        "ballast:drRegion must be an AWS region the installed botocore knows, such as us-east-1 or eu-central-1 (got 'us-gov-east-9'); did you mean us-gov-east-1?",
        id="dr-region-unknown",
    ),
    pytest.param(
        with_guardrails(allowedRegions=["us-east-1", "mars-north-1"]),
        "ballast:orgGuardrails.allowedRegions must list AWS regions the installed botocore knows, such as us-east-1 or eu-central-1 (got 'mars-north-1'); did you mean eu-north-1?",
        id="org-allowed-region-unknown",
    ),
    pytest.param(
        {**BASE, "ballast:drRegion": "eu-west-1"},
        "ballast:drRegion must differ from primaryRegion: a DR copy in the same region shares its failures (got eu-west-1)",
        id="dr-equals-primary",
    ),
    pytest.param(
        {k: v for k, v in BASE.items() if k != "ballast:drRegion"},
        "ballast:drRegion is required in prod: the database replica and backup copies need a second region",
        id="prod-needs-dr",
    ),
    pytest.param(
        {**BASE, "ballast:alertWebhookUrl": "https://hooks.example.com/T000/B000/XXXX"},
        "ballast:alertWebhookUrl must be a Pulumi secret: set it with `pulumi config set --secret alertWebhookUrl <value>` so it is never stored in clear text",
        id="plain-secret",
    ),
    pytest.param(
        {k: v for k, v in BASE.items() if k != "ballast:environment"},
        "ballast:environment is required: Which environment this stack is; prod turns on the strict rules.",
        id="environment-missing",
    ),
    pytest.param(
        {**BASE, "ballast:environment": "production"},
        "ballast:environment must be one of 'dev', 'staging', 'prod' (got 'production')",
        id="environment-value",
    ),
    pytest.param(
        with_network(flowLogRetentionDays=45),
        "ballast:network.flowLogRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 45)",
        id="retention-value",
    ),
    pytest.param(
        {**BASE, "ballast:tags": {"owner": "someone-else"}},
        "ballast:tags must not set 'owner': Ballast sets environment, project, owner, managed-by itself",
        id="reserved-tag",
    ),
    pytest.param(
        with_network(availabilityZones=["us-east-1a", "us-east-1b", "us-east-1c"]),
        "ballast:network.availabilityZones must name zones of eu-west-1 such as eu-west-1a (got 'us-east-1a')",
        id="zones-of-other-region",
    ),
    pytest.param(
        with_network(availabilityZones=["eu-west-1a", "eu-west-1b"]),
        "ballast:network.availabilityZones must list exactly azCount=3 zones (got 2)",
        id="zone-count-mismatch",
    ),
    pytest.param(
        {
            **BASE,
            "ballast:services": [
                {"name": "api", "tier": "tier-1"},
                {"name": "api", "tier": "tier-2"},
            ],
        },
        "ballast:services must name each service once (repeated: api)",
        id="duplicate-service",
    ),
    pytest.param(
        {**BASE, "ballast:services": [{"name": "api", "tier": "gold"}]},
        "ballast:services[0].tier must be one of 'tier-1', 'tier-2', 'tier-3' (got 'gold')",
        id="service-tier",
    ),
    pytest.param(
        with_budget(requestsCpu="two"),
        "ballast:services[0].budget.requestsCpu must be a Kubernetes quantity: 'two' is not a Kubernetes quantity: a number with an optional suffix (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3), e.g. 500m, 2, 512Mi, 4Gi",
        id="budget-quantity",
    ),
    pytest.param(
        with_budget(maxMemory="0Gi"),
        "ballast:services[0].budget.maxMemory must be a positive quantity (got '0Gi')",
        id="budget-quantity-zero",
    ),
    pytest.param(
        with_budget(pods=-1),
        "ballast:services[0].budget.pods must be at least 0 (got -1)",
        id="budget-pods-negative",
    ),
    pytest.param(
        with_budget(requestsCpu="8", limitsCpu="4"),
        "ballast:services[0].budget limitsCpu must be at least requestsCpu (got limitsCpu 4, requestsCpu 8)",
        id="budget-limits-below-requests",
    ),
    pytest.param(
        with_budget(limitsMemory="1Gi"),
        f"ballast:services[0].budget limitsMemory must be at least requestsMemory (got limitsMemory 1Gi, requestsMemory {NAMESPACE_BUDGETS['tier-1'].requests_memory}, the tier-1 default)",
        id="budget-limits-below-default-requests",
    ),
    pytest.param(
        with_budget(defaultCpu="1", defaultCpuLimit="500m"),
        "ballast:services[0].budget defaultCpuLimit must be at least defaultCpu (got defaultCpuLimit 500m, defaultCpu 1)",
        id="budget-default-limit-below-request",
    ),
    pytest.param(
        with_budget(maxMemory="64Mi"),
        f"ballast:services[0].budget maxMemory must be at least defaultMemory (got maxMemory 64Mi, defaultMemory {NAMESPACE_BUDGETS['tier-1'].default_memory}, the tier-1 default)",
        id="budget-max-below-default",
    ),
    pytest.param(
        with_budget(requestCpu="2"),
        "ballast:services[0].budget.requestCpu is not a known key; did you mean requestsCpu? (accepted: defaultCpu, defaultCpuLimit, defaultMemory, limitsCpu, limitsMemory, maxCpu, maxMemory, persistentVolumeClaims, pods, requestsCpu, requestsMemory)",
        id="budget-unknown-key",
    ),
    pytest.param(
        {
            **BASE,
            "ballast:services": [
                {"name": "api", "tier": "tier-1", "budget": {"pods": 10}},
                {"name": "jobs", "tier": "tier-1", "namespace": "api", "budget": {"pods": 20}},
            ],
        },
        "ballast:services must set at most one budget per namespace: services api, jobs share namespace 'api'",
        id="budget-twice-in-a-namespace",
    ),
    pytest.param(
        {
            **BASE,
            "ballast:services": [
                {"name": "api", "tier": "tier-1"},
                {"name": "jobs", "tier": "tier-3", "namespace": "api", "budget": {"pods": 20}},
            ],
        },
        "ballast:services must set the budget of namespace 'api' on a tier-1 service: the namespace takes the most critical tier of its services, and service 'jobs' is tier-3",
        id="budget-from-a-lesser-tier",
    ),
    pytest.param(
        {
            **BASE,
            "ballast:services": [
                {"name": "api", "tier": "tier-1", "slo": {"availability": 100, "latencyP95Ms": 300}}
            ],
        },
        "ballast:services[0].slo.availability must be between 90 and 99.999 (got 100)",
        id="slo-availability-range",
    ),
    pytest.param(
        {
            **BASE,
            "ballast:services": [
                {"name": "api", "tier": "tier-1", "slo": {"availability": 99.9, "latencyP95Ms": 0}}
            ],
        },
        "ballast:services[0].slo.latencyP95Ms must be between 1 and 60000 (got 0)",
        id="slo-latency-range",
    ),
    pytest.param(
        {
            **BASE,
            "ballast:services": [
                {
                    "name": "api",
                    "tier": "tier-1",
                    "slo": {
                        "availability": 99.9,
                        "latencyP95Ms": 300,
                        "requestsMetric": "http-requests",
                    },
                }
            ],
        },
        "ballast:services[0].slo.requestsMetric must be a Prometheus metric name: letters, digits and '_', not starting with a digit (got 'http-requests')",
        id="slo-metric-name",
    ),
    pytest.param(
        {
            **BASE,
            "ballast:services": [
                {
                    "name": "worker",
                    "tier": "tier-3",
                    "slo": {"availability": 99, "latencyP95Ms": 300, "queueLagSeconds": 30},
                }
            ],
        },
        "ballast:services[0].slo queueLagSeconds needs queueLagMetric: the gauge of the queue's lag in seconds the objective is measured on",
        id="slo-queue-lag-metric",
    ),
    pytest.param(
        {**BASE, "ballast:accountId": "1234"},
        "ballast:accountId must be a 12-digit AWS account ID (got '1234')",
        id="account-id",
    ),
    pytest.param(
        {**BASE, "ballast:network": "10.0.0.0/16"},
        "ballast:network must be a map of keys to values (got '10.0.0.0/16')",
        id="section-not-a-map",
    ),
    # --- the security baseline: keyless CI, audit trail, boundary, org guardrails ---
    pytest.param(
        with_section("ci", repository="acme"),
        "ballast:ci.repository must be a GitHub repository as 'org/repo': letters, digits and '-' for the org, letters, digits, '.', '_' and '-' for the repository (got 'acme')",
        id="ci-repository-form",
    ),
    pytest.param(
        with_section("ci"),
        "ballast:ci.repository is required: GitHub repository whose workflows may deploy this stack, as 'org/repo'. The plan and apply roles trust only this repository's jobs running in the named GitHub environment (token subject repo:<org>/<repo>:environment:<env>).",
        id="ci-repository-missing",
    ),
    pytest.param(
        with_section("ci", repository="acme/platform", planEnvironment="prod preview"),
        "ballast:ci.planEnvironment must be a GitHub environment name of 1-255 letters, digits, '.', '_' or '-' (got 'prod preview')",
        id="ci-environment-form",
    ),
    pytest.param(
        with_section(
            "ci",
            repository="acme/platform",
            oidcProviderArn="arn:aws:iam::111111111111:oidc-provider/example.com",
        ),
        "ballast:ci.oidcProviderArn must be the ARN of this account's GitHub OIDC provider, such as arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com (got 'arn:aws:iam::111111111111:oidc-provider/example.com')",
        id="ci-oidc-provider",
    ),
    pytest.param(
        with_section("ci", repository="acme/platform", stateBucket="s3://state"),
        "ballast:ci.stateBucket must be an S3 bucket name (3-63 lowercase letters, digits, '.' or '-'), without s3:// (got 's3://state')",
        id="ci-state-bucket",
    ),
    pytest.param(
        with_section("ci", repository="acme/platform", secretsKeyArn="alias/pulumi"),
        "ballast:ci.secretsKeyArn must be a KMS key ARN such as arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab (got 'alias/pulumi')",
        id="ci-secrets-key",
    ),
    pytest.param(
        with_section("audit", logRetentionDays=180),
        "ballast:audit.logRetentionDays must be at least 365 days in prod: the audit record has to cover a full year (got 180)",
        id="audit-prod-retention",
    ),
    pytest.param(
        with_section("audit", logRetentionDays=30),
        "ballast:audit.logRetentionDays must be between 90 and 3653 (got 30)",
        id="audit-retention-range",
    ),
    pytest.param(
        with_section("audit", cloudWatchRetentionDays=45),
        "ballast:audit.cloudWatchRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 45)",
        id="audit-cloudwatch-retention",
    ),
    pytest.param(
        with_section("audit", logRetentionDays=365, objectLockDays=400),
        "ballast:audit.objectLockDays must be at most logRetentionDays=365: a file cannot stay locked after it expires (got 400)",
        id="audit-lock-outlives-retention",
    ),
    pytest.param(
        with_section("audit", objectLockMode="governance"),
        "ballast:audit.objectLockMode must be one of 'GOVERNANCE', 'COMPLIANCE' (got 'governance')",
        id="audit-lock-mode",
    ),
    pytest.param(
        with_section("audit", findingsMinSeverity="severe"),
        "ballast:audit.findingsMinSeverity must be one of 'low', 'medium', 'high', 'critical' (got 'severe')",
        id="audit-severity",
    ),
    pytest.param(
        with_section("audit", guardDutyFeatures=["S3_DATA_EVENTS", "MALWARE"]),
        "ballast:audit.guardDutyFeatures[1] must be one of 'S3_DATA_EVENTS', 'EKS_AUDIT_LOGS', 'RUNTIME_MONITORING', 'RDS_LOGIN_EVENTS', 'EBS_MALWARE_PROTECTION', 'LAMBDA_NETWORK_LOGS', 'AI_PROTECTION', 'AI_ANALYST' (got 'MALWARE')",
        id="audit-guardduty-feature",
    ),
    pytest.param(
        with_section("audit", guardDutyDetectorIds={"us-east-1": "a" * 32}),
        "ballast:audit.guardDutyDetectorIds must map the primary or DR region of this stack (eu-west-1 or eu-central-1) to a detector ID (got region 'us-east-1')",
        id="audit-detector-other-region",
    ),
    pytest.param(
        with_section("audit", guardDutyDetectorIds={"eu-west-1": "A" * 32}),
        "ballast:audit.guardDutyDetectorIds must map each region to a GuardDuty detector ID: 32 lowercase hex characters such as 12abc34d567e8fa901bc2d34e56789f0, as 'aws guardduty list-detectors' prints it (got 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' for eu-west-1)",
        id="audit-detector-uppercase",
    ),
    pytest.param(
        with_section("audit", guardDutyDetectorIds={"eu-central-1": "12abc34d567e8fa9"}),
        "ballast:audit.guardDutyDetectorIds must map each region to a GuardDuty detector ID: 32 lowercase hex characters such as 12abc34d567e8fa901bc2d34e56789f0, as 'aws guardduty list-detectors' prints it (got '12abc34d567e8fa9' for eu-central-1)",
        id="audit-detector-short",
    ),
    pytest.param(
        with_section(
            "audit",
            guardDutyDetectorIds={
                "eu-west-1": "arn:aws:guardduty:eu-west-1:111111111111:detector/12abc34d567e8fa901bc2d34e56789f0"
            },
        ),
        "ballast:audit.guardDutyDetectorIds must map each region to a GuardDuty detector ID: 32 lowercase hex characters such as 12abc34d567e8fa901bc2d34e56789f0, as 'aws guardduty list-detectors' prints it (got 'arn:aws:guardduty:eu-west-1:111111111111:detector/12abc34d567e8fa901bc2d34e56789f0' for eu-west-1)",
        id="audit-detector-arn",
    ),
    pytest.param(
        with_section("audit", guardDutyDetectorIds=["12abc34d567e8fa901bc2d34e56789f0"]),
        "ballast:audit.guardDutyDetectorIds must be a map of keys to values (got ['12abc34d567e8fa901bc2d34e56789f0'])",
        id="audit-detector-not-a-map",
    ),
    pytest.param(
        with_section("audit", securityPrincipalArns=["*"]),
        "ballast:audit.securityPrincipalArns must list IAM role or user ARNs such as arn:aws:iam::111111111111:role/security-team, without wildcards (got '*')",
        id="audit-open-security-principal",
    ),
    pytest.param(
        with_section("boundary", extraServices=["ec2"]),
        "ballast:boundary.extraServices need not list 'ec2': the boundary allows it already",
        id="boundary-known-service",
    ),
    pytest.param(
        with_section("boundary", extraServices=["lambda:*"]),
        "ballast:boundary.extraServices must list IAM service prefixes such as elasticfilesystem: lowercase letters, digits and '-', no actions or wildcards (got 'lambda:*')",
        id="boundary-wildcard",
    ),
    pytest.param(
        {**BASE, "ballast:orgGuardrails": ORG["ballast:orgGuardrails"]},
        "ballast:orgGuardrails is only used by an organization stack (ballast:stackKind: organization), which runs from the management account; remove it here",
        id="org-guardrails-in-a-platform-stack",
    ),
    pytest.param(
        {**BASE, "ballast:stackKind": "management"},
        "ballast:stackKind must be one of 'platform', 'organization', 'cluster' (got 'management')",
        id="stack-kind",
    ),
    pytest.param(
        {**ORG, "ballast:network": {"cidr": "10.1.0.0/16"}},
        "ballast:network is not used by an organization stack, which manages only the service control policies; remove it",
        id="org-stack-with-network",
    ),
    pytest.param(
        {k: v for k, v in ORG.items() if k != "ballast:orgGuardrails"},
        "ballast:orgGuardrails is required in an organization stack: the OUs (targetIds) the service control policies attach to and the allowedRegions",
        id="org-stack-without-guardrails",
    ),
    pytest.param(
        with_guardrails(targetIds=["123456789012"]),
        "ballast:orgGuardrails.targetIds must list OU IDs such as ou-ab12-cdef3456 or the root ID such as r-ab12 (got '123456789012')",
        id="org-target",
    ),
    pytest.param(
        with_guardrails(allowedRegions=[]),
        "ballast:orgGuardrails.allowedRegions must list at least 1 entry (got 0)",
        id="org-no-regions",
    ),
    pytest.param(
        with_guardrails(targetIds=[]),
        "ballast:orgGuardrails.targetIds must list at least 1 entry (got 0)",
        id="org-no-targets",
    ),
    pytest.param(
        with_guardrails(exemptPrincipalArns=["*"]),
        "ballast:orgGuardrails.exemptPrincipalArns must list IAM role ARN patterns such as arn:aws:iam::*:role/BreakGlass (got '*')",
        id="org-open-exemption",
    ),
    # --- the EKS cluster ------------------------------------------------------------------
    pytest.param(
        with_cluster(nodeGroups=[]),
        "ballast:cluster.nodeGroups must list at least 1 entry (got 0)",
        id="cluster-no-node-groups",
    ),
    pytest.param(
        {**BASE, "ballast:cluster": {"adminPrincipalArns": [CLUSTER_ADMIN]}},
        "ballast:cluster.nodeGroups is required: Workload node groups (at least one: the system group takes platform add-ons only); see NodeGroupConfig.",
        id="cluster-node-groups-missing",
    ),
    pytest.param(
        with_cluster(endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"]),
        "ballast:cluster.publicAccessCidrs must not open the API to the internet: list the admin networks, not 0.0.0.0/0",
        id="cluster-open-endpoint",
    ),
    pytest.param(
        with_cluster(endpointPublicAccess=True),
        "ballast:cluster has endpointPublicAccess: true but no publicAccessCidrs: list the networks allowed to reach the public endpoint (never 0.0.0.0/0)",
        id="cluster-public-without-cidrs",
    ),
    pytest.param(
        with_cluster(publicAccessCidrs=["198.51.100.0/24"]),
        "ballast:cluster has publicAccessCidrs but endpointPublicAccess is false: set endpointPublicAccess: true, or remove the list",
        id="cluster-cidrs-without-public",
    ),
    pytest.param(
        with_cluster(endpointPublicAccess=True, publicAccessCidrs=["10.0.0.0/8"]),
        "ballast:cluster.publicAccessCidrs must list public networks: 10.0.0.0/8 is private, and the private endpoint already serves the VPC",
        id="cluster-private-cidr",
    ),
    pytest.param(
        with_cluster(endpointPublicAccess=True, publicAccessCidrs=["198.51.100.7/24"]),
        "ballast:cluster.publicAccessCidrs must list network addresses: '198.51.100.7/24' has host bits set, did you mean 198.51.100.0/24?",
        id="cluster-cidr-host-bits",
    ),
    pytest.param(
        {**BASE, "ballast:cluster": {"nodeGroups": [GENERAL]}},
        "ballast:cluster needs adminPrincipalArns or bootstrapAdminArn when ballast:ci is not set: access entries are the only way in (the cluster's creator gets no implicit admin), so nothing could deploy the cluster layer",
        id="cluster-no-admin-without-ci",
    ),
    pytest.param(
        with_cluster(adminPrincipalArns=["arn:aws:iam::111111111111:role/*"]),
        "ballast:cluster.adminPrincipalArns must list IAM role or user ARNs such as arn:aws:iam::111111111111:role/platform-admins, without wildcards (got 'arn:aws:iam::111111111111:role/*')",
        id="cluster-admin-wildcard",
    ),
    pytest.param(
        with_cluster(readOnlyPrincipalArns=[CLUSTER_ADMIN]),
        "ballast:cluster.readOnlyPrincipalArns must not list an admin too: a principal is admin or read-only (got arn:aws:iam::111111111111:role/platform-admins)",
        id="cluster-admin-and-read-only",
    ),
    pytest.param(
        with_cluster(kubernetesVersion="1.29"),
        "ballast:cluster.kubernetesVersion must be a Kubernetes version Ballast pins add-on versions for (1.35; see components/versions.py) (got '1.29')",
        id="cluster-version",
    ),
    pytest.param(
        with_cluster(logRetentionDays=30),
        "ballast:cluster.logRetentionDays must be at least 90 days in prod: the API audit log is evidence (got 30)",
        id="cluster-prod-log-retention",
    ),
    pytest.param(
        with_cluster(nodeVolumeSizeGiB=10),
        "ballast:cluster.nodeVolumeSizeGiB must be between 20 and 16384 (got 10)",
        id="cluster-volume-size",
    ),
    pytest.param(
        with_cluster(systemNodeGroup={"minSize": 1}),
        "ballast:cluster.systemNodeGroup.minSize must be at least 2 in prod: one node's loss must not take every platform add-on with it (got 1)",
        id="cluster-system-nodes-prod",
    ),
    pytest.param(
        with_node_group(instanceTypes=["t3.large", "t3a.large"]),
        "ballast:cluster.nodeGroups[0].instanceTypes must not use burstable types in prod: a sustained load drains their CPU credits and throttles every pod on the node (got t3.large, t3a.large)",
        id="node-group-burstable-prod",
    ),
    pytest.param(
        with_node_group(instanceTypes=["m7i.large", "m7g.large"]),
        "ballast:cluster.nodeGroups[0].instanceTypes must not mix Graviton (arm64) and x86_64 types: a node group runs one AMI (got ['m7i.large', 'm7g.large'])",
        id="node-group-mixed-architectures",
    ),
    pytest.param(
        with_node_group(instanceTypes=["large"]),
        "ballast:cluster.nodeGroups[0].instanceTypes must list EC2 instance types the installed botocore knows, such as m7i.large (got 'large'); did you mean t3.large?",
        id="node-group-instance-type",
    ),
    pytest.param(
        with_node_group(instanceTypes=["g5.2xlarg"]),
        "ballast:cluster.nodeGroups[0].instanceTypes must list EC2 instance types the installed botocore knows, such as m7i.large (got 'g5.2xlarg'); did you mean g5.2xlarge?",
        id="node-group-instance-type-typo",
    ),
    pytest.param(
        with_node_group(instanceTypes=["g5.xlarge", "m7i.large"]),
        "ballast:cluster.nodeGroups[0].instanceTypes must not mix accelerated and standard types, or NVIDIA and Neuron types: a node group runs one AMI, with one accelerator's drivers (got g5.xlarge (nvidia), m7i.large (standard))",
        id="node-group-mixed-accelerated",
    ),
    pytest.param(
        with_node_group(instanceTypes=["inf2.xlarge", "g6.xlarge"]),
        "ballast:cluster.nodeGroups[0].instanceTypes must not mix accelerated and standard types, or NVIDIA and Neuron types: a node group runs one AMI, with one accelerator's drivers (got inf2.xlarge (neuron), g6.xlarge (nvidia))",
        id="node-group-mixed-accelerators",
    ),
    pytest.param(
        with_node_group(instanceTypes=["g4ad.xlarge"]),
        "ballast:cluster.nodeGroups[0].instanceTypes must list instance types an EKS Amazon Linux 2023 AMI can drive (g4ad.xlarge: its AMD Radeon GPUs have no driver in any EKS-optimized AMI); NVIDIA g4dn/g5/g6/p4d/p5 or Neuron inf2/trn1 are",
        id="node-group-amd-gpu",
    ),
    pytest.param(
        with_node_group(instanceTypes=["g5.xlarge"], amiType="AL2023_x86_64_STANDARD"),
        "ballast:cluster.nodeGroups[0].amiType contradicts instanceTypes ['g5.xlarge']: they need AL2023_x86_64_NVIDIA, whose drivers and architecture match them (got 'AL2023_x86_64_STANDARD')",
        id="node-group-ami-type-contradicts-family",
    ),
    pytest.param(
        with_node_group(amiType="AL2023_x86_64_GPU"),
        "ballast:cluster.nodeGroups[0].amiType must be one of AL2023_x86_64_STANDARD, AL2023_ARM_64_STANDARD, AL2023_x86_64_NEURON, AL2023_x86_64_NVIDIA, AL2023_ARM_64_NVIDIA (got 'AL2023_x86_64_GPU')",
        id="node-group-ami-type-unknown",
    ),
    pytest.param(
        with_node_group(amiType="BOTTLEROCKET_x86_64"),
        "ballast:cluster.nodeGroups[0].amiType must be one of AL2023_x86_64_STANDARD, AL2023_ARM_64_STANDARD, AL2023_x86_64_NEURON, AL2023_x86_64_NVIDIA, AL2023_ARM_64_NVIDIA (Ballast nodes run Amazon Linux 2023) (got 'BOTTLEROCKET_x86_64')",
        id="node-group-ami-type-not-al2023",
    ),
    pytest.param(
        with_cluster(systemNodeGroup={"instanceTypes": ["g5.xlarge"]}),
        "ballast:cluster.systemNodeGroup.instanceTypes must not list accelerated types: the system group runs platform add-ons only; put g5.xlarge in a workload group of nodeGroups",
        id="system-node-group-accelerated",
    ),
    pytest.param(
        with_node_group(capacityType="spot", instanceTypes=["m7i.large"]),
        "ballast:cluster.nodeGroups[0] spot needs at least 2 instanceTypes, so one exhausted spot pool does not stop scaling (got ['m7i.large'])",
        id="node-group-spot-one-type",
    ),
    pytest.param(
        with_node_group(capacityType="reserved"),
        "ballast:cluster.nodeGroups[0].capacityType must be one of 'on-demand', 'spot' (got 'reserved')",
        id="node-group-capacity-type",
    ),
    pytest.param(
        with_node_group(minSize=-1),
        "ballast:cluster.nodeGroups[0].minSize must be at least 0 (got -1)",
        id="node-group-negative-min-size",
    ),
    pytest.param(
        with_node_group(instanceTypes=[]),
        "ballast:cluster.nodeGroups[0].instanceTypes must list at least 1 entry (got 0)",
        id="node-group-no-instance-types",
    ),
    pytest.param(
        with_node_group(minSize=3, maxSize=2),
        "ballast:cluster.nodeGroups[0] needs minSize <= desiredSize <= maxSize (got 3 <= 3 <= 2)",
        id="node-group-sizes",
    ),
    pytest.param(
        with_node_group(labels={"ballast.io/node-group": "web"}),
        "ballast:cluster.nodeGroups[0].labels must not set 'ballast.io/node-group': Ballast and EKS set ballast.io/node-group and the kubernetes.io/, k8s.io/ and eks.amazonaws.com/ labels themselves",
        id="node-group-reserved-label",
    ),
    pytest.param(
        with_node_group(taints=[{"key": "CriticalAddonsOnly", "value": "true"}]),
        "ballast:cluster.nodeGroups[0].taints[0].key must not be CriticalAddonsOnly: that taint marks the system node group, which only platform add-ons tolerate",
        id="node-group-system-taint",
    ),
    pytest.param(
        with_node_group(taints=[{"key": "dedicated", "effect": "NoScheduleX"}]),
        "ballast:cluster.nodeGroups[0].taints[0].effect must be one of 'NoSchedule', 'PreferNoSchedule', 'NoExecute' (got 'NoScheduleX')",
        id="node-group-taint-effect",
    ),
    pytest.param(
        with_node_group(name="system"),
        "ballast:cluster.nodeGroups[0].name must not be 'system': that is the platform add-ons' group",
        id="node-group-named-system",
    ),
    pytest.param(
        with_cluster(GENERAL, {**GENERAL, "instanceTypes": ["m6i.large"]}),
        "ballast:cluster.nodeGroups must name each node group once (repeated: general)",
        id="node-group-repeated",
    ),
    pytest.param(
        with_node_group(perAZ=True),
        "ballast:cluster.nodeGroups[0].perAZ is not a known key; did you mean perAz? (accepted: amiType, capacityType, desiredSize, instanceTypes, labels, maxSize, minSize, name, perAz, taints)",
        id="node-group-unknown-key",
    ),
    pytest.param(
        {**with_cluster(), "ballast:services": [{"name": "vault", "tier": "tier-1"}]},
        "ballast:services must not put service 'vault' in namespace 'vault': default, kube-node-lease, kube-public, kube-system, cluster-autoscaler, ingress, observability, telemetry, vault, gitops belong to Kubernetes and the platform add-ons",
        id="service-in-a-platform-namespace",
    ),
    # --- data and disaster recovery: tiers, database, DR network, backups, FIS ----------
    pytest.param(
        with_database(tier="tier-1"),
        "ballast:database.replica must be true for a tier-1 database: only promoting a cross-region replica recovers a region failure within its RTO of 15 min and RPO of 5 min; restoring a backup copy takes hours and loses up to a day (got false)",
        id="db-tier-1-without-replica",
    ),
    pytest.param(
        with_database(tier="tier-1", base=STAGING),
        "ballast:database.replica must be true for a tier-1 database: only promoting a cross-region replica recovers a region failure within its RTO of 15 min and RPO of 5 min; restoring a backup copy takes hours and loses up to a day (got false)",
        id="db-tier-1-without-replica-or-dr-region",
    ),
    pytest.param(
        with_database(tier="tier-2"),
        "ballast:database.replica must be true for a tier-2 database in a stack with a DR region: without a replica, the DR region holds only the daily backup copies, which lose up to 24 h, more than the tier-2 RPO of 1 h (got false)",
        id="db-backups-below-rpo",
    ),
    pytest.param(
        with_database(tier="tier-1", replica=True, dr_network=True, multiAz=False),
        "ballast:database.multiAz must be true for a tier-1 database: a single-AZ instance recovers from a zone failure only by a point-in-time restore, which takes far longer than the 15 min RTO (got false)",
        id="db-tier-1-single-az",
    ),
    pytest.param(
        with_database(tier="tier-3", multiAz=False),
        "ballast:database.multiAz must be true in prod: a zone failure would take the database down (got false)",
        id="db-prod-single-az",
    ),
    pytest.param(
        with_database(tier="tier-1", replica=True),
        "ballast:database.replica needs ballast:drNetwork: the replica's subnets live in a VPC of the DR region (got true without one)",
        id="db-replica-without-dr-network",
    ),
    pytest.param(
        with_database(tier="tier-2", replica=True, base=STAGING),
        "ballast:database.replica needs ballast:drRegion: the replica runs in the disaster-recovery region (got true without one)",
        id="db-replica-without-dr-region",
    ),
    pytest.param(
        with_database(tier="tier-1", replica=True, dr_network=True, backupRetentionDays=14),
        "ballast:database.backupRetentionDays must be at least 35 days for a tier-1 database (got 14)",
        id="db-retention-below-tier",
    ),
    pytest.param(
        with_database(tier="tier-3", backupRetentionDays=40),
        "ballast:database.backupRetentionDays must be between 7 and 35 (got 40)",
        id="db-retention-range",
    ),
    pytest.param(
        with_database(tier="tier-3", instanceClass="db.t4g.large"),
        "ballast:database.instanceClass must not be a burstable class in prod: its CPU credits run out under sustained load (got db.t4g.large)",
        id="db-prod-burstable",
    ),
    pytest.param(
        with_database(tier="tier-3", instanceClass="db.t4g.micro", base=STAGING),
        "ballast:database.instanceClass must be db.t3.medium, db.t4g.medium or larger: Performance Insights, which every Ballast database runs, is not offered on micro classes (got db.t4g.micro)",
        id="db-too-small-for-insights",
    ),
    pytest.param(
        with_database(tier="tier-3", instanceClass="r6g.large"),
        "ballast:database.instanceClass must be an RDS instance class such as db.r6g.large (got 'r6g.large')",
        id="db-instance-class-form",
    ),
    pytest.param(
        with_database(tier="tier-3", name="postgres"),
        "ballast:database.name must not be a name RDS reserves (postgres, rdsadmin, template0, template1) (got 'postgres')",
        id="db-reserved-name",
    ),
    pytest.param(
        with_database(tier="tier-3", name="App-DB"),
        "ballast:database.name must be a PostgreSQL database name of 1-63 lowercase letters, digits or '_', starting with a letter (got 'App-DB')",
        id="db-name-form",
    ),
    pytest.param(
        with_database(tier="tier-3", engineVersion="17"),
        "ballast:database.engineVersion must be a PostgreSQL major.minor version such as 16.6 (got '17')",
        id="db-engine-version",
    ),
    pytest.param(
        with_database(tier="tier-3", dnsTtlSeconds=300),
        "ballast:database.dnsTtlSeconds must be between 1 and 60 (got 300)",
        id="db-ttl",
    ),
    pytest.param(
        with_database(tier="tier-3", allocatedStorageGb=100, maxAllocatedStorageGb=50),
        "ballast:database.maxAllocatedStorageGb must be at least allocatedStorageGb=100 (got 50)",
        id="db-storage-ceiling",
    ),
    pytest.param(
        with_database(tier="tier-3", performanceInsightsRetentionDays=30),
        "ballast:database.performanceInsightsRetentionDays must be 7, a multiple of 31 up to 713, or 731 days (got 30)",
        id="db-insights-retention",
    ),
    pytest.param(
        with_database(tier="gold"),
        "ballast:database.tier must be one of 'tier-1', 'tier-2', 'tier-3' (got 'gold')",
        id="db-tier-value",
    ),
    pytest.param(
        {**BASE, "ballast:database": {"tier": "tier-3"}},
        "ballast:database.name is required: Name of the application database RDS creates (lowercase letters, digits and '_', starting with a letter); also names its DNS record.",
        id="db-name-missing",
    ),
    pytest.param(
        {**BASE, "ballast:drNetwork": {"cidr": "10.30.16.0/20"}},
        "ballast:drNetwork must not overlap ballast:network.cidr 10.30.0.0/16: the two VPCs are peered or routed to each other after a failover (got 10.30.16.0/20)",
        id="dr-network-overlap",
    ),
    pytest.param(
        {**STAGING, "ballast:drNetwork": DR_NETWORK},
        "ballast:drNetwork needs ballast:drRegion: this VPC is created in the disaster-recovery region",
        id="dr-network-without-dr-region",
    ),
    pytest.param(
        {
            **BASE,
            "ballast:drNetwork": {**DR_NETWORK, "availabilityZones": ["eu-west-1a", "eu-west-1b"]},
        },
        "ballast:drNetwork.availabilityZones must name zones of eu-central-1 such as eu-central-1a (got 'eu-west-1a')",
        id="dr-network-zones-of-primary",
    ),
    pytest.param(
        {**BASE, "ballast:drNetwork": {**DR_NETWORK, "azCount": 1}},
        "ballast:drNetwork.azCount must be between 2 and 6 (got 1)",
        id="dr-network-one-zone",
    ),
    pytest.param(
        with_section("backup", dailyAtUtc="03:00"),
        "ballast:backup.dailyAtUtc must not be between 02:00 and 04:29 UTC: AWS Backup skips RDS jobs that start within an hour of the database's automated backup window (03:00-03:30) (got 03:00)",
        id="backup-during-rds-window",
    ),
    pytest.param(
        with_section("backup", dailyAtUtc="5am"),
        "ballast:backup.dailyAtUtc must be a time of day as HH:MM, e.g. 05:00 (got '5am')",
        id="backup-time-form",
    ),
    pytest.param(
        with_section("backup", copyToDrRegion=False),
        "ballast:backup.copyToDrRegion must be true in prod: a region failure must not take the backups with it (got false)",
        id="backup-prod-without-copies",
    ),
    pytest.param(
        with_section("backup", vaultLockMode="legal-hold"),
        "ballast:backup.vaultLockMode must be one of 'governance', 'compliance' (got 'legal-hold')",
        id="backup-lock-mode",
    ),
    pytest.param(
        with_section("backup", complianceGraceDays=1),
        "ballast:backup.complianceGraceDays must be between 3 and 365 (got 1)",
        id="backup-grace-days",
    ),
    pytest.param(
        with_section("faultInjection", nodeTerminationPercent=0),
        "ballast:faultInjection.nodeTerminationPercent must be between 1 and 100 (got 0)",
        id="fis-percent",
    ),
    pytest.param(
        with_section("faultInjection", targetZone="eu-central-1a"),
        "ballast:faultInjection.targetZone must name a zone of eu-west-1 such as eu-west-1a (got 'eu-central-1a')",
        id="fis-zone-of-other-region",
    ),
    pytest.param(
        {
            **with_database(tier="tier-3"),
            "ballast:services": [
                {"name": "reports", "tier": "tier-3"},
                {"name": "checkout", "tier": "tier-1"},
            ],
        },
        "ballast:database tier must be at least tier-1 in prod, the tier of service checkout: a service cannot recover faster than its data (got tier-3)",
        id="db-below-its-services-tier",
    ),
    pytest.param(
        {**ORG, "ballast:database": {"name": "app", "tier": "tier-3"}},
        "ballast:database is not used by an organization stack, which manages only the service control policies; remove it",
        id="org-stack-with-database",
    ),
    pytest.param(
        {**BASE, "ballast:gitops": GITOPS},
        "ballast:gitops needs ballast:cluster: Argo CD runs on the environment's cluster",
        id="gitops-without-cluster",
    ),
    pytest.param(
        with_gitops(syncGroup=None),
        "ballast:gitops needs syncGroup in prod: prod never syncs by itself, so a named SSO group must be the only one allowed to",
        id="gitops-prod-without-sync-group",
    ),
    pytest.param(
        with_gitops(repoUrl=None),
        "ballast:gitops needs repoUrl and signing.repository when ballast:ci is not set: both default to ballast:ci.repository",
        id="gitops-no-repository-without-ci",
    ),
    pytest.param(
        with_gitops(repoUrl="ftp://example.com/repo"),
        "ballast:gitops.repoUrl must be a Git URL such as https://github.com/org/repo.git or git@github.com:org/repo.git (got 'ftp://example.com/repo')",
        id="gitops-repo-url",
    ),
    pytest.param(
        with_gitops(path="../other"),
        "ballast:gitops.path must be a folder inside the repository: relative, without '..' (got '../other')",
        id="gitops-path-outside",
    ),
    pytest.param(
        with_gitops(signing={"repository": "org/repo", "workflow": "image.yml"}),
        "ballast:gitops.signing.workflow must be a workflow file such as .github/workflows/image.yml (got 'image.yml')",
        id="gitops-signing-workflow",
    ),
    pytest.param(
        with_gitops(signing={"repository": "org/repo", "ref": "main"}),
        "ballast:gitops.signing.ref must be a full ref such as refs/heads/main (got 'main')",
        id="gitops-signing-ref",
    ),
    pytest.param(
        with_gitops(syncWindows=[{"kind": "allow", "schedule": "daily", "duration": "2h"}]),
        "ballast:gitops.syncWindows[0].schedule must be a five-field cron schedule such as '0 9 * * 1-5' (got 'daily')",
        id="gitops-window-schedule",
    ),
    pytest.param(
        with_gitops(
            syncWindows=[{"kind": "allow", "schedule": "0 8 * * *", "duration": "2 hours"}]
        ),
        "ballast:gitops.syncWindows[0].duration must be hours and/or minutes such as 2h or 1h30m (got '2 hours')",
        id="gitops-window-duration",
    ),
    pytest.param(
        with_gitops(oidc={"issuer": "http://login.example.com", "clientId": "argocd"}),
        "ballast:gitops.oidc.issuer must be an https:// URL (got 'http://login.example.com')",
        id="gitops-oidc-issuer",
    ),
]


@pytest.mark.parametrize(("config", "message"), CASES)
def test_bad_config_is_one_clear_line_and_exit_2(project, config, message):
    result = preview(project, config)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "error: stack bad failed:",
        "error: invalid stack configuration:",
        f"error: {P}{message}",
    ]
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_every_problem_is_reported_at_once(project):
    config = {
        **with_network(azCount=2, natMode="single", cidr="10.0.0.1/16"),
        "ballast:drRegion": "eu-west-1",
        "ballast:owner_team": "x",
    }
    result = preview(project, config, "--json")
    assert result.exit_code == 2
    # With --json the error is the JSON document on stdout (docs/preview-json.md).
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "program"
    lines = error["problems"][2:]
    assert lines == [
        P
        + "ballast:drRegion must differ from primaryRegion: a DR copy in the same region shares its failures (got eu-west-1)",
        P + "ballast:network.azCount must be at least 3 in prod (got 2)",
        P
        + "ballast:network.cidr must be a network address: '10.0.0.1/16' has host bits set, did you mean 10.0.0.0/16?",
        P
        + "ballast:network.natMode must be 'per-az' in prod: a single NAT gateway makes every zone's egress depend on one zone (got 'single')",
        P
        + "ballast:owner_team is not a known key; did you mean owner? (accepted: accountId, alertTicketWebhookUrl, alertWebhookUrl, audit, backup, boundary, ci, cluster, database, drNetwork, drRegion, environment, faultInjection, gitops, ingress, namePrefix, network, observability, orgGuardrails, owner, primaryRegion, registry, runner, services, stackKind, tags, vault)",
    ]


def test_plain_secret_is_never_echoed(project):
    result = preview(
        project, {**BASE, "ballast:alertWebhookUrl": "https://hooks.example.com/T000/B000/XXXX"}
    )
    assert result.exit_code == 2
    assert "hooks.example.com" not in result.output


def test_secure_secret_is_accepted_and_never_shown(project):
    config = {**BASE, "ballast:alertWebhookUrl": {"secure": "v1:AAAAAAAAAAAAAAAA:cipher"}}
    result = preview(project, config, "--json")
    assert result.exit_code == 0, result.output
    assert "cipher" not in result.output


def test_plain_receivers_are_never_echoed(project):
    url = "https://pager.example.com/integration/0123456789abcdef"
    config = with_observability(receivers={"pageWebhookUrl": url, "ticketWebhookUrl": url})
    result = preview(project, config)
    assert result.exit_code == 2
    assert "pager.example.com" not in result.output


def test_secure_receivers_are_accepted_and_never_shown(project):
    secure = {"secure": "v1:AAAAAAAAAAAAAAAA:cipher"}
    config = with_observability(receivers={"pageWebhookUrl": secure, "ticketWebhookUrl": secure})
    result = preview(project, config, "--json")
    assert result.exit_code == 0, result.output
    assert "cipher" not in result.output


def test_the_same_rules_apply_in_process():
    """`parse_platform_config` is what __main__.py calls under the real CLI."""
    raw = {"ballast:environment": "dev", "ballast:owner": "t", "ballast:primaryRegion": "eu-west-1"}
    with pytest.raises(ConfigError) as error:
        parse_platform_config(raw, source="stacks/Pulumi.x.yaml")
    assert error.value.problems == [
        "stacks/Pulumi.x.yaml: ballast:network is required: The VPC every other component sits on; a platform stack must set it."
    ]


def test_keys_of_other_namespaces_are_left_alone():
    raw = {
        "ballast:environment": "dev",
        "ballast:owner": "t",
        "ballast:primaryRegion": "eu-west-1",
        "ballast:network": '{"cidr": "10.1.0.0/16", "azCount": 2}',
        "aws:region": "anything",
        "pulumi:disable-default-providers": '["*"]',
    }
    config = parse_platform_config(raw)
    assert config.network.az_count == 2
    assert config.network.nat_mode == "per-az"


def test_a_cluster_section_gets_safe_defaults():
    raw = {
        k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in with_cluster().items()
    }
    cluster = parse_platform_config(raw).cluster
    assert cluster.endpoint_public_access is False and cluster.public_access_cidrs == ()
    assert cluster.kubernetes_version == "1.35"
    assert cluster.log_retention_days == 90
    assert cluster.system_node_group.min_size == 2
    (general,) = cluster.node_groups
    assert (general.capacity_type, general.min_size, general.per_az) == ("on-demand", 1, False)


def _flat(config: dict) -> dict:
    return {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in config.items()}


#: (project, stack, message) for names the project or stack name makes, not the prefix.
NAME_SOURCE_CASES = [
    pytest.param(
        "Acme_Platform",
        "prod",
        "ballast:namePrefix is unset, so the project name 'Acme_Platform' is the name prefix; it must be lowercase letters, digits and single hyphens, starting with a letter and not ending in a hyphen, as S3 bucket and RDS names require (got 'Acme_Platform'); set ballast:namePrefix to such a name",
        id="project-name-as-prefix",
    ),
    pytest.param(
        "acme",
        "Prod_EU",
        "ballast:namePrefix is unset, so the project name 'acme' is the name prefix, and the stack name follows it in every physical name: the stack name must be lowercase letters, digits and single hyphens, starting with a letter (got 'Prod_EU'); rename the stack (`pulumi stack rename`)",
        id="stack-name",
    ),
]


@pytest.mark.parametrize(("project_name", "stack", "message"), NAME_SOURCE_CASES)
def test_names_made_from_the_project_and_stack_are_checked(project_name, stack, message):
    with pytest.raises(ConfigError) as error:
        parse_platform_config(_flat(BASE), source="s", project=project_name, stack=stack)
    assert error.value.problems == [f"s: {message}"]


def test_an_explicit_prefix_replaces_a_project_name_aws_would_refuse():
    config = parse_platform_config(
        _flat({**BASE, "ballast:namePrefix": "acme"}), project="Acme_Platform", stack="prod"
    )
    names = config.physical_names("Acme_Platform", "prod")
    assert (names.prefix, names.base) == ("acme", "acme-prod")
