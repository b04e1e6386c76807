"""`ballast audit --demo`: moto's server on 127.0.0.1 (a random free port), the example
estate of `seed` in it (two accounts, two regions, every check's problem beside a clean
counterpart), and the options that audit it with throwaway credentials.

The audit clock is set `DEMO_AGE_DAYS` after the seeding's split so the age checks
(old AMIs, snapshots and access keys) have something to find: the emulator stamps every
creation with the current time. All age thresholds are that many days in the demo.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import boto3  # type: ignore[import-untyped]

from ballast.audit.checks import Thresholds
from ballast.audit.run import AuditOptions
from ballast.audit.seed import CREDENTIALS, REGIONS, ROLE_NAME, Seeded, seed
from ballast.emulator import MotoServer

DEMO_AGE_DAYS = 90
#: How long the demo's server may take to exit before it is killed, seconds: its state
#: is thrown away, and moto spends seconds tearing a seeded estate down on SIGTERM.
DEMO_STOP_TIMEOUT_S = 0.5


def demo_options(
    options: AuditOptions, url: str, seeded: Seeded, session: boto3.Session | None = None
) -> AuditOptions:
    """`options` pointed at the seeded estate at `url` (with throwaway credentials, or
    `session`'s)."""
    client = dataclasses.replace(
        options.client, endpoint_url=url, hooks=options.client.hooks + seeded.corrections()
    )
    days = DEMO_AGE_DAYS
    return dataclasses.replace(
        options,
        accounts=list(seeded.accounts),
        role_name=ROLE_NAME,
        regions=options.regions or list(seeded.regions),
        client=client,
        thresholds=Thresholds(
            image_days=days, snapshot_days=days, key_days=days, key_unused_days=days
        ),
        now=seeded.split + timedelta(days=days),
        session=session or boto3.Session(region_name=seeded.regions[0], **CREDENTIALS),
    )


def start_demo(options: AuditOptions) -> tuple[MotoServer, AuditOptions]:
    """Start the server and seed it; the caller stops the server."""
    server = MotoServer(stop_timeout=DEMO_STOP_TIMEOUT_S).start()
    # One session for the seed and the audit: the service models load once.
    session = boto3.Session(region_name=REGIONS[0], **CREDENTIALS)
    try:
        seeded = seed(server.url, session=session)
    except BaseException:
        server.stop()
        raise
    return server, demo_options(options, server.url, seeded, session)
