"""`ballast audit`: discover an existing AWS estate into findings, IaC coverage and a
risk-ranked backlog (docs/audit.md).

One capability per module: `scope` (accounts, regions, the boto3 client factory),
`pool` (the bounded worker pool and the error record), `collect` (what is read from
each service, as units of work), `checks` (the registry of checks), `coverage` (which
resources a Pulumi or Terraform state manages), `backlog` (findings into ranked work
items), `render` (JSON, CSV, Markdown and the console summary), `run` (one audit, end
to end) and `demo` (a seeded example estate on a local moto server).
"""
