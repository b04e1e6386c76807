"""Errors of the offline engine, in a module of their own so the mocks, the monitor and
the engine can all raise them without importing each other."""

from __future__ import annotations


class ProgramError(RuntimeError):
    """The program failed; the message is what the Pulumi CLI would have printed."""


class StackReferenceError(ProgramError):
    """A `StackReference` cannot be answered offline (unknown stack, another project, a
    cycle, too many stacks, a missing output, or the referenced stack failed); the message
    is one sentence naming the referencing stack and the referenced one."""

    def __init__(self, message: str, *, whole_chain: bool = False):
        super().__init__(message)
        self.whole_chain = whole_chain
        """The message already names every stack involved (a cycle, the limit), so a
        stack further up passes it on as it is instead of wrapping it."""


class UnresolvedReference(Exception):
    """Internal: the program read stacks that have not run yet in this call.

    Raised inside the program where it constructs the `pulumi.StackReference` (the
    engine's stack transformation), which stops the run; the engine catches it, runs the
    referenced stacks, and reruns the program. It never leaves `ballast.offline`.
    """

    def __init__(self, *stacks: str):
        super().__init__(f"stacks not run yet: {', '.join(stacks)}")
        self.stacks = stacks
