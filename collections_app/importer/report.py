"""The error report: a CSV of row, column, value, reason, safe to open in a spreadsheet."""

import csv
import re
import tempfile

from django.core.files import File

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HEADER = ("row", "column", "value", "reason")
SHOWN_CHARACTERS = 200
# What no database column may hold: a NUL, and the lone surrogates ``reader`` leaves for the bytes the
# file's encoding could not decode.
UNREADABLE = re.compile(r"[\x00\udc80-\udcff]")


def printable(value) -> str:
    """A value as text that any page, report or database column can hold: a NUL or an undecoded byte
    as ``\\xNN``, and at most ``SHOWN_CHARACTERS`` characters."""
    text = "" if value is None else str(value)
    if len(text) > SHOWN_CHARACTERS:
        text = text[:SHOWN_CHARACTERS] + "…"
    return UNREADABLE.sub(lambda m: f"\\x{ord(m.group()) & 0xFF:02x}", text)


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: a leading ``'`` defuses formula injection (CSV injection)."""
    text = printable(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class ReportWriter:
    """Streams report lines to a temporary file; ``save_to(job)`` attaches it to the import job."""

    def __init__(self):
        # The BOM makes Excel read the report as UTF-8 (Chinese names and reasons).
        self._file = tempfile.TemporaryFile(mode="w+", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self._writer = csv.writer(self._file)
        self._writer.writerow(HEADER)
        self.lines = 0

    def add(self, row, column: str, value, reason) -> None:
        self._writer.writerow([row, safe_cell(column), safe_cell(value), safe_cell(reason)])
        self.lines += 1

    def save_to(self, job) -> None:
        self._file.flush()
        self._file.seek(0)
        binary = self._file.buffer if hasattr(self._file, "buffer") else self._file
        job.report.save(f"import-{job.pk}-report.csv", File(binary), save=False)

    def close(self) -> None:
        self._file.close()
