"""Reusable constructs, one per file, composed by the stacks."""
