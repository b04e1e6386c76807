"""The offline engine: run a Pulumi program or one component under the SDK's mock engine
and record every registration, so the CLI and the tests see the same resource graph."""

from ballast.offline.engine import (
    MAX_REFERENCES,
    ProgramError,
    StackReferenceError,
    run_component,
    run_stack,
    run_stack_with_references,
)
from ballast.offline.records import InvokeRecord, ProgramRun, ResourceRecord
from ballast.offline.stack_config import StackNotFound, list_stacks, load_stack_config

__all__ = [
    "MAX_REFERENCES",
    "InvokeRecord",
    "ProgramError",
    "ProgramRun",
    "ResourceRecord",
    "StackNotFound",
    "StackReferenceError",
    "list_stacks",
    "load_stack_config",
    "run_component",
    "run_stack",
    "run_stack_with_references",
]
