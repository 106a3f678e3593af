"""What the Lambda functions' code assets leave out: the handlers' own tests and local caches."""

CODE_EXCLUDES = ["tests", "**/__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache"]
