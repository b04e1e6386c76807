"""Data and disaster recovery: the recovery objectives of each tier, the database
(`ballast:database`), AWS Backup (`ballast:backup`) and the fault-injection drills
(`ballast:faultInjection`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from components.config.base import _context, _is_zone_of, _log_retention, _Section
from components.versions import POSTGRES_ENGINE_VERSION


@dataclass(frozen=True)
class TierObjective:
    """What a tier promises: the longest outage (RTO) and the most data lost (RPO) it
    tolerates, and how long its backups are kept."""

    rto_minutes: int
    rpo_minutes: int
    backup_retention_days: int


#: Recovery objectives per tier (the blueprint's Step 1, item 5: incident and disaster
#: recovery readiness). Every service and every database names its tier, and validation rejects a design that cannot meet it. Changing an
#: objective is a platform-wide decision: a reviewed change here, keeping the promotion
#: runbook's time budget (runbooks/database-promotion.md) equal to the tier-1 RTO.
TIER_OBJECTIVES: dict[str, TierObjective] = {
    "tier-1": TierObjective(rto_minutes=15, rpo_minutes=5, backup_retention_days=35),
    "tier-2": TierObjective(rto_minutes=240, rpo_minutes=60, backup_retention_days=14),
    "tier-3": TierObjective(rto_minutes=1440, rpo_minutes=1440, backup_retention_days=7),
}
#: Automated-backup retention Ballast accepts: at least a week, at most the RDS maximum.
MIN_BACKUP_RETENTION_DAYS, MAX_BACKUP_RETENTION_DAYS = 7, 35
#: gp3 storage RDS for PostgreSQL accepts, in GiB.
MIN_STORAGE_GB, MAX_STORAGE_GB = 20, 65536
#: What a recovery in the DR region from AWS Backup's daily copies can lose.
DAILY_COPY_RPO_MINUTES = 1440
#: The database's automated backup window (UTC); AWS Backup must not start near it.
DATABASE_BACKUP_WINDOW_UTC = "03:00-03:30"
#: Performance Insights retention RDS accepts: 7 days (free), whole months of 31 days, or
#: 731 days.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = (7, *range(31, 731, 31), 731)
#: Enhanced monitoring intervals RDS accepts (0, off, is not offered: Ballast always
#: monitors).
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)

_DB_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RESERVED_DB_NAMES = ("postgres", "rdsadmin", "template0", "template1")
_DB_INSTANCE_CLASS = re.compile(r"^db\.([a-z0-9-]+)\.([a-z0-9]+)$")
_ENGINE_VERSION = re.compile(r"^[1-9]\d\.\d{1,2}$")
_ZONE_NAME = re.compile(r"^(?=.{1,200}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _duration(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} min"


def tier_objective(tier: str) -> TierObjective:
    """The objectives of `tier` (one of TIERS)."""
    return TIER_OBJECTIVES[tier]


class DatabaseConfig(_Section):
    """`ballast:database`: the environment's PostgreSQL database and its recovery shape.

    The tier decides what the design must include: tier-1 needs Multi-AZ and a
    cross-region replica; in a stack with a DR region, tier-2 needs a replica too (the
    daily backup copies lose up to 24 h); backups are kept at least as long as the tier
    says.
    """

    name: str = Field(
        description="Name of the application database RDS creates (lowercase letters, "
        "digits and '_', starting with a letter); also names its DNS record."
    )
    tier: Literal["tier-1", "tier-2", "tier-3"] = Field(
        description="Recovery tier: tier-1 RTO 15 min / RPO 5 min, tier-2 4 h / 1 h, "
        "tier-3 24 h / 24 h. Validation rejects a design that cannot meet it."
    )
    instance_class: str = Field(
        default="db.r6g.large",
        description="Instance class of the primary; the default is memory-optimised "
        "Graviton, the prod floor. Burstable db.t* classes are refused in prod (their CPU "
        "credits run out under sustained load); micro and small ones everywhere, as "
        "Performance Insights does not run on them.",
    )
    allocated_storage_gb: int = Field(
        default=50,
        ge=MIN_STORAGE_GB,
        le=MAX_STORAGE_GB,
        description="Initial gp3 storage in GiB.",
    )
    max_allocated_storage_gb: int = Field(
        default=200,
        ge=MIN_STORAGE_GB,
        le=MAX_STORAGE_GB,
        description="Storage autoscaling ceiling in GiB, at least allocatedStorageGb; RDS "
        "grows the volume up to it instead of running out of space.",
    )
    engine_version: str = Field(
        default=POSTGRES_ENGINE_VERSION,
        description="PostgreSQL version as major.minor, e.g. 16.6; the default is the pin "
        "in components/versions.py. Set it only to hold a stack back or try the next "
        "version; minor upgrades are not automatic.",
    )
    multi_az: bool = Field(
        default=True,
        description="A synchronous standby in a second zone (about doubles the instance "
        "cost). Required for tier-1 and in prod; dev turns it off.",
    )
    backup_retention_days: int | None = Field(
        default=None,
        ge=MIN_BACKUP_RETENTION_DAYS,
        le=MAX_BACKUP_RETENTION_DAYS,
        description="Days of automated backups and point-in-time recovery; unset: the "
        "tier's, "
        + ", ".join(f"{o.backup_retention_days} for {t}" for t, o in TIER_OBJECTIVES.items())
        + ". Never less than the tier's.",
    )
    replica: bool = Field(
        default=False,
        validate_default=True,
        description="A cross-region read replica in ballast:drRegion, promoted in a region "
        "failure; off, dev stays cheap. Required for tier-1, and for tier-2 in a "
        "stack with a DR region; needs ballast:drRegion and ballast:drNetwork.",
    )
    replica_instance_class: str | None = Field(
        default=None,
        description="Instance class of the replica (unset: instanceClass). A smaller "
        "replica is cheaper but, once promoted, serves the whole load.",
    )
    replica_multi_az: bool = Field(
        default=False,
        description="Multi-AZ replica. Off halves the DR cost; after a promotion, convert "
        "it to Multi-AZ, which the runbook lists as a follow-up.",
    )
    performance_insights_retention_days: int = Field(
        default=7,
        description="Performance Insights retention: 7 (free), a multiple of 31 up to "
        "713, or 731 days.",
    )
    monitoring_interval_seconds: int = Field(
        default=60,
        description="Enhanced monitoring interval in seconds, one of "
        + ", ".join(str(i) for i in MONITORING_INTERVALS)
        + "; shorter costs more CloudWatch Logs ingestion.",
    )
    log_retention_days: int = Field(
        default=365,
        description="Retention of the engine logs RDS exports to CloudWatch (postgresql: "
        "connections, disconnections and errors; upgrade), in days, in each region the "
        "database runs: one of the periods CloudWatch accepts. They are what a database "
        "access incident is investigated from; a year covers a late discovery.",
    )
    dns_zone_name: str | None = Field(
        default=None,
        description="Private hosted zone of the database's failover record (unset: "
        "<stack>.<namePrefix>.internal, e.g. dev.ballast.internal); the record is "
        "<name>.db.<zone>.",
    )
    dns_zone_id: str | None = Field(
        default=None,
        description="ID of an existing private hosted zone for the record (unset: "
        "Ballast creates the zone and associates both VPCs). The zone must already be "
        "associated with the platform's VPCs.",
    )
    dns_ttl_seconds: int = Field(
        default=30,
        ge=1,
        le=60,
        description="TTL of the failover record in seconds: clients keep resolving to a "
        "failed primary for up to one TTL.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _DB_NAME.fullmatch(value):
            raise ValueError(
                "must be a PostgreSQL database name of 1-63 lowercase letters, digits or "
                f"'_', starting with a letter (got {value!r})"
            )
        if value in _RESERVED_DB_NAMES:
            raise ValueError(
                f"must not be a name RDS reserves ({', '.join(_RESERVED_DB_NAMES)}) (got {value!r})"
            )
        return value

    @field_validator("instance_class", "replica_instance_class")
    @classmethod
    def _instance_class(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        match = _DB_INSTANCE_CLASS.fullmatch(value)
        if match is None:
            raise ValueError(f"must be an RDS instance class such as db.r6g.large (got {value!r})")
        family, size = match.groups()
        if family.startswith("t") and size in ("micro", "small"):
            raise ValueError(
                "must be db.t3.medium, db.t4g.medium or larger: Performance Insights, which "
                f"every Ballast database runs, is not offered on {size} classes (got {value})"
            )
        if family.startswith("t") and _context(info, "environment") == "prod":
            raise ValueError(
                "must not be a burstable class in prod: its CPU credits run out under "
                f"sustained load (got {value})"
            )
        return value

    @field_validator("max_allocated_storage_gb")
    @classmethod
    def _max_storage(cls, value: int, info: ValidationInfo) -> int:
        allocated = info.data.get("allocated_storage_gb")
        if allocated is not None and value < allocated:
            raise ValueError(f"must be at least allocatedStorageGb={allocated} (got {value})")
        return value

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        if not _ENGINE_VERSION.fullmatch(value):
            raise ValueError(
                f"must be a PostgreSQL major.minor version such as 16.6 (got {value!r})"
            )
        return value

    @field_validator("multi_az")
    @classmethod
    def _multi_az(cls, value: bool, info: ValidationInfo) -> bool:
        if value:
            return value
        if info.data.get("tier") == "tier-1":
            raise ValueError(
                "must be true for a tier-1 database: a single-AZ instance recovers from a "
                "zone failure only by a point-in-time restore, which takes far longer than "
                "the 15 min RTO (got false)"
            )
        if _context(info, "environment") == "prod":
            raise ValueError(
                "must be true in prod: a zone failure would take the database down (got false)"
            )
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        tier = info.data.get("tier")
        if tier and value < TIER_OBJECTIVES[tier].backup_retention_days:
            floor = TIER_OBJECTIVES[tier].backup_retention_days
            raise ValueError(f"must be at least {floor} days for a {tier} database (got {value})")
        return value

    @field_validator("replica")
    @classmethod
    def _replica(cls, value: bool, info: ValidationInfo) -> bool:
        tier = info.data.get("tier")
        dr_region = _context(info, "dr_region")
        if value:
            if not dr_region:
                raise ValueError(
                    "needs ballast:drRegion: the replica runs in the disaster-recovery "
                    "region (got true without one)"
                )
            if not _context(info, "has_dr_network"):
                raise ValueError(
                    "needs ballast:drNetwork: the replica's subnets live in a VPC of the DR "
                    "region (got true without one)"
                )
            return value
        if tier == "tier-1":
            objective = TIER_OBJECTIVES[tier]
            raise ValueError(
                "must be true for a tier-1 database: only promoting a cross-region replica "
                f"recovers a region failure within its RTO of {_duration(objective.rto_minutes)} "
                f"and RPO of {_duration(objective.rpo_minutes)}; restoring a backup copy takes "
                "hours and loses up to a day (got false)"
            )
        if tier and dr_region:
            rpo = TIER_OBJECTIVES[tier].rpo_minutes
            if rpo < DAILY_COPY_RPO_MINUTES:
                raise ValueError(
                    f"must be true for a {tier} database in a stack with a DR region: "
                    f"without a replica, the DR region holds only the daily backup copies, "
                    f"which lose up to {_duration(DAILY_COPY_RPO_MINUTES)}, more than the "
                    f"{tier} RPO of {_duration(rpo)} (got false)"
                )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention_days(cls, value: int) -> int:
        return _log_retention(value)

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, value: int) -> int:
        if value not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
            raise ValueError(f"must be 7, a multiple of 31 up to 713, or 731 days (got {value})")
        return value

    @field_validator("monitoring_interval_seconds")
    @classmethod
    def _monitoring(cls, value: int) -> int:
        if value not in MONITORING_INTERVALS:
            accepted = ", ".join(str(i) for i in MONITORING_INTERVALS)
            raise ValueError(f"must be one of {accepted} seconds (got {value})")
        return value

    @field_validator("dns_zone_name")
    @classmethod
    def _zone_name(cls, value: str | None) -> str | None:
        if value is not None and not _ZONE_NAME.fullmatch(value):
            raise ValueError(
                "must be a DNS domain such as prod.example.internal, lowercase, without a "
                f"trailing dot (got {value!r})"
            )
        return value

    @field_validator("dns_zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not _HOSTED_ZONE_ID.fullmatch(value):
            raise ValueError(
                f"must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ (got {value!r})"
            )
        return value

    @property
    def objective(self) -> TierObjective:
        return TIER_OBJECTIVES[self.tier]

    @property
    def retention_days(self) -> int:
        """Automated-backup retention: the configured value or the tier's."""
        return self.backup_retention_days or self.objective.backup_retention_days

    @property
    def dns_label(self) -> str:
        return self.name.replace("_", "-")


class BackupConfig(_Section):
    """`ballast:backup`: AWS Backup for every RDS instance and EBS volume tagged for it."""

    daily_at_utc: str = Field(
        default="05:00",
        description="Time of the daily backup, HH:MM UTC. Not between 02:00 "
        "and 04:29: AWS Backup skips RDS jobs that start within an hour of the database's "
        f"automated backup window ({DATABASE_BACKUP_WINDOW_UTC}).",
    )
    copy_to_dr_region: bool = Field(
        default=True,
        description="Copy every recovery point to a vault in ballast:drRegion; required in "
        "prod: a region failure must not take the backups with it.",
    )
    vault_lock_mode: Literal["governance", "compliance"] = Field(
        default="governance",
        description="prod only: vault lock of the backup vaults. 'governance': "
        "retention is enforced, but a principal allowed backup:DeleteBackupVaultLockConfiguration "
        "can lift the lock. 'compliance': after complianceGraceDays nobody, root included, "
        "can delete a recovery point early or remove the lock, ever.",
    )
    compliance_grace_days: int = Field(
        default=3,
        ge=3,
        le=365,
        description="Days a compliance-mode lock can still be removed after it is applied "
        "(AWS accepts 3 to 365).",
    )

    @field_validator("daily_at_utc")
    @classmethod
    def _time(cls, value: str) -> str:
        match = _TIME_OF_DAY.fullmatch(value)
        if match is None:
            raise ValueError(f"must be a time of day as HH:MM, e.g. 05:00 (got {value!r})")
        minutes = int(match.group(1)) * 60 + int(match.group(2))
        if 2 * 60 <= minutes < 4 * 60 + 30:
            raise ValueError(
                "must not be between 02:00 and 04:29 UTC: AWS Backup skips RDS jobs that "
                "start within an hour of the database's automated backup window "
                f"({DATABASE_BACKUP_WINDOW_UTC}) (got {value})"
            )
        return value

    @field_validator("copy_to_dr_region")
    @classmethod
    def _copy(cls, value: bool, info: ValidationInfo) -> bool:
        if not value and _context(info, "environment") == "prod":
            raise ValueError(
                "must be true in prod: a region failure must not take the backups with it "
                "(got false)"
            )
        return value

    @property
    def schedule(self) -> str:
        """The plan's schedule as an AWS cron expression."""
        hours, minutes = self.daily_at_utc.split(":")
        return f"cron({int(minutes)} {int(hours)} * * ? *)"


class FaultInjectionConfig(_Section):
    """`ballast:faultInjection`: the AWS FIS experiments that prove the recovery design."""

    node_termination_percent: int = Field(
        default=33,
        ge=1,
        le=100,
        description="Percentage of the tagged nodes in the target zone the node experiment "
        "terminates; 100 simulates losing the zone's capacity.",
    )
    target_zone: str | None = Field(
        default=None,
        description="Zone whose nodes the node experiment terminates (unset: the "
        "network's first zone).",
    )

    @field_validator("target_zone")
    @classmethod
    def _zone(cls, value: str | None, info: ValidationInfo) -> str | None:
        region = _context(info, "primary_region")
        if value is not None and region and not _is_zone_of(value, region):
            raise ValueError(f"must name a zone of {region} such as {region}a (got {value!r})")
        return value
