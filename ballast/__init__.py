"""Ballast toolkit: today `ballast preview`, which runs a stack offline and evaluates its
guardrails. The CLI lives in `ballast.cli`."""

__version__ = "0.1.0"
