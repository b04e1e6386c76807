"""Zero static credentials: credentials in Kubernetes objects, and Vault policies."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from tests.policy.casebook import Case
from tests.policy.cases.kubernetes import container, deployment

# AWS's documented example key pair, and a PEM header, assembled here so that no
# credential-shaped literal sits in the source.
ACCESS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
PRIVATE_KEY = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----"


def with_env(*env: dict):
    return deployment(env=list(env))


def config_map(data: dict):
    def build(env, name):
        k8s.core.v1.ConfigMap(
            name,
            metadata={"name": name, "namespace": "apps"},
            data=data,
            opts=pulumi.ResourceOptions(provider=env.k8s),
        )

    return build


def init_container_env(env_entry: dict):
    def build(env, name):
        labels = {"app": name}
        k8s.apps.v1.StatefulSet(
            name,
            metadata={"name": name, "namespace": "apps"},
            spec={
                "replicas": 1,
                "service_name": name,
                "selector": {"match_labels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "security_context": {"run_as_non_root": True},
                        "init_containers": [container(name="setup", env=[env_entry])],
                        "containers": [container()],
                    },
                },
            },
            opts=pulumi.ResourceOptions(provider=env.k8s),
        )

    return build


def vault_policy(policy_name: str, text: str):
    def build(env, name):
        import pulumi_vault as vault

        vault.Policy(
            name, name=policy_name, policy=text, opts=pulumi.ResourceOptions(provider=env.vault)
        )

    return build


OWN_PATHS = """
path "aws/creds/checkout" { capabilities = ["read"] }
path "database/creds/checkout" { capabilities = ["read"] }
path "kv/data/checkout/*" { capabilities = ["read", "list"] }
"""

CASES = [
    Case(
        "env-plain-settings",
        with_env(
            {"name": "LOG_LEVEL", "value": "info"}, {"name": "AWS_REGION", "value": "eu-west-1"}
        ),
        passes=("k8s-no-static-credentials",),
    ),
    Case(
        "env-from-secret-ref",
        with_env(
            {
                "name": "AWS_SECRET_ACCESS_KEY",
                "value_from": {"secret_key_ref": {"name": "creds", "key": "secret"}},
            }
        ),
        passes=("k8s-no-static-credentials",),
    ),
    Case(
        "env-access-key-id",
        with_env({"name": "AWS_ACCESS_KEY_ID", "value": ACCESS_KEY_ID}),
        fails="k8s-no-static-credentials",
    ),
    Case(
        "env-secret-key",
        with_env({"name": "AWS_SECRET_ACCESS_KEY", "value": SECRET_KEY}),
        fails="k8s-no-static-credentials",
    ),
    Case(
        "init-container-private-key",
        init_container_env({"name": "TLS_KEY", "value": PRIVATE_KEY}),
        fails="k8s-no-static-credentials",
    ),
    Case(
        "configmap-settings",
        config_map({"region": "eu-west-1", "featureFlags": "a,b"}),
        passes=("k8s-no-static-credentials",),
    ),
    Case(
        "configmap-credentials-file",
        config_map({"credentials": f"[default]\naws_access_key_id = {ACCESS_KEY_ID}\n"}),
        fails="k8s-no-static-credentials",
    ),
    Case(
        "configmap-private-key",
        config_map({"key.pem": PRIVATE_KEY}),
        fails="k8s-no-static-credentials",
    ),
    Case(
        "vault-service-policy",
        vault_policy("checkout", OWN_PATHS),
        passes=("vault-policy-least-privilege",),
    ),
    Case(
        "vault-admin-policy",
        vault_policy(
            "platform-admin",
            'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }',
        ),
        passes=("vault-policy-least-privilege",),
    ),
    Case(
        "vault-deny-everything-else",
        vault_policy("checkout", OWN_PATHS + 'path "*" { capabilities = ["deny"] }'),
        passes=("vault-policy-least-privilege",),
    ),
    Case(
        "vault-star-path",
        vault_policy("checkout", OWN_PATHS + 'path "*" { capabilities = ["read"] }'),
        fails="vault-policy-least-privilege",
    ),
    Case(
        "vault-plus-star-path",
        vault_policy("checkout", 'path "+/*" { capabilities = ["read", "list"] }'),
        fails="vault-policy-least-privilege",
    ),
    Case(
        "vault-sudo",
        vault_policy(
            "checkout", 'path "sys/leases/revoke-prefix/*" { capabilities = ["update", "sudo"] }'
        ),
        fails="vault-policy-least-privilege",
    ),
]
