"""The bounded worker pool an audit runs its units of work in, and how a failed call
becomes an `AuditError`.

A unit is one small piece of discovery: (account, region, service, what). A unit may
submit follow-up units (one per bucket, per cluster, per load balancer...), so the
latency of every call overlaps with the others'. Calls that feed one result but do not
depend on each other (a bucket's ACL, policy, encryption...) run as a `Gather`: a unit
each, joined when the last answers, so a resource costs one round trip of latency, not
one per call. A failing unit records one error and
never stops the rest. Defaults: 32 workers; the whole run is bounded by `deadline_s`
(600 s), after which units not yet finished are recorded as errors, not waited for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]

from ballast.audit.model import AuditError

#: Workers by default: enough to hide ~20 ms of latency per call on hundreds of units.
DEFAULT_WORKERS = 32
#: Upper bound of one audit's discovery, seconds.
DEFAULT_DEADLINE_S = 600.0

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AuthFailure",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
}


def classify(exc: BaseException) -> tuple[str, str]:
    """(kind, message) of a failure: access-denied, throttled, unreachable, malformed,
    error. The message is botocore's own, without credentials (botocore never puts them
    in one)."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _DENIED:
            return "access-denied", str(exc)
        if code in _THROTTLED:
            return "throttled", str(exc)
        return "error", str(exc)
    if isinstance(exc, (EndpointConnectionError, BotoConnectionError, ReadTimeoutError)):
        return "unreachable", str(exc)
    if isinstance(exc, ResponseParserError):
        return "malformed", str(exc)
    if isinstance(exc, (KeyError, TypeError, ValueError, AttributeError)):
        return "malformed", f"unexpected answer: {type(exc).__name__}: {exc}"
    if isinstance(exc, BotoCoreError):
        return "error", str(exc)
    return "error", f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Unit:
    """One piece of work; `run(submit)` may call `submit(unit)` for follow-ups."""

    account: str
    region: str
    service: str
    operation: str
    run: Callable[[Callable[[Unit], None]], None]


Submit = Callable[[Unit], None]


class Gather:
    """Independent calls feeding one result, each run as a unit of its own.

    `parts` maps a key to (operation, call); `then(answers, submit)` runs once, in the
    thread of the last part to answer, with every answer by key (and may submit more
    units). A part that fails records its own error, naming its operation, and `then`
    never runs: nothing is added half-read.
    """

    def __init__(
        self,
        parts: dict[str, tuple[str, Callable[[], Any]]],
        then: Callable[[dict[str, Any], Submit], None],
    ):
        if not parts:
            raise ValueError("a Gather needs at least one part")
        self._parts = parts
        self._then = then
        self._answers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def units(self, account: str, region: str, service: str) -> list[Unit]:
        return [
            Unit(account, region, service, operation, self._runner(key))
            for key, (operation, _) in self._parts.items()
        ]

    def _runner(self, key: str) -> Callable[[Submit], None]:
        def run(submit: Submit) -> None:
            answer = self._parts[key][1]()
            with self._lock:
                self._answers[key] = answer
                last = len(self._answers) == len(self._parts)
            if last:
                self._then(dict(self._answers), submit)

        return run


class Pool:
    """Runs units on `workers` threads until none is left or the deadline passes."""

    def __init__(self, workers: int = DEFAULT_WORKERS, deadline_s: float = DEFAULT_DEADLINE_S):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.deadline_s = deadline_s
        self.errors: list[AuditError] = []
        self._lock = threading.Lock()
        self._pending: dict[Future[Any], Unit] = {}

    def _error(self, unit: Unit, kind: str, message: str) -> None:
        error = AuditError(unit.account, unit.region, unit.service, unit.operation, kind, message)
        with self._lock:
            self.errors.append(error)

    def run(self, units: list[Unit]) -> None:
        deadline = time.monotonic() + self.deadline_s
        with ThreadPoolExecutor(self.workers, thread_name_prefix="audit") as executor:

            def submit(unit: Unit) -> None:
                future = executor.submit(self._run_one, unit, submit)
                with self._lock:
                    self._pending[future] = unit

            for unit in units:
                submit(unit)
            while True:
                with self._lock:
                    pending = list(self._pending)
                if not pending:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    for future in pending:
                        future.cancel()
                        unit = self._pending.pop(future)
                        self._error(unit, "error", f"not finished within {self.deadline_s:.0f} s")
                    break
                done, _ = wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)
                with self._lock:
                    for future in done:
                        self._pending.pop(future, None)
            executor.shutdown(wait=False, cancel_futures=True)

    def _run_one(self, unit: Unit, submit: Callable[[Unit], None]) -> None:
        try:
            unit.run(submit)
        except Exception as exc:
            kind, message = classify(exc)
            self._error(unit, kind, message)
