"""Process-wide state shared by the HTTP handlers and the server's signal handling."""

from __future__ import annotations

import logging

logger = logging.getLogger("orders_api.lifecycle")


class Lifecycle:
    def __init__(self) -> None:
        self._shutting_down = False

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def begin_shutdown(self) -> None:
        """From now on /readyz answers 503; requests are still served."""
        if not self._shutting_down:
            self._shutting_down = True
            logger.info("shutdown started: readiness now reports 503")
