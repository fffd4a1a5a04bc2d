"""Logging that never writes a full national ID or mobile number (PIPL).

``PIIScrubFilter`` is attached to every handler in ``settings.LOGGING``. It formats the
message once, masks it with ``pii.scrub`` and freezes the result into ``record.msg`` (with no
args left), so no later handler or formatter can re-render the clear values. Tracebacks are
masked the same way, since exception messages often quote the offending value.
"""

import logging
import traceback

from collections_app import pii


class PIIScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format string: keep what we can, masked
            message = f"{record.msg} {record.args!r}"
        record.msg = pii.scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = pii.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = pii.scrub(record.stack_info)
        return True
