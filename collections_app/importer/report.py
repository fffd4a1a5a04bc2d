"""The error report: a CSV of row, column, value, reason, safe to open in a spreadsheet."""

import csv
import tempfile

from django.core.files import File

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HEADER = ("row", "column", "value", "reason")


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: a leading ``'`` defuses formula injection (CSV injection)."""
    text = "" if value is None else str(value)
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
