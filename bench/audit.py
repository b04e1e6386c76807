"""Benchmark: `ballast audit` against Cloud Custodian and Prowler on the same emulated
estate, in one run on one machine; records every figure and ratio in
bench/results/audit.json. Never asserted by tests.

One moto server on 127.0.0.1 holds the seeded example estate (`ballast.audit.seed`)
plus bulk resources over three regions (about 2,000 in all: volumes, security groups,
Elastic IPs, snapshots). Each tool audits it twice: directly, and through a local proxy
that adds `LATENCY_S` before forwarding every request. Each peer is installed into its
own virtual environment under `BALLAST_BENCH_VENVS` (default
~/.cache/ballast/bench-venvs) with pip, and runs with `AWS_ENDPOINT_URL` pointing at the
server and checks equivalent to the audit's where it has them; a tool that cannot be
installed or cannot run against the emulator is recorded as such, with its error, not
as a number.

Fairness: one server, one estate, the same three regions and the caller's account for
every tool, each run a fresh process (no tool's cache carries over; Custodian's is off).
The peers run those of their checks that match the audit's (19 Custodian policies, 32
Prowler checks); `ballast audit` runs all of its checks over all its services, so it does
at least each peer's work and the ratios do not flatter it. Each run records its wall
time, its own CPU time and the emulator's CPU time spent answering it.

Targets: at least 4x faster than Cloud Custodian and 8x faster than Prowler on the same
checks, and with the latency at most 1.3x the audit's own no-latency time.

    .venv/bin/python bench/audit.py [--bulk N] [--skip-peers] [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import http.server
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ballast.audit.seed import CREDENTIALS, seed  # noqa: E402
from ballast.emulator import MotoServer  # noqa: E402
from ballast.files import write_text_atomically  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "audit.json"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
LATENCY_S = 0.020
PEERS = {"c7n": "c7n==0.9.53", "prowler": "prowler==5.46.0"}
#: Per tool run, seconds: a peer that takes longer is recorded as timed out.
RUN_TIMEOUT_S = 1800
INSTALL_TIMEOUT_S = 1800
TARGETS = {"vs_custodian": 4.0, "vs_prowler": 8.0, "latency_ratio": 1.3}

#: Cloud Custodian policies equivalent to the audit's checks it can express.
CUSTODIAN_POLICIES = [
    {"name": "ebs-unattached", "resource": "aws.ebs", "filters": [{"Attachments": []}]},
    {"name": "ebs-unencrypted", "resource": "aws.ebs", "filters": [{"Encrypted": False}]},
    {"name": "eip-unassociated", "resource": "aws.network-addr", "filters": [{"AssociationId": "absent"}]},
    {"name": "sg-ssh-open", "resource": "aws.security-group",
     "filters": [{"type": "ingress", "Ports": [22, 3389], "Cidr": {"value": "0.0.0.0/0"}}]},
    {"name": "snapshot-old", "resource": "aws.ebs-snapshot", "filters": [{"type": "age", "days": 90, "op": "ge"}]},
    {"name": "ami-unused", "resource": "aws.ami", "filters": ["unused"]},
    {"name": "ec2-imdsv1", "resource": "aws.ec2", "filters": [{"MetadataOptions.HttpTokens": "optional"}]},
    {"name": "rds-public", "resource": "aws.rds", "filters": [{"PubliclyAccessible": True}]},
    {"name": "rds-unencrypted", "resource": "aws.rds", "filters": [{"StorageEncrypted": False}]},
    {"name": "rds-single-az", "resource": "aws.rds", "filters": [{"MultiAZ": False}]},
    {"name": "s3-unencrypted", "resource": "aws.s3", "filters": [{"type": "bucket-encryption", "state": False}]},
    {"name": "s3-global-grants", "resource": "aws.s3", "filters": ["global-grants"]},
    {"name": "iam-admin-roles", "resource": "aws.iam-role",
     "filters": [{"type": "has-specific-managed-policy", "value": "AdministratorAccess"}]},
    {"name": "iam-user-no-mfa", "resource": "aws.iam-user", "filters": [{"type": "mfa-device", "value": "empty"}]},
    {"name": "eks-public", "resource": "aws.eks", "filters": [{"resourcesVpcConfig.endpointPublicAccess": True}]},
    {"name": "secrets-no-rotation", "resource": "aws.secrets-manager", "filters": [{"RotationEnabled": "absent"}]},
    {"name": "guardduty-off", "resource": "aws.account", "filters": [{"type": "guard-duty", "Detectors": {}}]},
    {"name": "cloudtrail-off", "resource": "aws.account", "filters": [{"type": "check-cloudtrail", "multi-region": True}]},
    {"name": "elb-single-az", "resource": "aws.app-elb", "filters": [{"type": "value", "key": "length(AvailabilityZones)", "value": 2, "op": "lt"}]},
]  # fmt: skip

#: Prowler checks equivalent to the audit's.
PROWLER_CHECKS = [
    "ec2_ebs_volume_encryption", "ec2_ebs_default_encryption", "ec2_elastic_ip_unassigned",
    "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22",
    "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389",
    "ec2_instance_imdsv2_enabled", "ec2_ebs_snapshots_encrypted",
    "rds_instance_storage_encrypted", "rds_instance_no_public_access", "rds_instance_multi_az",
    "rds_instance_backup_enabled", "rds_instance_deletion_protection",
    "s3_bucket_default_encryption", "s3_bucket_public_access", "s3_bucket_object_versioning",
    "s3_account_level_public_access_blocks",
    "iam_policy_allows_privilege_escalation", "iam_user_mfa_enabled_console_access",
    "iam_rotate_access_key_90_days", "iam_aws_attached_policy_no_administrative_privileges",
    "cloudtrail_multi_region_enabled", "cloudtrail_log_file_validation_enabled",
    "guardduty_is_enabled", "eks_cluster_not_publicly_accessible",
    "eks_cluster_kms_cmk_encryption_in_secrets_enabled", "eks_control_plane_logging_all_types_enabled",
    "elbv2_is_in_multiple_az", "elbv2_logging_enabled", "elbv2_waf_acl_attached",
    "secretsmanager_automatic_rotation_enabled", "backup_plans_exist",
    "organizations_scp_check_deny_regions",
]  # fmt: skip


class LatencyProxy:
    """127.0.0.1 HTTP proxy to `target` that sleeps `delay` before forwarding each request."""

    def __init__(self, target_port: int, delay: float):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                time.sleep(delay)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()
                proxy.requests += 1

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

            def log_message(self, format: str, *args: object) -> None:
                return

        self.requests = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LatencyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def bulk(url: str, per_region: int) -> int:
    """`per_region` resources in each of REGIONS in the caller's account: a quarter each
    volumes (every third unattached-and-unencrypted), security groups (every tenth open
    on SSH), Elastic IPs and snapshots. Returns how many were made."""
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    made = 0
    session = boto3.Session(**CREDENTIALS)
    for region in REGIONS:
        ec2 = session.client("ec2", region_name=region, endpoint_url=url,
                             config=Config(max_pool_connections=16))  # fmt: skip
        vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
        quarter = per_region // 4
        volumes = []
        for i in range(quarter):
            encrypted = i % 3 != 0
            volumes.append(ec2.create_volume(Size=1 + i % 50, AvailabilityZone=f"{region}a",
                                             Encrypted=encrypted)["VolumeId"])  # fmt: skip
        for i in range(quarter):
            gid = ec2.create_security_group(GroupName=f"bulk-{i}", Description="bulk", VpcId=vpc)[
                "GroupId"
            ]
            if i % 10 == 0:
                ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])  # fmt: skip
        for _ in range(quarter):
            ec2.allocate_address(Domain="vpc")
        for i in range(quarter):
            ec2.create_snapshot(VolumeId=volumes[i % len(volumes)])
        made += 4 * quarter
    return made


#: The emulator's process id, for `emulator_cpu_seconds` (set once the server runs).
EMULATOR_PID: list[int] = []


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) process `pid` has used so far, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Run `command`; its wall time, and where the time went: the CPU the tool used
    (`cpu_seconds`, its process and the children it waited for) and the CPU the emulator
    spent answering it (`emulator_cpu_seconds`). On 2 shared cores the wall time moves
    with the load; the CPU figures much less."""
    load_before = load()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    emulator = process_cpu(EMULATOR_PID[0]) if EMULATOR_PID else None
    started = time.monotonic()
    try:
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"ok": False, "seconds": None, "error": f"timed out after {RUN_TIMEOUT_S} s"}
    seconds = round(time.monotonic() - started, 2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    emulator_after = process_cpu(EMULATOR_PID[0]) if EMULATOR_PID else None
    return {"ok": True, "seconds": seconds, "exit_code": done.returncode, "load_before": load_before,
            "cpu_seconds": round(cpu, 2),
            "emulator_cpu_seconds": round(emulator_after - emulator, 2)
            if emulator is not None and emulator_after is not None else None,
            "stderr_tail": done.stderr[-1500:], "stdout_tail": done.stdout[-800:]}  # fmt: skip


def emulator_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update({k.upper(): v for k, v in CREDENTIALS.items()})
    env.update(AWS_ENDPOINT_URL=url, AWS_DEFAULT_REGION=REGIONS[0], AWS_REGION=REGIONS[0])
    return env


def run_ballast(url: str, out: Path) -> dict[str, Any]:
    """The caller's account only, as the peers audit it (they read one account a run)."""
    command = [sys.executable, "-m", "ballast.cli", "audit", "--endpoint-url", url,
               "--regions", ",".join(REGIONS), "--json", str(out)]  # fmt: skip
    result = timed(command, emulator_env(url), ROOT)
    if out.exists():
        doc = json.loads(out.read_text())
        result.update(findings=len(doc["findings"]), errors=len(doc["errors"]),
                      calls=doc["stats"]["calls"], resources=doc["stats"]["resources"],
                      discovery_seconds=doc["stats"]["seconds"])  # fmt: skip
    return result


def venv(name: str) -> tuple[Path | None, str | None]:
    """The peer's own virtual environment, created and installed with pip when absent."""
    base = Path(os.environ.get("BALLAST_BENCH_VENVS", Path.home() / ".cache/ballast/bench-venvs"))
    path = base / name
    python = path / "bin" / "python"
    marker = path / ".installed"
    if marker.exists():
        return path, None
    base.mkdir(parents=True, exist_ok=True)
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "-q", PEERS[name]], check=True,
                       capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)  # fmt: skip
    except subprocess.CalledProcessError as exc:
        return None, f"pip install {PEERS[name]} failed: {(exc.stderr or '')[-800:]}"
    except subprocess.TimeoutExpired:
        return None, f"pip install {PEERS[name]} took over {INSTALL_TIMEOUT_S} s"
    marker.write_text(PEERS[name] + "\n")
    return path, None


def run_custodian(path: Path, url: str, work: Path) -> dict[str, Any]:
    import yaml

    policy = work / "custodian.yml"
    policy.write_text(yaml.safe_dump({"policies": CUSTODIAN_POLICIES}))
    out = work / f"custodian-{time.monotonic_ns()}"
    # No cache: custodian otherwise answers a repeated run from its 15-minute cache.
    command = [str(path / "bin" / "custodian"), "run", "--cache-period", "0", "-s", str(out),
               str(policy)]  # fmt: skip
    for region in REGIONS:
        command += ["--region", region]
    result = timed(command, emulator_env(url), work)
    matched = 0
    for resources in out.rglob("resources.json"):
        with contextlib.suppress(OSError, json.JSONDecodeError):
            matched += len(json.loads(resources.read_text()))
    result.update(policies=len(CUSTODIAN_POLICIES), resources_matched=matched,
                  policy_errors=result.get("stderr_tail", "").count("Error"))  # fmt: skip
    return result


def run_prowler(path: Path, url: str, work: Path) -> dict[str, Any]:
    out = work / f"prowler-{time.monotonic_ns()}"
    command = [str(path / "bin" / "prowler"), "aws", "--checks", *PROWLER_CHECKS,
               "--region", *REGIONS, "--output-directory", str(out), "--output-formats", "json-ocsf",
               "--no-banner", "--ignore-exit-code-3"]  # fmt: skip
    result = timed(command, emulator_env(url), work)
    findings = 0
    for report in out.rglob("*.ocsf.json"):
        with contextlib.suppress(OSError, json.JSONDecodeError):
            findings += len(json.loads(report.read_text()))
    result.update(checks=len(PROWLER_CHECKS), findings=findings)
    return result


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def median_run(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time (the lower middle one of an even count), with
    every sample's wall time beside it."""
    timed_ok = [s for s in samples if s.get("seconds") is not None]
    if not timed_ok:
        return samples[0]
    chosen = sorted(timed_ok, key=lambda s: s["seconds"])[(len(timed_ok) - 1) // 2]
    return {**chosen, "samples_seconds": [s.get("seconds") for s in samples]}


def work_cpu(run: dict[str, Any] | None) -> float | None:
    """A run's own CPU plus the emulator's, seconds (None when either is unknown)."""
    if not run or run.get("cpu_seconds") is None or run.get("emulator_cpu_seconds") is None:
        return None
    return float(run["cpu_seconds"]) + float(run["emulator_cpu_seconds"])


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bulk", type=int, default=620, help="bulk resources per region")
    parser.add_argument("--skip-peers", action="store_true", help="time ballast audit only")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        choices=range(1, 10),
        metavar="N",
        help="runs per tool and setting, interleaved; the median counts (1-9)",
    )
    args = parser.parse_args()
    result: dict[str, Any] = {
        "benchmark": "ballast audit vs Cloud Custodian and Prowler on one moto server",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_before": load(),
        },
        "regions": list(REGIONS),
        "latency_ms": LATENCY_S * 1000,
        "targets": TARGETS,
        "repeat": args.repeat,
    }
    with tempfile.TemporaryDirectory() as tmp, MotoServer() as moto:
        work = Path(tmp)
        assert moto.process is not None
        EMULATOR_PID[:] = [moto.process.pid]
        started = time.monotonic()
        seed(moto.url)
        result["bulk_resources"] = bulk(moto.url, args.bulk)
        result["seed_seconds"] = round(time.monotonic() - started, 1)
        runs: dict[str, dict[str, Any]] = {"ballast": {}, "c7n": {}, "prowler": {}}
        peers: dict[str, Path | None] = {}
        for name in ("c7n", "prowler"):
            if args.skip_peers:
                runs[name] = {"skipped": "--skip-peers"}
                continue
            path, error = venv(name)
            peers[name] = path
            if error:
                runs[name] = {"installed": False, "error": error}
        # One untimed audit first: moto's first answer to some calls is slow (lazy
        # model setup), and no tool should pay for that in its timed run.
        result["warm_up"] = run_ballast(moto.url, work / "warm-up.json")
        with LatencyProxy(moto.port, LATENCY_S) as proxy:
            for label, url in (("direct", moto.url), ("latency", proxy.url)):
                samples: dict[str, list[dict[str, Any]]] = {"ballast": [], "c7n": [], "prowler": []}
                for _ in range(args.repeat):
                    samples["ballast"].append(run_ballast(url, work / f"ballast-{label}.json"))
                    print(f"ballast {label}: {samples['ballast'][-1].get('seconds')} s", flush=True)
                    for name, runner in (("c7n", run_custodian), ("prowler", run_prowler)):
                        path = peers.get(name)
                        if path is not None:
                            samples[name].append(runner(path, url, work))
                            print(
                                f"{name} {label}: {samples[name][-1].get('seconds')} s", flush=True
                            )
                for name, taken in samples.items():
                    if taken:
                        runs[name][label] = median_run(taken)
            result["proxy_requests"] = proxy.requests
    result["runs"] = runs
    b = runs["ballast"]
    result["ratios"] = {
        "latency_ratio": ratio(b["latency"].get("seconds"), b["direct"].get("seconds")),
        "vs_custodian": ratio(runs["c7n"].get("direct", {}).get("seconds"), b["direct"].get("seconds")),
        "vs_custodian_latency": ratio(runs["c7n"].get("latency", {}).get("seconds"), b["latency"].get("seconds")),
        "vs_prowler": ratio(runs["prowler"].get("direct", {}).get("seconds"), b["direct"].get("seconds")),
        "vs_prowler_latency": ratio(runs["prowler"].get("latency", {}).get("seconds"), b["latency"].get("seconds")),
    }  # fmt: skip
    # CPU spent per audit, the tool's own plus the emulator's answering it: the work each
    # tool costs, which the load of a shared machine moves much less than wall time.
    result["cpu_ratios"] = {
        "vs_custodian": ratio(work_cpu(runs["c7n"].get("direct")), work_cpu(b["direct"])),
        "vs_prowler": ratio(work_cpu(runs["prowler"].get("direct")), work_cpu(b["direct"])),
    }
    result["machine"]["load_after"] = load()
    write_text_atomically(RESULTS, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["ratios"], indent=2))


if __name__ == "__main__":
    main()
