"""What the analyzer receives for each resource of an offline run.

`Analyze` gets a resource's inputs, options and provider (with the provider's inputs as
its properties); `AnalyzeStack` gets the outputs as well. The offline engine records
the mock's state as outputs; bridged providers also report the resource ID as the
`id` output, so it is added where the state lacks it (joins in stack policies use it).
The root stack is not analyzed, as under the CLI.
"""

from __future__ import annotations

from ballast.offline import ProgramRun, ResourceRecord
from ballast.policy.harness import AnalyzerInput, ProviderInput

STACK_TYPE = "pulumi:pulumi:Stack"


def _provider(record: ResourceRecord, by_urn: dict[str, ResourceRecord]) -> ProviderInput | None:
    if not record.provider:
        return None
    provider = by_urn.get(record.provider)
    if provider is None:
        return None
    return ProviderInput(
        urn=provider.urn, type=provider.type, name=provider.name, properties=provider.inputs
    )


def analyzer_inputs(run: ProgramRun) -> list[AnalyzerInput]:
    """Every resource of `run` except the root stack, in the run's (stable) order."""
    by_urn = run.by_urn()
    found = []
    for record in run.resources:
        if record.type == STACK_TYPE:
            continue
        outputs = dict(record.outputs)
        if record.custom and record.id and "id" not in outputs:
            outputs["id"] = record.id
        found.append(
            AnalyzerInput(
                urn=record.urn,
                type=record.type,
                name=record.name,
                inputs=record.inputs,
                outputs=outputs,
                provider=_provider(record, by_urn),
                parent=record.parent,
                dependencies=record.depends_on,
                protect=record.protect,
                ignore_changes=record.ignore_changes,
                delete_before_replace=record.delete_before_replace or None,
                aliases=record.aliases,
                additional_secret_outputs=record.additional_secret_outputs,
            )
        )
    return found
