"""Pass/fail cases for the policies, built as real Pulumi programs.

The cases live in `cases/<concern>.py`. Every case builds its resources with the real
SDK classes (so property names are what pulumi-aws and pulumi-kubernetes send) inside one
offline program per concern and policy config; the whole program then goes through the
pack once (`Analyze` per resource, `AnalyzeStack` once) with that config. A case owns the resources whose name is its name or starts
with `<name>-`:

* a failing case must trip exactly `fails` plus the policies listed in `also`;
* a compliant case must trip nothing at all, and names in `passes` the policies whose
  passing path it demonstrates.

The environment (`env-*`: providers, a VPC with flow logs and three subnets, the access
log bucket, a KMS key per region) is itself compliant and checked the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ballast.offline import ProgramRun, run_component
from ballast.policy.config import ConfigEntry, load_policy_config, parse_policy_config
from ballast.policy.harness import Diagnostic, PolicyPackProcess
from ballast.policy.inputs import analyzer_inputs
from tests.policy.conftest import stack_config_file

ACCOUNT = "123456789012"
PRIMARY, DR = "us-east-1", "us-west-2"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/ballast-test-permission-boundary"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
DEFAULT_TAGS = {"environment": "prod", "owner": "platform-team", "project": "ballast"}


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Env, str], Any]
    fails: str | None = None
    passes: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    config: str = "prod"
    """Which policy config evaluates the case: a stack name, or a key of `EXTRA_CONFIGS`."""

    @property
    def id(self) -> str:
        return self.name


class Env:
    """What every case can use: explicit providers and a compliant network."""

    def __init__(self) -> None:
        self.aws = aws.Provider(
            "env-aws",
            region=PRIMARY,
            default_tags=aws.ProviderDefaultTagsArgs(tags=DEFAULT_TAGS),
            allowed_account_ids=[ACCOUNT],
        )
        self.aws_dr = aws.Provider(
            "env-aws-dr",
            region=DR,
            default_tags=aws.ProviderDefaultTagsArgs(tags=DEFAULT_TAGS),
            allowed_account_ids=[ACCOUNT],
        )
        self._k8s = None
        self._vault = None
        self.key = self.kms_key("env-key")
        self.key_dr = self.kms_key("env-key-dr", provider=self.aws_dr)
        self.vpc = aws.ec2.Vpc("env-vpc", cidr_block="10.0.0.0/16", tags=tags(), opts=self.opts())
        aws.ec2.FlowLog(
            "env-vpc-flow",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination="arn:aws:s3:::flow-logs",
            log_destination_type="s3",
            tags=tags(),
            opts=self.opts(),
        )
        self.subnets = [
            aws.ec2.Subnet(
                f"env-subnet-{zone[-1]}",
                vpc_id=self.vpc.id,
                cidr_block=f"10.0.{i}.0/24",
                availability_zone=zone,
                tags=tags(),
                opts=self.opts(),
            )
            for i, zone in enumerate(ZONES)
        ]
        self.log_bucket = self.bucket("env-logs", logging=False)
        # What makes env-logs the access-log bucket: something logs into it.
        self.data_bucket = self.bucket("env-data")

    # --- options and shared builders ------------------------------------------------

    def opts(self, provider=None, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=provider or self.aws, **kwargs)

    @property
    def k8s(self):
        if self._k8s is None:
            import pulumi_kubernetes as k8s

            self._k8s = k8s.Provider("env-k8s", kubeconfig="{}", namespace="apps")
        return self._k8s

    @property
    def vault(self):
        """An explicit Vault provider (its address only: no token is ever recorded)."""
        if self._vault is None:
            import pulumi_vault as vault

            self._vault = vault.Provider(
                "env-vault", address="https://vault.example.internal:8200", skip_child_token=True
            )
        return self._vault

    def kms_key(self, name: str, provider=None, **overrides) -> aws.kms.Key:
        args = {
            "description": name,
            "enable_key_rotation": True,
            "policy": json.dumps(document(root_kms_statement())),
            "tags": tags(),
            **overrides,
        }
        return aws.kms.Key(name, **args, opts=self.opts(provider, protect=True))

    def bucket(
        self,
        name: str,
        *,
        logging: bool = True,
        public_access_block: bool = True,
        block_flags: dict | None = None,
        versioning: bool = True,
        sse: str | None = "aws:kms",
        bucket_tags: dict | None = None,
        protect: bool = True,
        policy: str | None = None,
    ) -> aws.s3.Bucket:
        """A bucket with its separate settings resources; every setting compliant
        unless overridden (None/False drops that resource)."""
        bucket = aws.s3.Bucket(
            name, tags=bucket_tags or tags(), policy=policy, opts=self.opts(protect=protect)
        )
        if public_access_block:
            flags = {
                "block_public_acls": True,
                "block_public_policy": True,
                "ignore_public_acls": True,
                "restrict_public_buckets": True,
                **(block_flags or {}),
            }
            aws.s3.BucketPublicAccessBlock(
                f"{name}-pab", bucket=bucket.id, **flags, opts=self.opts()
            )
        if versioning:
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=bucket.id,
                versioning_configuration={"status": "Enabled"},
                opts=self.opts(),
            )
        if sse:
            aws.s3.BucketServerSideEncryptionConfiguration(
                f"{name}-sse",
                bucket=bucket.id,
                rules=[
                    {
                        "apply_server_side_encryption_by_default": {
                            "sse_algorithm": sse,
                            **({"kms_master_key_id": self.key.arn} if "kms" in sse else {}),
                        }
                    }
                ],
                opts=self.opts(),
            )
        if logging:
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=bucket.id,
                target_bucket=self.log_bucket.id,
                target_prefix=f"{name}/",
                opts=self.opts(),
            )
        return bucket


def tags(**extra: str) -> dict[str, str]:
    """The tags providers do not set: service and tier."""
    return {"service": "test", "tier": "tier-2", **extra}


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def root_kms_statement(account: str = ACCOUNT) -> dict:
    return {
        "Sid": "AccountAdministersThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def service_trust(service: str = "ec2.amazonaws.com") -> str:
    return json.dumps(
        document(
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        )
    )


# --- running cases ----------------------------------------------------------------------

#: Configs that are not a shipped stack's file: name -> (base stack, overrides).
EXTRA_CONFIGS: dict[str, tuple[str, dict]] = {}


def config_entries(name: str) -> dict[str, ConfigEntry]:
    if name in EXTRA_CONFIGS:
        base, overrides = EXTRA_CONFIGS[name]
        entries = load_policy_config(stack_config_file(base))
        for key, entry in parse_policy_config(overrides, name).items():
            current = entries.get(key)
            entries[key] = ConfigEntry(
                entry.level or (current.level if current else None),
                {**(current.properties if current else {}), **entry.properties},
            )
        return entries
    return load_policy_config(stack_config_file(name))


def owner(urn: str, names: Iterable[str]) -> str | None:
    """The case (or `env`) that owns the resource at `urn`."""
    resource = urn.rsplit("::", 1)[-1]
    for name in names:
        if resource == name or resource.startswith(f"{name}-"):
            return name
    return None


@dataclass
class Outcome:
    run: ProgramRun
    diagnostics: list[Diagnostic]
    by_case: dict[str | None, list[Diagnostic]] = field(default_factory=dict)


def evaluate_cases(pack: PolicyPackProcess, cases: Sequence[Case], config: str) -> Outcome:
    """Build the cases of one config group as one program and analyze it."""
    names = [c.name for c in cases]
    clashes = [a for a in names for b in names if a != b and b.startswith(f"{a}-")]
    assert not clashes, f"case names must not prefix each other: {clashes}"
    assert len(set(names)) == len(names), "duplicate case names"

    def program() -> None:
        env = Env()
        for case in cases:
            case.build(env, case.name)

    # Default providers stay allowed so a case can show what using one trips.
    run = run_component(program, stack="test", disabled_packages=frozenset())
    pack.configure(config_entries(config), source=config)
    diagnostics = pack.evaluate(analyzer_inputs(run))
    outcome = Outcome(run, diagnostics)
    for d in diagnostics:
        outcome.by_case.setdefault(owner(d.urn, [*names, "env"]), []).append(d)
    return outcome


def check_case(case: Case, outcome: Outcome) -> None:
    mine = outcome.by_case.get(case.name, [])
    tripped = {d.policy for d in mine}
    shown = "\n".join(
        f"  {d.policy} ({d.level}) {d.urn.rsplit('::', 1)[-1]}: {d.message}" for d in mine
    )
    owned = [r for r in outcome.run.resources if owner(r.urn, [case.name])]
    assert owned, f"case {case.name} created no resource named {case.name}[-*]"
    if case.fails is None:
        assert not mine, f"compliant case {case.name} tripped:\n{shown}"
        return
    expected = {case.fails, *case.also}
    assert tripped == expected, f"case {case.name}: expected {sorted(expected)}, got:\n{shown}"
    assert all(d.level == "mandatory" for d in mine if d.policy == case.fails), shown
