"""Vault's configuration as code (docs/vault.md, "Configuration as code"): what the
cluster stack writes into Vault through Pulumi's Vault provider, after the release
(components/cluster/addons/vault.py) runs and the servers are initialised.

Through one explicit `vault.Provider` (never a default one) at `ballast:vault.address`,
which authenticates with the short-lived token in `VAULT_TOKEN` of whoever runs the
stack (an operator's one-hour token from the JWT login; the root token only in the
initialisation ceremony; never in the program or its state) and works through a child
token of at most `PROVIDER_TOKEN_TTL_SECONDS`:

- the **AWS secrets engine** (`aws/`) with one `assumed_role` role per service that
  declares `secrets.aws`, naming exactly that service's IAM role (the platform stack's
  `AwsSecretsEngineRoles`); credentials last `AWS_DEFAULT_TTL_SECONDS` (15 minutes) by
  default, `AWS_MAX_TTL_SECONDS` (1 hour) at most. The engine holds no access key;
- the **database secrets engine** (`database/`) for the platform PostgreSQL: one
  connection as the management user `MANAGEMENT_USER`, whose bootstrap password Vault
  rotates right after the connection is written (`rotate-root`), so only Vault knows it;
  one role per service that declares `secrets.database`, creating a user with rights on
  that service's schema only, for `DATABASE_DEFAULT_TTL_SECONDS` (at most
  `DATABASE_MAX_TTL_SECONDS`), dropped when its lease ends;
- **Kubernetes auth** (`auth/kubernetes/`): one role per service with secrets, bound to
  exactly its namespace and service account, for tokens with the audience `AUDIENCE`,
  issuing Vault tokens of `TOKEN_TTL_SECONDS` (at most `TOKEN_MAX_TTL_SECONDS`) with
  the service's policy and Vault's `default` policy (renew and revoke its own token and
  leases);
- one **Vault policy** per service (`service_policy_hcl`): read its own AWS and database
  credentials and its own KV v2 prefix, nothing else;
- a **KV v2** mount (`kv/`) only when a service declares `secrets.kv`;
- the **file audit device** (`file/`) writing every request and response, secrets
  HMAC'd, to each server's audit volume (`vault.AUDIT_LOG_FILE`). Vault refuses to answer
  a request it cannot audit: a full audit volume stops Vault, which the
  `PersistentVolumeFilling` alert warns of days before;
- with `ballast:vault.adminJwt`, **JWT auth** (`auth/jwt/`) with the one role
  `platform-admin` carrying the `platform-admin` policy (`ADMIN_POLICY_HCL`).

Policy HCL and SQL statements are pure functions, so the tests write exactly these to a
real server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random
import pulumi_vault as vault

from components import vault_access
from components.cluster.addons import vault as vault_addon
from components.cluster.scope import InClusterScope
from components.config import ServiceConfig, VaultAdminJwtConfig

# The mounts and the audience the workloads' injection uses too (one place for both).
AWS_MOUNT = vault_access.AWS_MOUNT
DATABASE_MOUNT = vault_access.DATABASE_MOUNT
KV_MOUNT = vault_access.KV_MOUNT
KUBERNETES_AUTH_MOUNT = vault_access.KUBERNETES_AUTH_MOUNT
JWT_AUTH_MOUNT = "jwt"
#: The database connection's name under `database/config/`.
CONNECTION = "platform"
#: The PostgreSQL user Vault manages dynamic users with (CREATEROLE, and GRANT OPTION on
#: each service schema; runbooks/vault-init-and-recovery.md creates it).
MANAGEMENT_USER = "vault_admin"
AWS_DEFAULT_TTL_SECONDS = 15 * 60
AWS_MAX_TTL_SECONDS = 60 * 60
DATABASE_DEFAULT_TTL_SECONDS = 15 * 60
DATABASE_MAX_TTL_SECONDS = 60 * 60
TOKEN_TTL_SECONDS = 15 * 60
TOKEN_MAX_TTL_SECONDS = 60 * 60
#: The audience a service account token must carry to log in (projected tokens with
#: this audience; the Kubernetes API's default audience is refused).
AUDIENCE = vault_access.TOKEN_AUDIENCE
#: The provider's child token lives at most this long (the provider's own default).
PROVIDER_TOKEN_TTL_SECONDS = 20 * 60
ADMIN_POLICY = "platform-admin"
ADMIN_ROLE = "platform-admin"
ADMIN_TOKEN_TTL_SECONDS = 60 * 60

#: The operators' policy, issued only through JWT auth: everything Vault offers,
#: including `sudo`. The pack's `vault-policy-least-privilege` allows this one name.
ADMIN_POLICY_HCL = """# Operators, through the identity provider only (auth/jwt, platform-admin).
path "*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list", "sudo"]
}
"""

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def policy_name(service: str) -> str:
    """The Vault policy of one service."""
    return f"service-{service}"


def schema_name(service: str) -> str:
    """The PostgreSQL schema a service owns: its name with `-` as `_`."""
    schema = service.replace("-", "_")
    if not _SCHEMA.fullmatch(schema):
        raise ValueError(f"service {service!r} gives no PostgreSQL schema name")
    return schema


def service_paths(
    service: str, *, aws: bool, database: bool, kv: bool
) -> list[tuple[str, list[str]]]:
    """(path, capabilities) of everything one service may do: read its own AWS and
    database credentials and its own KV v2 prefix."""
    paths: list[tuple[str, list[str]]] = []
    if aws:
        # `assumed_role` credentials are read (GET) or requested with a TTL (POST).
        paths.append((vault_access.aws_credentials_path(service), ["read", "update"]))
        paths.append((f"{AWS_MOUNT}/sts/{service}", ["read", "update"]))
    if database:
        paths.append((vault_access.database_credentials_path(service), ["read"]))
    if kv:
        paths.append((f"{vault_access.kv_prefix(service)}*", ["read"]))
        paths.append((f"{KV_MOUNT}/metadata/{service}/*", ["read", "list"]))
    return paths


def service_policy_hcl(service: str, *, aws: bool, database: bool, kv: bool) -> str:
    """The Vault policy (HCL) of one service: `service_paths`, nothing else. A service
    that declares no engine gets a policy with no path (it can only look up its token)."""
    blocks = [
        f'path "{path}" {{\n  capabilities = {json.dumps(capabilities)}\n}}\n'
        for path, capabilities in service_paths(service, aws=aws, database=database, kv=kv)
    ]
    return f"# Service {service}: its own credentials only.\n" + "".join(blocks)


def management_grants(schema: str) -> list[str]:
    """SQL an operator runs once per service schema (runbooks/vault-init-and-recovery.md),
    as the schema's owner: the management user may hand on exactly the rights
    `creation_statements` grants, on that schema only."""
    return [
        f'GRANT USAGE ON SCHEMA "{schema}" TO {MANAGEMENT_USER} WITH GRANT OPTION;',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" '
        f"TO {MANAGEMENT_USER} WITH GRANT OPTION;",
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" '
        f"TO {MANAGEMENT_USER} WITH GRANT OPTION;",
        # Tables and sequences the owner creates later (migrations) too.
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT, INSERT, UPDATE, '
        f"DELETE ON TABLES TO {MANAGEMENT_USER} WITH GRANT OPTION;",
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT USAGE, SELECT ON SEQUENCES '
        f"TO {MANAGEMENT_USER} WITH GRANT OPTION;",
    ]


def creation_statements(schema: str) -> list[str]:
    """SQL the database engine runs to create a service's user: a login that expires
    with its lease, with data rights on the service's schema only."""
    return [
        "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
        "VALID UNTIL '{{expiration}}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;",
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{{{{name}}}}";',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" '
        'TO "{{name}}";',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{{{{name}}}}";',
    ]


def revocation_statements(schema: str) -> list[str]:
    """SQL the database engine runs when a lease ends: revoke the schema rights, end
    the user's sessions, drop the user."""
    return [
        f'REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA "{schema}" FROM "{{{{name}}}}";',
        f'REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA "{schema}" FROM "{{{{name}}}}";',
        f'REVOKE USAGE ON SCHEMA "{schema}" FROM "{{{{name}}}}";',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';",
        'DROP ROLE IF EXISTS "{{name}}";',
    ]


def connection_url(host: str, port: int, database: str) -> str:
    """The database engine's connection template (Vault fills in the user and password);
    TLS required (RDS's CA is not in the server image, so it is not verified)."""
    return (
        f"postgresql://{{{{username}}}}:{{{{password}}}}@{host}:{port}/{database}?sslmode=require"
    )


@dataclass(frozen=True, kw_only=True)
class DatabaseTarget:
    """The platform PostgreSQL, from the platform stack's outputs."""

    host: pulumi.Input[str]
    port: int
    name: str


@dataclass(frozen=True, kw_only=True)
class VaultConfiguration:
    """What `configure` needs: where Vault is and what the services declare."""

    address: str
    """The provider's address (`ballast:vault.address`)."""
    region: str
    """The AWS engine's region (the cluster's)."""
    services: Sequence[ServiceConfig]
    """`ballast:services`; only those with `secrets` get anything."""
    service_role_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Service name -> its IAM role (the platform stack's `vaultServiceRoleArns`)."""
    database: DatabaseTarget | None = None
    """The platform PostgreSQL (None without `ballast:database`)."""
    admin_jwt: VaultAdminJwtConfig | None = None
    """`ballast:vault.adminJwt` (None: no operators' login is configured)."""


@dataclass(frozen=True)
class ConfiguredVault:
    """What `configure` made, for the stack outputs."""

    auth_mounts: dict[str, str]
    """Auth method -> mount path."""
    service_roles: dict[str, dict[str, str]]
    """Service -> {policy, kubernetesRole, awsRole, databaseRole, kvPrefix} (the keys
    it has)."""
    database_bootstrap_password: pulumi.Output[str] | None
    """The management user's first password (secret), which `rotate-root` replaces."""


def configure(
    scope: InClusterScope, *, settings: VaultConfiguration, release: pulumi.Resource
) -> ConfiguredVault:
    """Every Vault object of the module docstring, through one explicit provider, after
    `release`."""
    name = scope.name
    provider = vault.Provider(
        f"{name}-vault-api",
        address=settings.address,
        # No token here: the provider reads the runner's short-lived VAULT_TOKEN at run
        # time and works through a child token of it.
        skip_child_token=False,
        max_lease_ttl_seconds=PROVIDER_TOKEN_TTL_SECONDS,
        token_name=f"{name}-pulumi",
        opts=pulumi.ResourceOptions(parent=scope.parent, depends_on=[release]),
    )
    opts = pulumi.ResourceOptions(parent=scope.parent, provider=provider)

    def child(*after: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(after)))

    # First, so everything below is audited from its first request.
    audit = vault.Audit(
        f"{name}-vault-audit",
        type="file",
        path="file",
        description="Every request and response (secrets HMAC'd) on the audit volume",
        options={"file_path": vault_addon.AUDIT_LOG_FILE},
        opts=opts,
    )
    opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[audit]))

    with_secrets = [s for s in settings.services if s.secrets is not None]
    aws_services = [s for s in with_secrets if s.secrets and s.secrets.aws is not None]
    db_services = [s for s in with_secrets if s.secrets and s.secrets.database]
    kv_services = [s for s in with_secrets if s.secrets and s.secrets.kv]
    roles: dict[str, dict[str, str]] = {}

    if aws_services:
        backend = vault.aws.SecretBackend(
            f"{name}-vault-aws",
            path=AWS_MOUNT,
            description="Short-lived STS credentials of the services' roles",
            region=settings.region,
            default_lease_ttl_seconds=AWS_DEFAULT_TTL_SECONDS,
            max_lease_ttl_seconds=AWS_MAX_TTL_SECONDS,
            opts=opts,
        )
        for service in aws_services:
            if service.name not in settings.service_role_arns:
                raise ValueError(f"no IAM role is given for service {service.name}")
            vault.aws.SecretBackendRole(
                f"{name}-vault-aws-{service.name}",
                backend=backend.path,
                name=service.name,
                credential_type="assumed_role",
                role_arns=[settings.service_role_arns[service.name]],
                default_sts_ttl=AWS_DEFAULT_TTL_SECONDS,
                max_sts_ttl=AWS_MAX_TTL_SECONDS,
                opts=child(backend),
            )
            roles.setdefault(service.name, {})["awsRole"] = service.name

    bootstrap: pulumi.Output[str] | None = None
    if db_services:
        if settings.database is None:
            raise pulumi.RunError(
                "services declare secrets.database but the platform stack has no database"
            )
        db = settings.database
        mount = vault.Mount(
            f"{name}-vault-database",
            path=DATABASE_MOUNT,
            type="database",
            description="Dynamic PostgreSQL users of the platform database",
            default_lease_ttl_seconds=DATABASE_DEFAULT_TTL_SECONDS,
            max_lease_ttl_seconds=DATABASE_MAX_TTL_SECONDS,
            opts=opts,
        )
        password = random.RandomPassword(
            f"{name}-vault-db-bootstrap",
            length=32,
            special=False,
            opts=pulumi.ResourceOptions(
                parent=scope.parent,
                provider=random.Provider(
                    f"{name}-random", opts=pulumi.ResourceOptions(parent=scope.parent)
                ),
            ),
        )
        bootstrap = pulumi.Output.secret(password.result)
        connection = vault.database.SecretBackendConnection(
            f"{name}-vault-db-{CONNECTION}",
            backend=mount.path,
            name=CONNECTION,
            allowed_roles=[s.name for s in db_services],
            verify_connection=True,
            postgresql=vault.database.SecretBackendConnectionPostgresqlArgs(
                connection_url=pulumi.Output.from_input(db.host).apply(
                    lambda host: connection_url(host, db.port, db.name)
                ),
                username=MANAGEMENT_USER,
                # Write-only: sent once (version 1), never stored in the state.
                password_wo=bootstrap,
                password_wo_version=1,
                password_authentication="scram-sha-256",
            ),
            opts=child(mount),
        )
        # Vault replaces the bootstrap password with one only it knows. Written once:
        # a read would fail (the endpoint returns nothing) and a delete means nothing.
        vault.generic.Endpoint(
            f"{name}-vault-db-rotate-root",
            path=pulumi.Output.concat(mount.path, f"/rotate-root/{CONNECTION}"),
            data_json="{}",
            disable_read=True,
            disable_delete=True,
            opts=child(connection),
        )
        for service in db_services:
            schema = schema_name(service.name)
            vault.database.SecretBackendRole(
                f"{name}-vault-db-{service.name}",
                backend=mount.path,
                name=service.name,
                db_name=connection.name,
                creation_statements=creation_statements(schema),
                revocation_statements=revocation_statements(schema),
                default_ttl=DATABASE_DEFAULT_TTL_SECONDS,
                max_ttl=DATABASE_MAX_TTL_SECONDS,
                opts=child(connection),
            )
            roles.setdefault(service.name, {})["databaseRole"] = service.name

    if kv_services:
        vault.Mount(
            f"{name}-vault-kv",
            path=KV_MOUNT,
            type="kv",
            options={"version": "2"},
            description="Static secrets that cannot be dynamic (KV v2, one prefix per service)",
            opts=opts,
        )
        for service in kv_services:
            roles.setdefault(service.name, {})["kvPrefix"] = vault_access.kv_prefix(service.name)

    auth_mounts: dict[str, str] = {}
    if with_secrets:
        kubernetes = vault.AuthBackend(
            f"{name}-vault-auth-kubernetes",
            type="kubernetes",
            path=KUBERNETES_AUTH_MOUNT,
            description="Pods log in with their service account token",
            opts=opts,
        )
        # Vault runs in the cluster: it reviews tokens with its own service account
        # and the cluster CA mounted into its pods.
        vault.kubernetes.AuthBackendConfig(
            f"{name}-vault-auth-kubernetes",
            backend=kubernetes.path,
            kubernetes_host="https://kubernetes.default.svc",
            opts=child(kubernetes),
        )
        auth_mounts["kubernetes"] = KUBERNETES_AUTH_MOUNT
        for service in with_secrets:
            declared = service.secrets
            assert declared is not None
            policy = vault.Policy(
                f"{name}-vault-policy-{service.name}",
                name=policy_name(service.name),
                policy=service_policy_hcl(
                    service.name,
                    aws=declared.aws is not None,
                    database=declared.database,
                    kv=declared.kv,
                ),
                opts=opts,
            )
            vault.kubernetes.AuthBackendRole(
                f"{name}-vault-k8s-{service.name}",
                backend=kubernetes.path,
                role_name=vault_access.role_name(service.name),
                bound_service_account_names=[service.service_account],
                bound_service_account_namespaces=[service.namespace or service.name],
                audience=AUDIENCE,
                token_policies=[policy.name],
                token_ttl=TOKEN_TTL_SECONDS,
                token_max_ttl=TOKEN_MAX_TTL_SECONDS,
                # Vault's `default` policy stays: it lets the agent renew its token
                # and the service's leases, and nothing else.
                opts=child(kubernetes, policy),
            )
            entry = roles.setdefault(service.name, {})
            entry["policy"] = policy_name(service.name)
            entry["kubernetesRole"] = vault_access.role_name(service.name)

    admin = settings.admin_jwt
    if admin is not None:
        jwt = vault.jwt.AuthBackend(
            f"{name}-vault-auth-jwt",
            path=JWT_AUTH_MOUNT,
            type="jwt",
            description="Operators log in through the identity provider",
            oidc_discovery_url=admin.oidc_discovery_url,
            bound_issuer=admin.oidc_discovery_url,
            opts=opts,
        )
        admin_policy = vault.Policy(
            f"{name}-vault-policy-{ADMIN_POLICY}",
            name=ADMIN_POLICY,
            policy=ADMIN_POLICY_HCL,
            opts=opts,
        )
        vault.jwt.AuthBackendRole(
            f"{name}-vault-jwt-{ADMIN_ROLE}",
            backend=jwt.path,
            role_name=ADMIN_ROLE,
            role_type="jwt",
            bound_audiences=list(admin.bound_audiences),
            bound_claims={k: ",".join(v) for k, v in admin.bound_claims.items()},
            user_claim=admin.user_claim,
            token_policies=[admin_policy.name],
            token_ttl=ADMIN_TOKEN_TTL_SECONDS,
            token_max_ttl=ADMIN_TOKEN_TTL_SECONDS,
            token_no_default_policy=True,
            opts=child(jwt, admin_policy),
        )
        auth_mounts["jwt"] = JWT_AUTH_MOUNT

    return ConfiguredVault(
        auth_mounts=auth_mounts,
        service_roles=roles,
        database_bootstrap_password=bootstrap,
    )
