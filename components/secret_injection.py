"""A service's credentials as files in its pods, from Vault, never in its environment.

The sibling of `workload_defaults()` (components/workloads.py): plain Kubernetes data for
one service, by either route the cluster offers (docs/vault.md, "Injection"):

- **Agent Injector** (`injector_annotations`, `injector_volumes`): pod annotations that
  make the injector add a Vault Agent to the pod. The agent logs in as the service's
  role with a projected service-account token of audience `vault` (default lifetime 10
  minutes, refreshed by the kubelet), writes one file per credential under
  `/vault/secrets/` before the app starts (init container), keeps them fresh
  (sidecar: renews leases, fetches new credentials before old ones expire) and revokes
  its leases when the pod stops.
- **Secrets Store CSI driver** (`secret_provider_class`, `csi_volume`,
  `csi_volume_mount`): a `SecretProviderClass` in the service's namespace and a CSI
  volume that mounts it. The Vault CSI provider logs in as the same role; the driver
  refreshes the files every rotation interval (components/cluster/addons/
  secrets_store_csi_driver.py). No Kubernetes Secret is synced.

Files, named the same on both routes (the CSI route writes each Vault response as JSON):

| file | Vault path | injector content |
| --- | --- | --- |
| `aws-credentials` | `aws/creds/<service>` | an AWS shared credentials file (profile `default`) |
| `database` | `database/creds/<service>` | JSON `{"username", "password"}` |
| `kv-<name>` | `kv/data/<service>/<name>` | JSON of the secret's keys |

Example (README, "Credentials from Vault")::

    needs = SecretNeeds(aws=True, database=True)
    metadata = {"annotations": injector_annotations("checkout", needs)}
    spec = defaults.pod_spec(containers, serviceAccountName="checkout",
                             volumes=injector_volumes())
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from components import vault_access
from components.vault_access import SecretNeeds

#: The injector's annotation prefix (vault-k8s).
ANNOTATION_PREFIX: Final = "vault.hashicorp.com/"
#: Where both routes put the files in the app's containers.
SECRETS_DIR: Final = "/vault/secrets"
#: The projected token volume the injected agent logs in with.
TOKEN_VOLUME: Final = "vault-token"
#: Lifetime of that token in seconds (default 600, the API server's minimum): a leaked
#: token is useless ten minutes later; the kubelet refreshes it at 80 % of its life.
TOKEN_EXPIRATION_SECONDS: Final = 600
#: The CSI driver's name and the volume that mounts a SecretProviderClass.
CSI_DRIVER: Final = "secrets-store.csi.k8s.io"
CSI_VOLUME: Final = "vault-secrets"
SECRET_PROVIDER_CLASS_API: Final = "secrets-store.csi.x-k8s.io/v1"
AWS_FILE: Final = "aws-credentials"
DATABASE_FILE: Final = "database"


def kv_file(secret: str) -> str:
    return f"kv-{secret}"


def files(service: str, needs: SecretNeeds) -> dict[str, str]:
    """File name -> Vault path for everything `needs` asks for (in table order)."""
    out: dict[str, str] = {}
    if needs.aws:
        out[AWS_FILE] = vault_access.aws_credentials_path(service)
    if needs.database:
        out[DATABASE_FILE] = vault_access.database_credentials_path(service)
    for secret in needs.kv:
        out[kv_file(secret)] = vault_access.kv_secret_path(service, secret)
    return out


def _template(file: str, path: str) -> str:
    """The agent's template (consul-template) for one file. The AWS file is what every
    AWS SDK reads through `AWS_SHARED_CREDENTIALS_FILE`; an STS credential has a
    session token, which the file carries."""
    if file == AWS_FILE:
        return (
            f'{{{{- with secret "{path}" -}}}}\n'
            "[default]\n"
            "aws_access_key_id = {{ .Data.access_key }}\n"
            "aws_secret_access_key = {{ .Data.secret_key }}\n"
            "aws_session_token = {{ .Data.security_token }}\n"
            "{{- end }}\n"
        )
    if file == DATABASE_FILE:
        return (
            f'{{{{- with secret "{path}" -}}}}\n'
            '{"username": {{ .Data.username | toJSON }}, '
            '"password": {{ .Data.password | toJSON }}}\n'
            "{{- end }}\n"
        )
    return f'{{{{- with secret "{path}" -}}}}\n{{{{ .Data.data | toJSON }}}}\n{{{{- end }}}}\n'


def injector_annotations(service: str, needs: SecretNeeds) -> dict[str, str]:
    """Pod-template annotations for the Agent Injector: inject an agent that logs in as
    the service's role (`auth/kubernetes`, projected token `vault-token`) and writes one
    file per credential in `needs` under `/vault/secrets/`; revoke the leases when the
    pod stops. ValueError when `needs` asks for nothing (an agent with no file to write
    is a sidecar for nothing)."""
    rendered = files(service, needs)
    if not rendered:
        raise ValueError(
            f"service {service}: no secrets to inject; ask for aws, database or kv secrets"
        )
    annotations = {
        f"{ANNOTATION_PREFIX}agent-inject": "true",
        f"{ANNOTATION_PREFIX}role": vault_access.role_name(service),
        f"{ANNOTATION_PREFIX}auth-path": vault_access.auth_path(),
        f"{ANNOTATION_PREFIX}agent-service-account-token-volume-name": TOKEN_VOLUME,
        # Files exist before the app's first line runs; the sidecar keeps them fresh.
        f"{ANNOTATION_PREFIX}agent-pre-populate": "true",
        f"{ANNOTATION_PREFIX}agent-pre-populate-only": "false",
        f"{ANNOTATION_PREFIX}agent-revoke-on-shutdown": "true",
        f"{ANNOTATION_PREFIX}secret-volume-path": SECRETS_DIR,
    }
    for file, path in rendered.items():
        annotations[f"{ANNOTATION_PREFIX}agent-inject-secret-{file}"] = path
        annotations[f"{ANNOTATION_PREFIX}agent-inject-template-{file}"] = _template(file, path)
    return annotations


def injector_volumes() -> list[dict[str, Any]]:
    """The pod volume the injected agent logs in with: a service-account token for the
    audience `vault`, valid `TOKEN_EXPIRATION_SECONDS`."""
    return [
        {
            "name": TOKEN_VOLUME,
            "projected": {
                "sources": [
                    {
                        "serviceAccountToken": {
                            "audience": vault_access.TOKEN_AUDIENCE,
                            "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                            "path": "token",
                        }
                    }
                ]
            },
        }
    ]


def secret_provider_class_name(service: str) -> str:
    return f"{vault_access.role_name(service)}-vault"


def secret_provider_class(service: str, namespace: str, needs: SecretNeeds) -> dict[str, Any]:
    """A `SecretProviderClass` (secrets-store.csi.x-k8s.io/v1) named `<service>-vault`
    in `namespace`: the Vault provider logs in as the service's role on
    `auth/kubernetes` with a token of audience `vault` and writes each path of `needs`
    whole (JSON) to its file. No `secretObjects`: nothing is synced into a Kubernetes
    Secret. The Vault address is not set here: the provider goes through its agent,
    which knows it (and caches leases)."""
    rendered = files(service, needs)
    if not rendered:
        raise ValueError(
            f"service {service}: no secrets to mount; ask for aws, database or kv secrets"
        )
    objects = [{"objectName": file, "secretPath": path} for file, path in rendered.items()]
    return {
        "apiVersion": SECRET_PROVIDER_CLASS_API,
        "kind": "SecretProviderClass",
        "metadata": {"name": secret_provider_class_name(service), "namespace": namespace},
        "spec": {
            "provider": "vault",
            "parameters": {
                "roleName": vault_access.role_name(service),
                "vaultKubernetesMountPath": vault_access.KUBERNETES_AUTH_MOUNT,
                "audience": vault_access.TOKEN_AUDIENCE,
                "objects": yaml.safe_dump(objects, sort_keys=False),
            },
        },
    }


def csi_volume(service: str) -> dict[str, Any]:
    """The pod volume that mounts the service's SecretProviderClass (read-only)."""
    return {
        "name": CSI_VOLUME,
        "csi": {
            "driver": CSI_DRIVER,
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": secret_provider_class_name(service)},
        },
    }


def csi_volume_mount() -> dict[str, Any]:
    """The container's mount of `csi_volume` at `/vault/secrets` (read-only)."""
    return {"name": CSI_VOLUME, "mountPath": SECRETS_DIR, "readOnly": True}
