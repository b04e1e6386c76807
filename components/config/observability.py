"""`ballast:observability`: where the platform's logs and traces are kept and for how long
(docs/observability.md). Logs and traces each have their own nested model (`LogsConfig`,
`TracesConfig`), so other observability settings sit beside them as siblings."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from components.config.base import _context, _Section

#: Longest retention accepted for logs or traces, in days (ten years): S3 lifecycle and
#: Loki's compactor take more, but beyond that an archive belongs somewhere cheaper.
MAX_RETENTION_DAYS = 3650
#: Loki servers when `logs.replicas` is unset: one in dev, three (one per zone) elsewhere.
DEFAULT_LOKI_REPLICAS = {"dev": 1, "staging": 3, "prod": 3}
#: Loki's replication factor with more than one server: every stream is written to three
#: servers and a write succeeds on two, so one server (or zone) may be lost.
LOKI_REPLICATION_FACTOR = 3
MAX_LOKI_REPLICAS = 9
MIN_WAL_GIB, MAX_WAL_GIB = 5, 500


class LogsConfig(_Section):
    """Loki: log retention, servers and their write-ahead-log volumes."""

    retention_days: int = Field(
        default=30,
        ge=1,
        le=MAX_RETENTION_DAYS,
        description="Days Loki keeps a log line (default 30): its compactor deletes older "
        "chunks, and the bucket's lifecycle expires objects after the same number of days "
        "as a backstop. Storage cost grows linearly with it (S3 Standard, about $0.023 per "
        "GB-month); shorter loses the logs an incident review needs a month later.",
    )
    replicas: int | None = Field(
        default=None,
        description="Loki servers (single-binary mode; see components/cluster/addons/"
        "loki.py). Unset: 1 in dev, 3 in staging and prod. 1, or 3 to "
        f"{MAX_LOKI_REPLICAS}: with more than one every stream is replicated to "
        f"{LOKI_REPLICATION_FACTOR} servers, which needs at least 3 (2 would stop "
        "ingesting when either is down). One server costs least, but its restart stops "
        "ingestion for that minute (the agents retry) and queries fail meanwhile; prod "
        "needs at least 3, one per zone.",
    )
    wal_storage_gib: int = Field(
        default=10,
        ge=MIN_WAL_GIB,
        le=MAX_WAL_GIB,
        description="Size of each Loki server's volume (encrypted gp3) in GiB, which holds "
        "the write-ahead log and the chunks not yet flushed to S3 (default 10). Too small "
        "and a server stops accepting writes when an S3 outage keeps it from flushing."
        " Set it before the first `up`: a StatefulSet's claim size cannot change, so growing "
        "it later means expanding each claim (`kubectl patch pvc`; the StorageClass allows "
        "it) and deleting the StatefulSet with `--cascade=orphan` before the next `up` "
        "(runbooks/loki-request-errors.md). Volumes never shrink.",
    )

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if value < 1 or value == 2 or value > MAX_LOKI_REPLICAS:
            raise ValueError(
                f"must be 1, or 3 to {MAX_LOKI_REPLICAS}: replicated Loki writes every "
                f"stream to {LOKI_REPLICATION_FACTOR} servers (got {value})"
            )
        if _context(info, "environment") == "prod" and value < 3:
            raise ValueError(
                f"must be at least 3 in prod, so that losing one zone keeps logs flowing "
                f"(got {value})"
            )
        return value

    def replica_count(self, environment: str) -> int:
        """`replicas`, or the environment's default (`DEFAULT_LOKI_REPLICAS`)."""
        return self.replicas if self.replicas is not None else DEFAULT_LOKI_REPLICAS[environment]


class TracesConfig(_Section):
    """Tempo: trace retention and its write-ahead-log volume."""

    retention_days: int = Field(
        default=14,
        ge=1,
        le=MAX_RETENTION_DAYS,
        description="Days Tempo keeps a trace (default 14, Tempo's own default): its "
        "compactor deletes older blocks, and the bucket's lifecycle expires objects after "
        "the same number of days as a backstop. Traces are large and mostly read within "
        "days of a request; longer retention costs S3 storage linearly.",
    )
    wal_storage_gib: int = Field(
        default=10,
        ge=MIN_WAL_GIB,
        le=MAX_WAL_GIB,
        description="Size of Tempo's volume (encrypted gp3) in GiB, which holds its "
        "write-ahead log and the blocks not yet flushed to S3 (default 10). Without the "
        "volume a restart would lose the traces of the last minutes. Grows like "
        "logs.walStorageGib (expand the claim, orphan-delete the StatefulSet, then `up`).",
    )


class ObservabilityConfig(_Section):
    """`ballast:observability`: the platform's logs (Loki) and traces (Tempo)."""

    logs: LogsConfig = Field(
        default_factory=LogsConfig,
        description="Loki, its S3 bucket and the log agent (Alloy).",
    )
    traces: TracesConfig = Field(
        default_factory=TracesConfig,
        description="Tempo, its S3 bucket and the OpenTelemetry Collector in front of it.",
    )
