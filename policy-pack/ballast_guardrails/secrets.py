"""Zero static credentials: no credential written into a Kubernetes object the stack
declares, and no Vault policy broader than its service needs (docs/vault.md).

A long-lived key in a container's environment or a ConfigMap is readable by anyone who
can read the object (and lands in the Pulumi state and every diff); workloads get short
lived credentials from Vault instead. IAM users' access keys are refused by
`iam-no-user-access-keys`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from ballast_guardrails.kubernetes import WORKLOADS, containers, pod_spec
from ballast_guardrails.spec import CRITICAL, HIGH, SECURITY, Report, Settings, resource_policy
from ballast_guardrails.values import as_list, get

#: An AWS access key ID: long-term (AKIA) or temporary (ASIA), 20 characters.
ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Z0-9])")
#: A secret access key is 40 characters of base64; on its own that is any random
#: string, so it counts only under a name that says it is a secret key.
SECRET_KEY_VALUE = re.compile(r"^[A-Za-z0-9/+]{40}$")
SECRET_KEY_NAME = re.compile(r"secret[_-]?(access[_-]?)?key", re.IGNORECASE)
#: A PEM private key of any kind (RSA, EC, OPENSSH, ENCRYPTED, PKCS#8).
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
CONFIG_MAPS = frozenset({"kubernetes:core/v1:ConfigMap"})
VAULT_POLICY = "vault:index/policy:Policy"


def credential_kind(name: str, value: Any) -> str | None:
    """What credential `value` (under the name `name`) looks like, or None."""
    if not isinstance(value, str):
        return None
    if ACCESS_KEY_ID.search(value):
        return "an AWS access key ID"
    if PRIVATE_KEY.search(value):
        return "a private key"
    if SECRET_KEY_NAME.search(name) and SECRET_KEY_VALUE.fullmatch(value.strip()):
        return "an AWS secret access key"
    return None


def _values(args: ResourceValidationArgs) -> Iterator[tuple[str, str, Any]]:
    """(where, name, value) for every literal the object carries: each container's
    `env` values, or a ConfigMap's `data` (and `binaryData` is not text)."""
    if args.resource_type in CONFIG_MAPS:
        data = get(args.props, "data") or {}
        if isinstance(data, Mapping):
            for key, value in data.items():
                yield f"data.{key}", str(key), value
        return
    for label, container in containers(pod_spec(args)):
        for entry in as_list(get(container, "env")):
            name = str(get(entry, "name") or "")
            yield f"{label} env {name}", name, get(entry, "value")


@resource_policy(
    name="k8s-no-static-credentials",
    types=WORKLOADS | CONFIG_MAPS,
    description="No container env value or ConfigMap entry holds an AWS key or a private key.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_K8S_35", "CWE-798"),
    remediation="Remove the credential (and rotate it: it is in the state and the diff); "
    "let the workload read a short-lived one from Vault (docs/vault.md) or assume a role "
    "through IRSA.",
)
def _no_static_credentials(
    args: ResourceValidationArgs, report: Report, settings: Settings
) -> None:
    for where, name, value in _values(args):
        kind = credential_kind(name, value)
        if kind is not None:
            # Never echo the value: the report would leak what it found.
            report(f"{where} holds {kind}")


#: `path "<glob>" { capabilities = [...] }` in a Vault policy's HCL.
_PATH_BLOCK = re.compile(r'path\s+"([^"]*)"\s*\{(.*?)\}', re.DOTALL)
_CAPABILITIES = re.compile(r"capabilities\s*=\s*\[([^\]]*)\]", re.DOTALL)


def policy_paths(text: str) -> list[tuple[str, list[str]]]:
    """(path glob, capabilities) of each path block of a Vault policy in HCL."""
    paths = []
    for path, body in _PATH_BLOCK.findall(text):
        found = _CAPABILITIES.search(body)
        capabilities = re.findall(r'"([^"]*)"', found.group(1)) if found else []
        paths.append((path, capabilities))
    return paths


def is_everything(path: str) -> bool:
    """Whether a path glob matches every path: `*`, or only `+` segments then `*`."""
    segments = path.strip("/").split("/")
    return segments[-1] == "*" and all(s == "+" for s in segments[:-1])


@resource_policy(
    name="vault-policy-least-privilege",
    types={VAULT_POLICY},
    description="Vault policies grant no path that matches everything and no sudo, "
    "except the operators' admin policy.",
    severity=HIGH,
    profile=SECURITY,
    remediation="Grant the service's own paths only (its AWS and database credentials, "
    "its KV prefix); operators use the admin policy through OIDC.",
    config={
        "adminPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["platform-admin"],
            "description": "Names of the Vault policies operators log in with; only "
            "these may grant every path or sudo.",
        }
    },
)
def _vault_least_privilege(
    args: ResourceValidationArgs, report: Report, settings: Settings
) -> None:
    name = str(get(args.props, "name") or args.name)
    if name in set(settings["adminPolicies"]):
        return
    for path, capabilities in policy_paths(str(get(args.props, "policy") or "")):
        if is_everything(path) and any(c != "deny" for c in capabilities):
            report(f"policy {name} grants {', '.join(capabilities)} on every path ({path})")
        if "sudo" in capabilities:
            report(f"policy {name} grants sudo on {path}")
