"""Ballast's reusable Pulumi components, one capability per module.

Each component is a `pulumi.ComponentResource` with type token
`ballast:components:<Name>` and signature `(name, args, opts=None)`, where `args` is a
keyword-only dataclass whose fields document their defaults and trade-offs.
"""
