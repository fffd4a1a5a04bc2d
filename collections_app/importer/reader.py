"""Reading CSV (UTF-8 with or without BOM, or GBK) and XLSX files row by row.

Rows come out as ``(row number, [cell, ...])`` where the header is row 1, as in a spreadsheet,
so a reported row number is the one the user sees in Excel. Files are streamed, never loaded whole.
"""

import csv
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.exceptions import DoorstepError
from collections_app.importer.report import printable

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
# GB18030 is a superset of GBK, so GBK files decode the same and a few rare characters still work.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
# Bytes that do not decode come through as lone surrogates (U+DC80-U+DCFF), one per byte, so the row
# holding them is refused with its row number and column instead of the whole file.
UNDECODED = "surrogateescape"
# A field longer than this stops the CSV reader (a file error); anything shorter is the row's error.
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))


class FileFormatError(DoorstepError):
    default_message = gettext_lazy("The file cannot be read as CSV or XLSX.")


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _blank(values) -> bool:
    # A loop, not all() over a generator: this runs twice for every row of a file of millions.
    for v in values:  # noqa: SIM110
        if v is not None and (not isinstance(v, str) or v.strip()):
            return False
    return True


class TableFile:
    """One sheet of rows with a header: ``header``, ``total_rows`` (data rows) and ``rows()``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with self.path.open("rb") as fh:
            magic = fh.read(4)
        if magic == OLE_MAGIC:
            raise FileFormatError(_("Old .xls files are not supported; save the sheet as XLSX or CSV."))
        self.kind = "xlsx" if magic == XLSX_MAGIC else "csv"
        self.encoding = ""
        if self.kind == "csv":
            self.encoding, self.total_rows = self._csv_probe()
        else:
            self.total_rows = self._xlsx_count()
        header = next((values for _row, values in self._raw_rows()), None)
        if header is None:
            raise FileFormatError(_("The file is empty."))
        self.header = [printable(h).strip().lstrip("\ufeff") for h in header]

    # -- CSV ---------------------------------------------------------------
    def _csv_probe(self) -> tuple[str, int]:
        """The file's encoding and its number of data rows (one streamed pass each)."""
        encoding = self._csv_encoding()
        try:
            with self.path.open(encoding=encoding, errors=UNDECODED, newline="") as fh:
                count = sum(1 for values in csv.reader(fh) if not _blank(values))
        except csv.Error as exc:
            raise FileFormatError(_("The CSV file is malformed: %(error)s") % {"error": exc}) from exc
        return encoding, max(count - 1, 0)

    def _csv_encoding(self) -> str:
        """UTF-8 unless more of the non-ASCII lines are GBK than UTF-8. A line that is neither stays in:
        its bytes that do not decode make its row an error (``rows.validate_row``), not the file's."""
        utf8 = gbk = plain = broken = 0
        with self.path.open("rb") as fh:
            for line in fh:
                if line.isascii():
                    plain += 1
                elif _decodes(line, "utf-8"):
                    utf8 += 1
                elif _decodes(line, "gb18030"):
                    gbk += 1
                else:
                    broken += 1
        if broken > plain + utf8 + gbk:
            raise FileFormatError(_("The CSV file is neither UTF-8 nor GBK text."))
        return CSV_ENCODINGS[gbk > utf8]

    # -- XLSX --------------------------------------------------------------
    def _workbook(self):
        import openpyxl

        try:
            return openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise FileFormatError(_("The XLSX file cannot be opened.")) from exc

    def _xlsx_count(self) -> int:
        workbook = self._workbook()
        try:
            sheet = workbook.worksheets[0]
            count = sum(1 for values in sheet.iter_rows(values_only=True) if not _blank(values))
        finally:
            workbook.close()
        return max(count - 1, 0)

    # -- rows --------------------------------------------------------------
    def _raw_rows(self) -> Iterator[tuple[int, list]]:
        if self.kind == "csv":
            with self.path.open(encoding=self.encoding, errors=UNDECODED, newline="") as fh:
                reader = csv.reader(fh)
                for values in reader:
                    if not _blank(values):
                        yield reader.line_num, values
            return
        workbook = self._workbook()
        try:
            for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
                if not _blank(values):
                    yield number, list(values)
        finally:
            workbook.close()

    def rows(self) -> Iterator[tuple[int, dict]]:
        """Data rows as ``(row number, {column: cell})`` for the header's named columns."""
        rows = self._raw_rows()
        next(rows, None)
        named = [(i, name) for i, name in enumerate(self.header) if name]
        for number, values in rows:
            yield number, {name: values[i] if i < len(values) else None for i, name in named}
