"""Logging filters of the settings' LOGGING."""

from __future__ import annotations

import logging


class RefusalWithoutTraceback(logging.Filter):
    """A refused request (a 4xx: not found, not allowed, bad input) is the client's doing, not the code's: its
    log record keeps its one line and loses the exception's traceback. Server errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
