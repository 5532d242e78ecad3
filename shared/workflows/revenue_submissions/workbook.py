"""The one adapter that knows an RSS workbook's layout: its data-mart sheet read with openpyxl.

Today the Logic App runs the Office Script ``DataMartDailyExtract`` on the
submitted ``.xlsm`` and inserts each row it returns as ``SITE, DATE (an Excel
serial day), REVENUE_CODE, REVENUE_CATEGORY, VALUE_TYPE, VALUE`` (DOMAIN.md
§9; ``REVENUE_CODE`` cut to 5 characters, a missing value taken as 0). The
script itself is not in any source Towne Park published, so the sheet it
reads is **unconfirmed**: here it is a sheet named ``DATA_MART_SHEET`` whose
first row names those six columns, in any order, and whose other rows are
the data. When the real workbook says otherwise, this module is the only one
to change.

A workbook that cannot be read whole (not a workbook, no such sheet, a
missing column, a date or number that is not one, a row of another site or
month) raises ``UnreadableWorkbookError`` with the reason for the submitter;
nothing is returned half-read.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

DATA_MART_SHEET = "DataMart"  # unconfirmed: the sheet DataMartDailyExtract reads
COLUMNS = ("SITE", "DATE", "REVENUE_CODE", "REVENUE_CATEGORY", "VALUE_TYPE", "VALUE")
REVENUE_CODE_LENGTH = 5  # the Logic App keeps the first 5 characters
_EXCEL_EPOCH = date(1899, 12, 30)  # serial day 0, as the Logic App's addDays('1899-12-30', ...) counts


class UnreadableWorkbookError(ValueError):
    """The workbook cannot be loaded whole; the message is the reason given to the submitter."""


@dataclass(frozen=True)
class DataMartRow:
    """One daily value of the RSS data mart, as ``TP_STAGE.dbo.REVENUE_DATAMART_DAILY_INVOICE`` holds it."""

    site: str
    day: date
    revenue_code: str | None
    revenue_category: str
    value_type: str | None
    value: Decimal


def read_data_mart(content: bytes, site: str, period: str) -> list[DataMartRow]:
    """Every data-mart row of the workbook, all of ``site`` (4 digits) and month ``period`` (yyyyMM)."""
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableWorkbookError(f"the file is not an Excel workbook ({type(error).__name__})") from None
    try:
        if DATA_MART_SHEET not in workbook.sheetnames:
            raise UnreadableWorkbookError(f"the workbook has no '{DATA_MART_SHEET}' sheet")
        rows = workbook[DATA_MART_SHEET].iter_rows(values_only=True)
        header = next(rows, None)
        positions = _positions(header)
        read = [_row(values, positions, number, site, period) for number, values in _data(rows)]
    finally:
        workbook.close()
    if not read:
        raise UnreadableWorkbookError(f"the '{DATA_MART_SHEET}' sheet has no rows")
    return read


def _positions(header: tuple[Any, ...] | None) -> dict[str, int]:
    names = [str(cell).strip().upper() if cell is not None else "" for cell in header or ()]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise UnreadableWorkbookError(f"the '{DATA_MART_SHEET}' sheet's first row lacks {', '.join(missing)}")
    return {column: names.index(column) for column in COLUMNS}


def _data(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for number, values in enumerate(rows, start=2):
        if any(value not in (None, "") for value in values):
            yield number, values


def _row(values: tuple[Any, ...], at: dict[str, int], number: int, site: str, period: str) -> DataMartRow:
    def cell(column: str) -> Any:
        position = at[column]
        return values[position] if position < len(values) else None

    where = f"row {number} of '{DATA_MART_SHEET}'"
    row_site = _text(cell("SITE"))
    if row_site is None or row_site.zfill(4) != site:
        raise UnreadableWorkbookError(f"{where} is for site {row_site!r}, not {site}")
    day = _day(cell("DATE"), where)
    if f"{day:%Y%m}" != period:
        raise UnreadableWorkbookError(f"{where} is dated {day.isoformat()}, outside {period}")
    category = _text(cell("REVENUE_CATEGORY"))
    if category is None:
        raise UnreadableWorkbookError(f"{where} has no REVENUE_CATEGORY")
    code = _text(cell("REVENUE_CODE"))
    return DataMartRow(
        site=site,
        day=day,
        revenue_code=code[:REVENUE_CODE_LENGTH] if code else None,
        revenue_category=category,
        value_type=_text(cell("VALUE_TYPE")),
        value=_amount(cell("VALUE"), where),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _day(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2_958_466:
        return _EXCEL_EPOCH + timedelta(days=int(value))
    raise UnreadableWorkbookError(f"{where} has DATE {value!r}, not a date")


def _amount(value: Any, where: str) -> Decimal:
    if value in (None, ""):
        return Decimal("0.00")  # the Logic App's coalesce(VALUE, 0.00)
    if isinstance(value, bool):
        raise UnreadableWorkbookError(f"{where} has VALUE {value!r}, not a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise UnreadableWorkbookError(f"{where} has VALUE {value!r}, not a number") from None
    if not amount.is_finite():
        raise UnreadableWorkbookError(f"{where} has VALUE {value!r}, not a number")
    return amount.quantize(Decimal("0.01"))
