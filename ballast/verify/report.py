"""Render a `VerifyResult` for a terminal: counts per step, then every failure with its
resource, argument and the provider's message, then the converter's notes."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ballast.output import text
from ballast.verify.run import VerifyResult


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def render(console: Console, result: VerifyResult) -> None:
    counts = result.counts()
    table = Table(title=f"ballast verify {result.stack} (AWS provider {result.provider_version})")
    for column in (
        "converted",
        "validated",
        "planned",
        "created",
        "gaps",
        "defects",
        "not started",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            _count(counts[key])
            for key in (
                "converted",
                "validated",
                "planned",
                "created",
                "gaps",
                "defects",
                "notStarted",
            )
        )
    )
    console.print(table)
    timing = (
        f"validate {result.validate.seconds:.0f} s, plan {result.plan.seconds:.0f} s "
        f"({result.plan.api_calls} API requests)"
    )
    if result.apply is not None:
        timing += f", apply {result.apply.seconds:.0f} s against moto {result.moto_version}"
    console.print(timing)
    if result.skipped:
        console.print(
            "not converted: "
            + ", ".join(f"{count} {kind}" for kind, count in sorted(result.skipped.items()))
        )
    failures = result.validate.failures + result.plan.failures
    if result.apply is not None:
        failures += result.apply.failures
    extra = [f for f in result.defects if f not in failures]
    if failures or extra:
        detail = Table(title="failures", show_lines=True)
        for column in ("step", "kind", "resource", "argument", "message"):
            detail.add_column(column, overflow="fold")
        for failure in failures + extra:
            message = failure.message
            if failure.gap is not None:
                message += f"\n(gap: {failure.gap.reason})"
            if failure.hint:
                message += f"\n({failure.hint})"
            detail.add_row(
                failure.step, failure.kind, failure.address or "-", failure.argument or "-", message
            )
        console.print(detail)
    for note in result.notes:
        console.print(
            text(("note:", "yellow"), f" {note.address} {note.argument}: {note.reason}"),
            soft_wrap=True,
        )
