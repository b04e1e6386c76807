"""The database secrets engine of each cluster stack, applied to a real server (OpenBao)
from the recorded plan, against a real PostgreSQL: the root rotation locks the bootstrap
password out, each service's role issues a real user that can use only its own schema,
and the user is gone once its lease is revoked.

What the plan cannot give is swapped for the test's own, and only that: the connection's
`postgresql` block is secret in the plan (it holds the bootstrap password), so the test
writes the connection URL `connection_url` renders for its own server, the management
user `MANAGEMENT_USER` and a bootstrap password of its own; everything else (mount,
TTLs, allowed roles, root rotation, role statements) is the recorded input."""

from __future__ import annotations

import secrets

import pytest

from components.cluster.addons import vault_config as vc
from tests.conftest import CLUSTER_STACKS, stack_run
from tests.vault.conftest import DATABASE

pytestmark = pytest.mark.tool

MOUNT = "vault:index/mount:Mount"
CONNECTION = "vault:database/secretBackendConnection:SecretBackendConnection"
ROLE = "vault:database/secretBackendRole:SecretBackendRole"
ENDPOINT = "vault:generic/endpoint:Endpoint"


def bootstrap(postgres, schemas: list[str], password: str) -> None:
    """What the runbook has an operator do once: the management user with its bootstrap
    password, each service's schema (with a table and a sequence) and the grants of
    `management_grants`."""
    exists = postgres.sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{vc.MANAGEMENT_USER}'")
    verb = "ALTER" if exists else "CREATE"
    postgres.sql(f"{verb} ROLE {vc.MANAGEMENT_USER} WITH LOGIN CREATEROLE PASSWORD '{password}'")
    postgres.sql(f"GRANT pg_signal_backend TO {vc.MANAGEMENT_USER}")
    for schema in schemas:
        postgres.sql(
            f'CREATE SCHEMA IF NOT EXISTS "{schema}"; '
            f'CREATE TABLE IF NOT EXISTS "{schema}".records (id serial PRIMARY KEY, note text)'
        )
        for statement in vc.management_grants(schema):
            postgres.sql(statement)


def enable_mount(bao, record) -> str:
    inputs = record.inputs
    path = inputs["path"]
    if f"{path}/" in bao.client.sys.list_mounted_secrets_engines()["data"]:
        bao.client.sys.disable_secrets_engine(path=path)
    bao.client.sys.enable_secrets_engine(
        backend_type=inputs["type"],
        path=path,
        config={
            "default_lease_ttl": inputs["defaultLeaseTtlSeconds"],
            "max_lease_ttl": inputs["maxLeaseTtlSeconds"],
        },
    )
    return path


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_database_credentials_are_real_scoped_and_revoked(bao, postgres, stack):
    run = stack_run(stack)
    (mount,) = [m for m in run.of_type(MOUNT) if m.inputs["type"] == "database"]
    (connection,) = run.of_type(CONNECTION)
    (rotate,) = [e for e in run.of_type(ENDPOINT) if "/rotate-root/" in e.inputs["path"]]
    roles = run.of_type(ROLE)
    assert roles
    schemas = {r.inputs["name"]: vc.schema_name(r.inputs["name"]) for r in roles}
    password = secrets.token_urlsafe(24)
    bootstrap(postgres, sorted(schemas.values()), password)

    path = enable_mount(bao, mount)
    assert connection.inputs["backend"] == path
    bao.client.write_data(
        f"{path}/config/{connection.inputs['name']}",
        data={
            "plugin_name": "postgresql-database-plugin",
            "connection_url": vc.connection_url("127.0.0.1", postgres.port, DATABASE),
            "username": vc.MANAGEMENT_USER,
            "password": password,
            "password_authentication": "scram-sha-256",
            "allowed_roles": connection.inputs["allowedRoles"],
            "verify_connection": connection.inputs["verifyConnection"],
        },
    )
    assert postgres.login(vc.MANAGEMENT_USER, password, "SELECT 1").returncode == 0
    # Root rotation, as recorded: afterwards only Vault knows the management password.
    bao.client.write_data(rotate.inputs["path"], data={})
    assert postgres.login(vc.MANAGEMENT_USER, password, "SELECT 1").returncode != 0

    for record in roles:
        inputs = record.inputs
        bao.client.write_data(
            f"{path}/roles/{inputs['name']}",
            data={
                "db_name": inputs["dbName"],
                "creation_statements": inputs["creationStatements"],
                "revocation_statements": inputs["revocationStatements"],
                "default_ttl": inputs["defaultTtl"],
                "max_ttl": inputs["maxTtl"],
            },
        )
    for name, schema in schemas.items():
        issued = bao.client.read(f"{path}/creds/{name}")
        user, secret = issued["data"]["username"], issued["data"]["password"]
        assert 0 < issued["lease_duration"] <= 3600
        (flags,) = postgres.sql(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolinherit, rolcanlogin "
            f"FROM pg_roles WHERE rolname = '{user}'"
        )
        assert flags == ["f", "f", "f", "f", "t"]
        assert postgres.sql(
            f"SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
            f"WHERE r.rolname = '{user}'"
        ) == [["0"]]
        for other in schemas.values():
            own = "t" if other == schema else "f"
            assert postgres.sql(
                f"SELECT has_schema_privilege('{user}', '{other}', 'USAGE'), "
                f"has_table_privilege('{user}', '{other}.records', 'SELECT'), "
                f"has_schema_privilege('{user}', '{other}', 'CREATE')"
            ) == [[own, own, "f"]], (user, other)
        works = postgres.login(
            user, secret, f"INSERT INTO \"{schema}\".records (note) VALUES ('x'); SELECT 1"
        )
        assert works.returncode == 0, works.stderr
        for other in set(schemas.values()) - {schema}:
            denied = postgres.login(user, secret, f'SELECT count(*) FROM "{other}".records')
            assert denied.returncode != 0 and "permission denied" in denied.stderr
        bao.client.sys.revoke_lease(lease_id=issued["lease_id"])
        assert postgres.sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'") == []
        assert postgres.login(user, secret, "SELECT 1").returncode != 0
