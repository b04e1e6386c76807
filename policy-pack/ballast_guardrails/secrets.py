"""Zero static credentials: no credential written into a Kubernetes object the stack
declares, and no Vault policy broader than its service needs (docs/vault.md).

A long-lived key in a container's environment or a ConfigMap is readable by anyone who
can read the object (and lands in the Pulumi state and every diff); workloads get short
lived credentials from Vault instead. IAM users' access keys are refused by
`iam-no-user-access-keys`; keys written into an AWS provider's configuration by
`aws-provider-no-static-keys`.
"""

from __future__ import annotations

import base64
import binascii
import json
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
#: The same, written inside a file (an AWS credentials or config file, a .env file, YAML
#: or JSON): the name, `=` or `:`, then the 40 characters, possibly quoted.
SECRET_KEY_IN_TEXT = re.compile(
    r"secret[_-]?(?:access[_-]?)?key[\"']?\s*[=:]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
    re.IGNORECASE,
)
#: A PEM private key of any kind (RSA, EC, OPENSSH, ENCRYPTED, PKCS#8).
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
CONFIG_MAPS = frozenset({"kubernetes:core/v1:ConfigMap"})
VAULT_POLICY = "vault:index/policy:Policy"
AWS_PROVIDER = "pulumi:providers:aws"


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
    if SECRET_KEY_IN_TEXT.search(value):
        return "an AWS secret access key"
    return None


def _decoded(value: Any) -> str | None:
    """The text of a ConfigMap `binaryData` entry (base64), or None when it is not
    base64 (the API server would refuse it anyway)."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None


def _values(args: ResourceValidationArgs) -> Iterator[tuple[str, str, Any]]:
    """(where, name, value) for every literal the object carries: each container's and
    init container's `env` values, or a ConfigMap's `data` and its `binaryData`
    (decoded from base64: a credentials file is text whichever field carries it)."""
    if args.resource_type in CONFIG_MAPS:
        data = get(args.props, "data") or {}
        if isinstance(data, Mapping):
            for key, value in data.items():
                yield f"data.{key}", str(key), value
        binary = get(args.props, "binaryData") or {}
        if isinstance(binary, Mapping):
            for key, value in binary.items():
                yield f"binaryData.{key}", str(key), _decoded(value)
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


#: The opening of a path block in a Vault policy's HCL: `path "<glob>" {`.
_PATH_START = re.compile(r'path\s+"([^"]*)"\s*\{')
_CAPABILITIES = re.compile(r"capabilities\s*=\s*\[([^\]]*)\]", re.DOTALL)


def _block_body(text: str, start: int) -> str:
    """The text of the block whose `{` is just before `start`, up to its matching `}`
    (nested blocks such as `allowed_parameters = { ... }` and braces inside strings
    included), or the rest of the text when it is never closed."""
    depth, index, in_string = 1, start, False
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start:index]
        index += 1
    return text[start:]


def _json_paths(document: Any) -> list[tuple[str, list[str]]] | None:
    """(path glob, capabilities) of a policy written in JSON (`{"path": {glob:
    {"capabilities": [...]}}}`, or HCL's JSON form with lists of such maps); None when
    `document` is not shaped like one."""
    if not isinstance(document, Mapping) or "path" not in document:
        return None
    blocks = document["path"]
    paths = []
    for block in blocks if isinstance(blocks, list) else [blocks]:
        if not isinstance(block, Mapping):
            return None
        for glob, rules in block.items():
            for rule in rules if isinstance(rules, list) else [rules]:
                capabilities = rule.get("capabilities", []) if isinstance(rule, Mapping) else []
                paths.append((str(glob), [str(c) for c in as_list(capabilities)]))
    return paths


def policy_paths(text: str) -> list[tuple[str, list[str]]]:
    """(path glob, capabilities) of each path block of a Vault policy, written in HCL
    or in JSON (Vault accepts both)."""
    try:
        found = _json_paths(json.loads(text))
    except ValueError:
        found = None
    if found is not None:
        return found
    paths = []
    for match in _PATH_START.finditer(text):
        body = _block_body(text, match.end())
        capabilities = _CAPABILITIES.search(body)
        listed = re.findall(r'"([^"]*)"', capabilities.group(1)) if capabilities else []
        paths.append((match.group(1), listed))
    return paths


def is_everything(path: str) -> bool:
    """Whether a path glob matches every path: `*`, or only `+` segments then `*`."""
    segments = path.strip("/").split("/")
    return segments[-1] == "*" and all(s == "+" for s in segments[:-1])


def is_system_wildcard(path: str) -> bool:
    """Whether a path glob reaches into `sys/` with a wildcard (`sys/*`,
    `sys/leases/+/*`): Vault's own configuration (mounts, policies, seal, audit), which no
    service needs; the default policy already grants the token and lease paths an agent
    uses."""
    return path.lstrip("/").startswith("sys/") and ("*" in path or "+" in path)


@resource_policy(
    name="vault-policy-least-privilege",
    types={VAULT_POLICY},
    description="Vault policies grant no path that matches everything, no wildcard "
    "under sys/ and no sudo, except the operators' admin policy.",
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
        granted = [c for c in capabilities if c != "deny"]
        if is_everything(path) and granted:
            report(f"policy {name} grants {', '.join(granted)} on every path ({path})")
        elif is_system_wildcard(path) and granted:
            report(f"policy {name} grants {', '.join(granted)} on Vault's system paths ({path})")
        if "sudo" in capabilities:
            report(f"policy {name} grants sudo on {path}")


@resource_policy(
    name="aws-provider-no-static-keys",
    types={AWS_PROVIDER},
    description="No AWS provider is configured with an access key or secret key.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CWE-798",),
    remediation="Leave the keys out: the provider takes the caller's credentials (an "
    "assumed role through OIDC in CI, IAM Identity Center on a laptop), or set its "
    "assumeRole.",
)
def _aws_provider_no_static_keys(
    args: ResourceValidationArgs, report: Report, settings: Settings
) -> None:
    for key in ("accessKey", "secretKey"):
        # Present at all is enough (the value may arrive as a secret); never echoed.
        if get(args.props, key) not in (None, ""):
            report(f"the provider's {key} is set: a long-lived key in the stack's configuration")
