"""The post-deploy verification behind `make verify` (entry point: scripts/verify_deployment.py)."""
