"""Reading the spreadsheets staff actually have: xlsx, and csv in UTF-8 (with or without BOM),
GBK or GB18030. Rows come with their spreadsheet row numbers so reports can point at them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 200 * 1024 * 1024


class TableError(ValueError):
    pass


@dataclass
class Table:
    headers: list[str]
    header_row: int  # 1-based row number of the header line in the file
    rows: Iterator[tuple[int, dict[str, str]]]  # (row number, {header: text})
    encoding: str = ""


def _detect_encoding(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multi-byte character at the end of a sample is still UTF-8.
        if exc.start >= len(raw) - 3:
            return "utf-8"
    try:
        raw.decode("gb18030")
        return "gb18030"  # a superset of GBK and GB2312
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000]).best()
    if best is None:
        raise TableError("无法识别文件编码,请另存为 UTF-8 或 GBK 编码的 CSV,或 xlsx")
    return best.encoding


def _clean(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _find_header(lines: list[list[str]], expected: set[str]) -> int:
    """The first of the top rows that names at least two expected columns: exports often start
    with a title line or two."""
    for i, cells in enumerate(lines[:20]):
        names = {_clean(c) for c in cells}
        if len(names & expected) >= min(2, len(expected)):
            return i
    return 0


def read_table(path: str | Path, *, expected_headers: set[str], max_bytes: int = MAX_BYTES) -> Table:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise TableError(f"文件不存在: {path}") from None
    if size > max_bytes:
        raise TableError(
            f"文件过大 ({size // 1024 // 1024} MB),上限 {max_bytes // 1024 // 1024} MB,请拆分后导入"
        )
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, expected_headers)
    if suffix in (".csv", ".txt"):
        return _read_csv(path, expected_headers)
    if suffix == ".xls":
        raise TableError("不支持旧版 .xls 格式,请在 Excel 中另存为 .xlsx")
    raise TableError(f"不支持的文件类型 {suffix or '(无扩展名)'},请使用 .xlsx 或 .csv")


def _read_csv(path: Path, expected: set[str]) -> Table:
    with path.open("rb") as f:
        sample = f.read(1_000_000)
    encoding = _detect_encoding(sample)
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError:
        raise TableError(f"文件编码不一致 (按 {encoding} 读取失败)") from None
    reader = csv.reader(io.StringIO(text))
    head = []
    for _ in range(20):
        try:
            head.append(next(reader))
        except StopIteration:
            break
    h = _find_header(head, expected)
    headers = [_clean(c) for c in head[h]] if head else []

    def rows():
        number = h + 1
        for cells in head[h + 1 :]:
            number += 1
            if any(c.strip() for c in cells):
                yield number, dict(zip(headers, (_clean(c) for c in cells), strict=False))
        for cells in reader:
            number += 1
            if any(c.strip() for c in cells):
                yield number, dict(zip(headers, (_clean(c) for c in cells), strict=False))

    return Table(headers=headers, header_row=h + 1, rows=rows(), encoding=encoding)


def _read_xlsx(path: Path, expected: set[str]) -> Table:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise TableError("xlsx 文件已损坏或不是 Excel 文件") from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    head = []
    for _ in range(20):
        try:
            head.append(list(next(it)))
        except StopIteration:
            break
    h = _find_header(head, expected)
    headers = [_clean(c) for c in head[h]] if head else []

    def rows():
        number = h + 1
        try:
            for cells in [*head[h + 1 :], *()]:
                number += 1
                if any(_clean(c) for c in cells):
                    yield number, dict(zip(headers, (_clean(c) for c in cells), strict=False))
            for cells in it:
                number += 1
                if any(_clean(c) for c in cells):
                    yield number, dict(zip(headers, (_clean(c) for c in cells), strict=False))
        finally:
            wb.close()

    return Table(headers=headers, header_row=h + 1, rows=rows(), encoding="xlsx")
