"""`ballast gate`: the plan-diff gate for what a per-resource policy cannot see.

CrossGuard hands a policy the planned inputs of one resource, never its previous state,
so it cannot tell a downsize from a create or see that a delete is about to happen. The
gate reads the one JSON document of `pulumi preview --json` (`plan`), compares each
step's old and new state (`rules`) and fails on the changes a reviewer must approve
first, unless a reviewed entry approves that resource (`approvals`). `report` renders
the result as a table, JSON or the Markdown of a pull-request comment; `command` is the
CLI command.
"""
