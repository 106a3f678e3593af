"""How long KMS waits before deleting a key its stack let go of."""

from __future__ import annotations

from aws_cdk import Duration

# KMS's shortest waiting period (it allows 7 to 30 days; a key pending deletion is not billed, and the
# deletion can be cancelled until then). For keys that encrypt only what is deleted with their stack.
SHORTEST_KEY_DELETION_WINDOW = Duration.days(7)
