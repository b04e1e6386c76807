"""Benchmark: `ballast drift --events` on a synthetic 10,000-resource refresh event log
with 5 % drift. Records the median wall time and peak resident memory of the whole
command (a fresh process, what CI waits for) in bench/results/drift.json.
Target: under 2 s and 200 MiB (the log is streamed, never held whole).

The log is built from the derived fixture's events (tests/toolkit/drift_fixtures/): the
`same` and `update` pairs repeated with new URNs.

    .venv/bin/python bench/drift.py [--repeat N] [--resources N]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ballast.files import write_text_atomically

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "toolkit" / "drift_fixtures" / "aws-drift.jsonl"
RESULTS = ROOT / "bench" / "results" / "drift.json"
TARGET_SECONDS, TARGET_MIB = 2.0, 200
DRIFT_SHARE = 0.05


def _renamed(event: dict, suffix: str) -> dict:
    event = copy.deepcopy(event)
    for key in ("resourcePreEvent", "resOutputsEvent"):
        if key in event:
            meta = event[key]["metadata"]
            meta["urn"] = f"{meta['urn']}-{suffix}"
            for state in (meta.get("old"), meta.get("new")):
                if state:
                    state["urn"] = meta["urn"]
    return event


def synthetic_log(path: Path, resources: int) -> None:
    events = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    pairs = [
        (events[i], events[i + 1])
        for i in range(len(events) - 1)
        if "resourcePreEvent" in events[i] and "resOutputsEvent" in events[i + 1]
    ]
    same = next(p for p in pairs if p[1]["resOutputsEvent"]["metadata"]["op"] == "same")
    drifted = [p for p in pairs if p[1]["resOutputsEvent"]["metadata"]["op"] == "update"]
    every = round(1 / DRIFT_SHARE)
    with path.open("w") as out:
        out.write(json.dumps(events[0]) + "\n")
        for index in range(resources):
            pair = drifted[index // every % len(drifted)] if index % every == 0 else same
            for event in pair:
                out.write(json.dumps(_renamed(event, str(index))) + "\n")
        out.write(json.dumps(events[-2]) + "\n" + json.dumps(events[-1]) + "\n")


def measure(log: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one `ballast drift --events --json` run."""
    command = [sys.executable, "-m", "ballast.cli", "drift", "prod", "--events", str(log), "--json"]
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 1:
        raise SystemExit(
            f"ballast drift exited {code}: {child.stderr.read().decode() if child.stderr else ''}"
        )
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--resources", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "refresh.jsonl"
        synthetic_log(log, args.resources)
        size = log.stat().st_size
        runs = [measure(log) for _ in range(args.repeat)]
    seconds = statistics.median(r[0] for r in runs)
    mib = max(r[1] for r in runs)
    result = {
        "benchmark": "ballast drift --events (synthetic refresh log)",
        "recordedAt": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "resources": args.resources,
        "driftShare": DRIFT_SHARE,
        "logBytes": size,
        "repeat": args.repeat,
        "medianSeconds": round(seconds, 3),
        "peakRssMiB": round(mib, 1),
        "target": {"seconds": TARGET_SECONDS, "mib": TARGET_MIB},
        "met": seconds < TARGET_SECONDS and mib < TARGET_MIB,
    }
    write_text_atomically(RESULTS, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
