"""`ballast:observability`: the metrics and alerting stack the cluster layer installs
(kube-prometheus-stack; docs/observability.md), who it notifies, and where the platform's
logs and traces are kept and for how long (`LogsConfig`, `TracesConfig`).

The on-call receivers' webhooks are secrets: the whole `ballast:observability` key must
then be a Pulumi secret, which is what
`pulumi config set --secret --path 'ballast:observability.receivers.pageWebhookUrl' ...`
makes it (a plain `receivers` is refused with that command, never kept).
"""

from __future__ import annotations

import math

from pydantic import Field, ValidationInfo, field_validator

from components.config.base import WITHHELD_SECRET, _context, _Section

#: Prometheus servers when `prometheusReplicas` is unset: two in prod (each scrapes
#: everything; one survives a node or zone loss, Alertmanager deduplicates their alerts),
#: one elsewhere.
DEFAULT_PROMETHEUS_REPLICAS = {"dev": 1, "staging": 1, "prod": 2}
#: Alertmanagers when `alertmanagerReplicas` is unset: three in prod, one elsewhere.
DEFAULT_ALERTMANAGER_REPLICAS = {"dev": 1, "staging": 1, "prod": 3}
MAX_PROMETHEUS_REPLICAS = 4
MAX_ALERTMANAGER_REPLICAS = 7
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 1, 365
MIN_STORAGE_GIB, MAX_STORAGE_GIB = 1, 16384
#: Share of the Prometheus volume that `retentionSizeGib` may take when unset: the rest
#: is headroom for the write-ahead log and compaction, which the size limit does not count.
DEFAULT_RETENTION_SIZE_SHARE = 0.85


#: Longest retention accepted for logs or traces, in days (ten years): S3 lifecycle and
#: Loki's compactor take more, but beyond that an archive belongs somewhere cheaper.
MAX_STORE_RETENTION_DAYS = 3650
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
        le=MAX_STORE_RETENTION_DAYS,
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
        le=MAX_STORE_RETENTION_DAYS,
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


def _https(value: str | None) -> str | None:
    if value is not None and value != WITHHELD_SECRET and not value.startswith("https://"):
        # The value itself is never echoed: it is a secret.
        raise ValueError("must be an https:// URL")
    return value


class ReceiversConfig(_Section):
    """Where Alertmanager sends notifications (components/alertmanager.py). Every URL is
    secret: it is written only to a Kubernetes Secret that Alertmanager mounts."""

    page_webhook_url: str = Field(
        description="Webhook of the paging receiver (PagerDuty, Opsgenie, ...): alerts "
        "with severity=page, repeated every 4 hours while they fire. https:// only."
    )
    ticket_webhook_url: str = Field(
        description="Webhook of the ticket receiver: alerts with severity=ticket and any "
        "alert without a known severity, repeated every 24 hours. https:// only."
    )
    heartbeat_webhook_url: str | None = Field(
        default=None,
        description="Dead-man's switch (a heartbeat monitor such as healthchecks.io or "
        "Opsgenie heartbeats) that the always-firing Watchdog alert posts to every "
        "minute; it pages when the posts stop (unset: nothing notices a silent "
        "alerting pipeline). https:// only.",
    )
    slack_webhook_url: str | None = Field(
        default=None,
        description="Slack incoming webhook that tickets are also posted to (unset: no "
        "Slack). https:// only.",
    )

    _check_urls = field_validator(
        "page_webhook_url", "ticket_webhook_url", "heartbeat_webhook_url", "slack_webhook_url"
    )(_https)

    def configured(self) -> dict[str, str]:
        """The receivers that have a URL, by their camelCase key."""
        return {key: url for key, url in self.model_dump(by_alias=True).items() if url is not None}


class ObservabilityConfig(_Section):
    """`ballast:observability`: Prometheus, Alertmanager, node-exporter and
    kube-state-metrics (kube-prometheus-stack) on the system nodes, the SLO and platform
    alert rules, the on-call receivers, and the platform's logs (Loki) and traces
    (Tempo)."""

    retention_days: int = Field(
        default=15,
        ge=MIN_RETENTION_DAYS,
        le=MAX_RETENTION_DAYS,
        description="How long Prometheus keeps samples, in days (default 15; the slowest "
        "SLO alert reads 3 days, and an error-budget panel over the whole 30-day window "
        "needs 30). Longer retention needs a bigger prometheusStorageGib.",
    )
    prometheus_storage_gib: int = Field(
        default=50,
        ge=MIN_STORAGE_GIB + 1,
        le=MAX_STORAGE_GIB,
        description="Size of each Prometheus server's volume (encrypted gp3), in GiB "
        "(default 50). Volumes grow in place (the StorageClass allows expansion) but "
        "never shrink.",
    )
    retention_size_gib: int | None = Field(
        default=None,
        ge=1,
        description="Prometheus deletes the oldest blocks beyond this size, in GiB, even "
        "inside retentionDays, so a full volume never stops ingestion (unset: "
        f"{int(DEFAULT_RETENTION_SIZE_SHARE * 100)} % of prometheusStorageGib, rounded "
        "down). Must be below prometheusStorageGib: the write-ahead log is not counted.",
    )
    alertmanager_storage_gib: int = Field(
        default=2,
        ge=MIN_STORAGE_GIB,
        le=100,
        description="Size of each Alertmanager's volume (silences and the notification "
        "log), in GiB (default 2).",
    )
    prometheus_replicas: int | None = Field(
        default=None,
        description="Prometheus servers, each scraping everything, spread over the zones "
        "(unset: 2 in prod, 1 elsewhere). 1 to "
        f"{MAX_PROMETHEUS_REPLICAS}; prod needs at least 2, so a node or zone loss keeps "
        "alerting (Alertmanager deduplicates their alerts).",
    )
    alertmanager_replicas: int | None = Field(
        default=None,
        description="Alertmanagers, gossiping silences and notification state, spread "
        "over the zones (unset: 3 in prod, 1 elsewhere). An odd number from 1 to "
        f"{MAX_ALERTMANAGER_REPLICAS}; prod needs at least 3: the cluster keeps its "
        "silences and deduplication while one member is lost, and an odd count never "
        "splits into two equal halves that both notify.",
    )
    runbook_base_url: str | None = Field(
        default=None,
        description="Web address of the repository revision whose runbooks/ folder the "
        "alerts' runbook_url links into, e.g. https://github.com/acme/platform/blob/main "
        "(unset: the repository and targetRevision of ballast:gitops; required without "
        "it). https:// only.",
    )
    receivers: ReceiversConfig | None = Field(
        default=None,
        description="The on-call receivers (Pulumi secrets: the whole "
        "ballast:observability key must be secret). Unset: alerts are visible in "
        "Alertmanager only and notify nobody.",
    )
    logs: LogsConfig = Field(
        default_factory=LogsConfig,
        description="Loki, its S3 bucket and the log agent (Alloy).",
    )
    traces: TracesConfig = Field(
        default_factory=TracesConfig,
        description="Tempo, its S3 bucket and the OpenTelemetry Collector in front of it.",
    )

    @field_validator("prometheus_replicas")
    @classmethod
    def _prometheus_replicas(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if not 1 <= value <= MAX_PROMETHEUS_REPLICAS:
            raise ValueError(f"must be from 1 to {MAX_PROMETHEUS_REPLICAS} (got {value})")
        if _context(info, "environment") == "prod" and value < 2:
            raise ValueError(
                "must be at least 2 in prod, so losing a node or a zone keeps a Prometheus "
                f"evaluating the alerts (got {value})"
            )
        return value

    @field_validator("alertmanager_replicas")
    @classmethod
    def _alertmanager_replicas(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if not 1 <= value <= MAX_ALERTMANAGER_REPLICAS or value % 2 == 0:
            raise ValueError(
                f"must be an odd number from 1 to {MAX_ALERTMANAGER_REPLICAS}: an even "
                "cluster can split into two equal halves that both notify (got "
                f"{value})"
            )
        if _context(info, "environment") == "prod" and value < 3:
            raise ValueError(
                "must be at least 3 in prod, so the Alertmanager cluster keeps its "
                f"silences and deduplication while one member is lost (got {value})"
            )
        return value

    @field_validator("runbook_base_url")
    @classmethod
    def _runbook_base(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"must be an https:// URL (got {value!r})")
        return value.rstrip("/") if value is not None else None

    @field_validator("retention_size_gib")
    @classmethod
    def _retention_fits(cls, value: int | None, info: ValidationInfo) -> int | None:
        storage = info.data.get("prometheus_storage_gib")
        if value is not None and storage is not None and value >= storage:
            raise ValueError(
                f"must be below prometheusStorageGib ({storage}): the write-ahead log is "
                f"not counted in it (got {value})"
            )
        return value

    def prometheus_replica_count(self, environment: str) -> int:
        """`prometheusReplicas`, or the environment's default."""
        if self.prometheus_replicas is not None:
            return self.prometheus_replicas
        return DEFAULT_PROMETHEUS_REPLICAS[environment]

    def alertmanager_replica_count(self, environment: str) -> int:
        """`alertmanagerReplicas`, or the environment's default."""
        if self.alertmanager_replicas is not None:
            return self.alertmanager_replicas
        return DEFAULT_ALERTMANAGER_REPLICAS[environment]

    def retention_size(self) -> int:
        """`retentionSizeGib`, or its default share of the volume (at least 1 GiB)."""
        if self.retention_size_gib is not None:
            return self.retention_size_gib
        return max(1, math.floor(self.prometheus_storage_gib * DEFAULT_RETENTION_SIZE_SHARE))

    def settings(self, *, environment: str, runbook_base_url: str) -> ObservabilitySettings:
        """Every default filled in for `environment`; the receivers' URLs are left out
        (the platform stack exports them as a secret output of their own)."""
        return ObservabilitySettings(
            prometheus_replicas=self.prometheus_replica_count(environment),
            alertmanager_replicas=self.alertmanager_replica_count(environment),
            retention_days=self.retention_days,
            retention_size_gib=self.retention_size(),
            prometheus_storage_gib=self.prometheus_storage_gib,
            alertmanager_storage_gib=self.alertmanager_storage_gib,
            runbook_base_url=runbook_base_url,
            receivers=tuple(sorted(self.receivers.configured())) if self.receivers else (),
        )


class ObservabilitySettings(_Section):
    """The resolved `ballast:observability` section as the platform stack exports it
    (`observability`) and the cluster stack reads it: plain data, nothing secret."""

    prometheus_replicas: int
    alertmanager_replicas: int
    retention_days: int
    retention_size_gib: int
    prometheus_storage_gib: int
    alertmanager_storage_gib: int
    runbook_base_url: str
    receivers: tuple[str, ...] = ()
    """Which receivers have a URL (camelCase keys of `ReceiversConfig`); the URLs are in
    the secret output `observabilityReceivers`."""
