"""Ballast toolkit: preview a stack offline with its guardrails, detect drift, audit an
account, drill disaster recovery. The CLI lives in `ballast.cli`."""

__version__ = "0.1.0"
