"""Benchmark: `ballast preview prod` against the floor of importing the SDK modules the
program uses, in one run on one machine. Records both, and the ratio, in
bench/results/preview.json. Target: the preview costs at most 2x the floor.

Each command runs as a fresh process (what a user waits for), REPEAT times; the median
wall time and the peak resident memory are recorded.

    .venv/bin/python bench/preview.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ballast.files import write_text_atomically

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "preview.json"
TARGET_RATIO = 2.0
STACK = "prod"


def sdk_imports_used(stack: str) -> list[str]:
    """Python expressions naming every SDK class and function the stack's program uses
    (`pulumi_aws.ec2.Vpc`, `pulumi_aws.get_availability_zones`, ...).

    Evaluating them is the floor: pulumi-aws loads a resource module only when its class
    is first touched, so importing the packages alone would understate what any program
    creating these resources must pay.
    """
    sys.path.insert(0, str(ROOT))
    from ballast.offline import load_stack_config, run_stack
    from ballast.offline.stack_config import load_project

    run = run_stack(load_stack_config(load_project(ROOT), stack))
    names = set()
    for record in run.resources:
        package, _, rest = record.type.partition(":")
        if record.is_provider:
            names.add(f"pulumi_{record.package}.Provider")
        elif package == "kubernetes":
            # kubernetes:storage.k8s.io/v1:StorageClass -> pulumi_kubernetes.storage.v1
            group, _, version_cls = rest.partition("/")
            version, _, cls = version_cls.partition(":")
            names.add(f"pulumi_kubernetes.{group.split('.')[0]}.{version}.{cls}")
        elif package not in ("pulumi", "ballast") and "/" in rest:
            # aws:ec2/vpc:Vpc -> pulumi_aws.ec2.Vpc; the index module is the package's top
            # level: random:index/randomPassword:RandomPassword -> pulumi_random.RandomPassword
            module, _, cls = rest.partition("/")
            prefix = f"pulumi_{package}" + ("" if module == "index" else f".{module}")
            names.add(f"{prefix}.{cls.split(':')[-1]}")
    for invoke in run.invokes:
        package, module_path, function = invoke.token.split(":")
        module = module_path.split("/")[0]
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in function)
        prefix = f"pulumi_{package}" + ("" if module == "index" else f".{module}")
        names.add(f"{prefix}.{snake}")
    return sorted(names)


def measure(command: list[str], repeat: int) -> dict:
    """Median wall seconds and peak RSS (MiB) of `command` over `repeat` fresh processes."""
    walls, peaks = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(child.pid, 0)
        walls.append(time.perf_counter() - start)
        assert child.stderr is not None  # stderr=PIPE
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed: {child.stderr.read().decode()[-2000:]}")
        child.stderr.close()
        peaks.append(usage.ru_maxrss / 1024)  # Linux reports KiB
    return {
        "median_s": round(statistics.median(walls), 3),
        "min_s": round(min(walls), 3),
        "max_s": round(max(walls), 3),
        "peak_rss_mib": round(max(peaks), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (default 5)")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 50:
        raise SystemExit("--repeat must be between 1 and 50")

    names = sdk_imports_used(STACK)
    packages = sorted({"pulumi", *(n.split(".")[0] for n in names)})
    floor_script = f"import {', '.join(packages)}\n" + "\n".join(names)
    ballast = str(Path(sys.executable).with_name("ballast"))
    floor_cmd = [sys.executable, "-c", floor_script]
    preview_cmd = [ballast, "preview", STACK, "--json"]
    floor = measure(floor_cmd, args.repeat)
    preview = measure(preview_cmd, args.repeat)
    ratio = round(preview["median_s"] / floor["median_s"], 2)
    document = {
        "benchmark": "ballast preview prod vs. SDK import floor",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "repeat": args.repeat,
        "floor": {"command": "python -c <script>", "script": floor_script.splitlines(), **floor},
        "preview": {"command": f"ballast preview {STACK} --json", **preview},
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
    }
    write_text_atomically(RESULTS, json.dumps(document, indent=2) + "\n")
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
