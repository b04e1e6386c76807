"""`ballast.audit.pool`: units and their follow-ups run to the end, a failing unit is one
error, and a `Gather` joins its parts once, only when every part has answered."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ballast.audit.pool import Gather, Pool, Unit


def _denied(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, operation)


def test_gather_joins_once_with_every_answer() -> None:
    joined: list[dict[str, Any]] = []
    barrier = threading.Barrier(3, timeout=5)

    def part(value: int):
        def call() -> int:
            barrier.wait()  # all three are in flight at once: they overlap
            return value

        return call

    parts = {k: (f"Get{k.title()}", part(v)) for k, v in (("a", 1), ("b", 2), ("c", 3))}
    gather = Gather(parts, lambda answers, submit: joined.append(answers))
    pool = Pool(workers=4, deadline_s=10)
    pool.run(gather.units("111111111111", "us-east-1", "s3"))
    assert joined == [{"a": 1, "b": 2, "c": 3}]
    assert pool.errors == []


def test_gather_with_a_failed_part_never_joins_and_names_that_part() -> None:
    joined: list[dict[str, Any]] = []

    def fails() -> None:
        raise _denied("GetBucketPolicy")

    parts = {"acl": ("GetBucketAcl", lambda: {}), "policy": ("GetBucketPolicy", fails)}
    pool = Pool(workers=2, deadline_s=10)
    pool.run(Gather(parts, lambda a, s: joined.append(a)).units("111111111111", "eu-west-1", "s3"))
    assert joined == []
    assert [(e.region, e.service, e.operation, e.kind) for e in pool.errors] == [
        ("eu-west-1", "s3", "GetBucketPolicy", "access-denied")
    ]


def test_then_may_submit_follow_ups() -> None:
    seen: list[str] = []

    def then(answers: dict[str, Any], submit) -> None:
        submit(Unit("1", "r", "iam", "ListMFADevices", lambda _: seen.append("follow-up")))

    pool = Pool(workers=2, deadline_s=10)
    pool.run(Gather({"p": ("GetPolicy", lambda: 1)}, then).units("1", "r", "iam"))
    assert seen == ["follow-up"]


def test_a_gather_needs_a_part() -> None:
    with pytest.raises(ValueError, match="at least one part"):
        Gather({}, lambda a, s: None)
