"""Zero static credentials: credentials in Kubernetes objects, and Vault policies."""

from __future__ import annotations

import base64
import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from tests.policy.casebook import ACCOUNT, Case
from tests.policy.cases.kubernetes import (
    container,
    cronjob,
    daemonset,
    deployment,
    pod_template,
    replication_controller,
)

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


def kind_with_env(kind: str, env_entry: dict):
    """A workload of `kind` whose one container carries `env_entry`."""
    env_list = [env_entry]
    if kind == "DaemonSet":
        return daemonset(env=env_list)
    if kind == "ReplicationController":
        return replication_controller(env=env_list)
    if kind == "CronJob":
        return cronjob(env=env_list)

    def build(env, name):
        opts = pulumi.ResourceOptions(provider=env.k8s)
        metadata = {"name": name, "namespace": "apps"}
        if kind == "Pod":
            k8s.core.v1.Pod(
                name, metadata=metadata, spec=pod_template(name, env=env_list)["spec"], opts=opts
            )
        elif kind == "Job":
            template = pod_template(name, probes=False, env=env_list)
            template["spec"]["restart_policy"] = "Never"
            k8s.batch.v1.Job(name, metadata=metadata, spec={"template": template}, opts=opts)
        elif kind == "ReplicaSet":
            k8s.apps.v1.ReplicaSet(
                name,
                metadata=metadata,
                spec={
                    "replicas": 1,
                    "selector": {"match_labels": {"app": name}},
                    "template": pod_template(name, env=env_list),
                },
                opts=opts,
            )
        else:
            raise ValueError(f"no builder for {kind}")

    return build


def binary_config_map(data: dict):
    def build(env, name):
        k8s.core.v1.ConfigMap(
            name,
            metadata={"name": name, "namespace": "apps"},
            binary_data={k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
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


def aws_provider(**keys):
    def build(env, name):
        aws.Provider(name, region="us-east-1", allowed_account_ids=[ACCOUNT], **keys)

    return build


OWN_PATHS = """
path "aws/creds/checkout" { capabilities = ["read"] }
path "database/creds/checkout" { capabilities = ["read"] }
path "kv/data/checkout/*" { capabilities = ["read", "list"] }
"""

KINDS = ("Pod", "Job", "CronJob", "DaemonSet", "ReplicaSet", "ReplicationController")
NESTED = """
path "kv/data/checkout/*" {
  capabilities = ["read"]
  allowed_parameters = { "version" = [] }
}
path "*" {
  required_parameters = ["x"]
  allowed_parameters = { "x" = [] }
  capabilities = ["read", "list"]
}
"""

CASES = [
    *(
        Case(
            f"{kind.lower()}-env-access-key-id",
            kind_with_env(kind, {"name": "AWS_ACCESS_KEY_ID", "value": ACCESS_KEY_ID}),
            fails="k8s-no-static-credentials",
        )
        for kind in KINDS
    ),
    *(
        Case(
            f"{kind.lower()}-env-plain",
            kind_with_env(kind, {"name": "AWS_REGION", "value": "eu-west-1"}),
            passes=("k8s-no-static-credentials",),
        )
        for kind in KINDS
    ),
    Case(
        "configmap-secret-key-in-file",
        config_map({"credentials": f"[default]\naws_secret_access_key = {SECRET_KEY}\n"}),
        fails="k8s-no-static-credentials",
    ),
    Case(
        "configmap-secret-key-in-json",
        config_map({"settings.json": json.dumps({"secretAccessKey": SECRET_KEY})}),
        fails="k8s-no-static-credentials",
    ),
    Case(
        "configmap-binary-private-key",
        binary_config_map({"key.pem": PRIVATE_KEY}),
        fails="k8s-no-static-credentials",
    ),
    Case(
        "configmap-binary-settings",
        binary_config_map({"settings.ini": "[app]\nregion = eu-west-1\n"}),
        passes=("k8s-no-static-credentials",),
    ),
    Case(
        "vault-json-service-policy",
        vault_policy(
            "checkout",
            json.dumps({"path": {"kv/data/checkout/*": {"capabilities": ["read", "list"]}}}),
        ),
        passes=("vault-policy-least-privilege",),
    ),
    Case(
        "vault-json-star-path",
        vault_policy("checkout", json.dumps({"path": {"*": {"capabilities": ["read"]}}})),
        fails="vault-policy-least-privilege",
    ),
    Case(
        "vault-nested-block-star-path",
        vault_policy("checkout", NESTED),
        fails="vault-policy-least-privilege",
    ),
    Case(
        "vault-sys-wildcard",
        vault_policy("checkout", 'path "sys/mounts/*" { capabilities = ["create", "update"] }'),
        fails="vault-policy-least-privilege",
    ),
    Case(
        "aws-provider-static-keys",
        aws_provider(access_key=ACCESS_KEY_ID, secret_key=SECRET_KEY),
        fails="aws-provider-no-static-keys",
    ),
    Case(
        "aws-provider-caller-credentials",
        aws_provider(),
        passes=("aws-provider-no-static-keys",),
    ),
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
