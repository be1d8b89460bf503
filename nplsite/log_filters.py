"""Logging filters of the site (wired in ``LOGGING`` in the settings)."""

import logging

from django.core.exceptions import PermissionDenied


class RefusalWithoutTraceback(logging.Filter):
    """A refused request (``PermissionDenied``: 403) is logged as one line — "Forbidden (Permission
    denied): /models/retrain/" — not with the traceback of the view that refused it: a refusal is an
    expected answer, not an error in the code."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
