"""Where an audit looks and how it talks to AWS: accounts, regions, and one factory for
every boto3 client.

Defaults (`ClientSettings`): adaptive retry mode with 4 attempts, 5 s to connect, 20 s
to read, a connection pool as large as the worker pool. With `endpoint_url` (an
emulator such as moto's server) every client goes there, S3 uses path-style addresses
and S3 Control's account-id host prefix is dropped (an IP address cannot take one).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.utils import parse_timestamp  # type: ignore[import-untyped]

#: Role assumed in each account given with `--accounts` (override with `--role-name`).
DEFAULT_ROLE_NAME = "BallastAudit"
#: Session name the assumed roles carry (shows in the target account's CloudTrail).
SESSION_NAME = "ballast-audit"
#: Opt-in states of a region that is enabled.
ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})

#: An event hook: (botocore event name, handler), registered on every client made.
EventHook = tuple[str, Callable[..., Any]]


class ScopeError(RuntimeError):
    """The audit cannot start: no usable credentials, a role that cannot be assumed."""


@dataclass(frozen=True)
class ClientSettings:
    """How clients behave. `max_attempts` 4 (adaptive: client-side rate limiting on
    throttling), `connect_timeout` 5 s, `read_timeout` 20 s, `max_pool_connections` 32.
    `hooks` are botocore event handlers put on every client (tests inject faults with
    them); `service_endpoints` send one service elsewhere than `endpoint_url`."""

    endpoint_url: str | None = None
    max_attempts: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_pool_connections: int = 32
    hooks: tuple[EventHook, ...] = ()
    service_endpoints: dict[str, str] = field(default_factory=dict)


_ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def read_timestamp(value: Any) -> datetime:
    """A response timestamp as botocore's own parser reads it, faster for the common
    ISO 8601 text (`datetime.fromisoformat`, C code, instead of dateutil's tokenizer:
    an estate of a thousand snapshots and keys spent ~0.1 s there). Epoch numbers,
    RFC 822 dates and anything `fromisoformat` refuses go to botocore's
    `parse_timestamp`, so the value and its time zone are what botocore would give."""
    if isinstance(value, str) and _ISO_8601.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return parse_timestamp(value)


def strip_account_host_prefix(request: Any, **_: Any) -> None:
    """S3 Control puts `<account>.` before the host; an emulator's IP cannot take it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(request.url)
    host = parts.netloc
    first, _, rest = host.partition(".")
    if first.isdigit() and len(first) == 12 and rest:
        request.url = urlunsplit(parts._replace(netloc=rest))


class ClientFactory:
    """boto3 clients for (account, region, service), one each, all made from one base
    session (service models load once) with each account's credentials.

    `add_account` enters an account: with the caller's own credentials (role None) or a
    role assumed there. `close()` closes every client made. Thread-safe: the worker pool
    asks for clients concurrently.
    """

    def __init__(self, settings: ClientSettings, session: boto3.Session | None = None):
        self.settings = settings
        self._base = session or boto3.Session()
        # Clients the session makes from here on (also the caller's own, when `session`
        # is given) parse timestamps with `read_timestamp`, through botocore's parser
        # defaults (`ResponseParserFactory.set_parser_defaults`); the values are the same.
        self._base._session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=read_timestamp
        )
        # Per account, the credentials its clients use (empty: the base session's own).
        # Clients come from the one base session so service models load once.
        self._credentials: dict[str, dict[str, str]] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._made: list[Any] = []
        self._lock = threading.Lock()
        self._making = threading.Lock()
        self._calls = 0
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_pool_connections=settings.max_pool_connections,
            s3={"addressing_style": "path"} if settings.endpoint_url else None,
            user_agent_extra="ballast-audit",
        )

    @property
    def calls(self) -> int:
        """API calls sent so far (each attempt of a retried call counts)."""
        return self._calls

    def _count(self, **_: Any) -> None:
        with self._lock:
            self._calls += 1

    def _make(self, credentials: dict[str, str], service: str, region: str) -> Any:
        endpoint = self.settings.service_endpoints.get(service, self.settings.endpoint_url)
        client = self._base.client(
            service, region_name=region, endpoint_url=endpoint, config=self._config, **credentials
        )
        events = client.meta.events
        events.register("before-send", self._count)
        if endpoint and service == "s3control":
            events.register("before-sign.s3-control", strip_account_host_prefix)
        for name, handler in self.settings.hooks:
            events.register(name, handler)
        with self._lock:
            self._made.append(client)
        return client

    def caller_account(self) -> str:
        """The account the base credentials belong to (`sts:GetCallerIdentity`)."""
        region = self._base.region_name or "us-east-1"
        with self._making:
            client = self._make({}, "sts", region)
        return str(client.get_caller_identity()["Account"])

    def add_account(self, account: str, role_arn: str | None, region: str) -> None:
        """Use the base credentials for `account` (role None) or assume `role_arn`."""
        credentials: dict[str, str] = {}
        if role_arn is not None:
            with self._making:
                sts = self._make({}, "sts", region)
            answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)
            credentials = {
                "aws_access_key_id": answer["Credentials"]["AccessKeyId"],
                "aws_secret_access_key": answer["Credentials"]["SecretAccessKey"],
                "aws_session_token": answer["Credentials"]["SessionToken"],
            }
        with self._lock:
            self._credentials[account] = credentials

    def client(self, account: str, region: str, service: str) -> Any:
        key = (account, region, service)
        with self._lock:
            found = self._clients.get(key)
            credentials = self._credentials[account]
        if found is not None:
            return found
        # A boto3 session is not thread-safe: clients are made one at a time.
        with self._making:
            with self._lock:
                found = self._clients.get(key)
            if found is not None:
                return found
            made = self._make(credentials, service, region)
            with self._lock:
                return self._clients.setdefault(key, made)

    def close(self) -> None:
        """Close every client's connections (the endpoint then sees them go at once,
        instead of idle keep-alive sockets until this process exits)."""
        with self._lock:
            clients, self._made = self._made, []
        for client in clients:
            client.close()


def enabled_regions(factory: ClientFactory, account: str, region: str) -> list[str]:
    """The regions enabled for `account`, sorted; the opt-in status is filtered here,
    client-side, because not every endpoint honours the server-side filter."""
    answer = factory.client(account, region, "ec2").describe_regions(AllRegions=True)
    return sorted(
        r["RegionName"]
        for r in answer["Regions"]
        if r.get("OptInStatus", "opt-in-not-required") in ENABLED_OPT_IN
    )


def role_arn(account: str, role_name: str) -> str:
    return f"arn:aws:iam::{account}:role/{role_name}"


def parse_accounts(values: Sequence[str]) -> list[str]:
    """Account ids from `--accounts` (comma-separated or repeated); each 12 digits.
    Raises ValueError naming the first bad one."""
    accounts: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not (part.isdigit() and len(part) == 12):
                raise ValueError(f"--accounts: {part!r} is not an AWS account id (12 digits)")
            if part not in accounts:
                accounts.append(part)
    return accounts
