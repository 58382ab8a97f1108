"""Reading the spreadsheets staff actually have: xlsx, and csv in UTF-8 (with or without BOM),
GBK or GB18030. Rows come with their spreadsheet row numbers so reports can point at them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    # About how many data rows follow (for progress bars); 0 when unknown.
    total_hint: int = 0
    # Cell-level findings the reader cannot put in the text: {(row number, header): message},
    # e.g. a formula cell with no cached result. Filled before the rows are read.
    cell_issues: dict[tuple[int, str], str] = field(default_factory=dict)
    # What the reader normalised on its own (merged cells filled), for the report.
    notes: list[str] = field(default_factory=list)


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


def read_table(
    path: str | Path, *, expected_headers: set[str], max_bytes: int = MAX_BYTES
) -> Table:
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
    total_hint = max(text.count("\n") - 1, 0)
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

    return Table(
        headers=headers, header_row=h + 1, rows=rows(), encoding=encoding, total_hint=total_hint
    )


_CACHED = re.compile(rb"<v>[^<]+</v>")
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+\d+):([A-Z]+\d+)"')
# A cell holding a formula: <c r="B2" ...><f>...</f>[<v>cached</v>]</c>
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]+\d+)"[^>/]*>(?:(?!</c>).)*?<f[ >/](?:(?!</c>).)*?</c>', re.S
)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _ref(cell: str) -> tuple[int, int]:
    m = _CELL_REF.match(cell)
    return int(m.group(2)), _col_index(m.group(1))


def _sheet_extras(path: Path, sheet_path: str):
    """What read-only openpyxl cannot tell: merged ranges, and formula cells without a cached
    result (data_only gives None for both those and blanks). One regex pass over the sheet XML,
    skipped when the sheet has no formulas or merges."""
    import zipfile

    merges: list[tuple[int, int, int, int]] = []
    no_value: set[tuple[int, int]] = set()
    with zipfile.ZipFile(path) as zf:
        data = zf.read(sheet_path.lstrip("/"))
    if b"<mergeCell " in data:
        for a, b in _MERGE.findall(data):
            (r1, c1), (r2, c2) = _ref(a.decode()), _ref(b.decode())
            merges.append((r1, c1, r2, c2))
    if b"<f>" in data or b"<f " in data:
        for m in _FORMULA_CELL.finditer(data):
            # An empty <v/> or <v></v> is no result either.
            if not _CACHED.search(m.group(0)):
                no_value.add(_ref(m.group(1).decode()))
    return merges, no_value


def _read_xlsx(path: Path, expected: set[str]) -> Table:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise TableError("xlsx 文件已损坏或不是 Excel 文件") from None
    ws = wb.worksheets[0]
    try:
        merges, no_value = _sheet_extras(path, ws._worksheet_path)
    except (KeyError, OSError, zipfile.BadZipFile):
        merges, no_value = [], set()
    # Merged cells: every cell of the range takes the top-left value (a household's address
    # merged down its members' rows means that address for each of them).
    fill: dict[tuple[int, int], tuple[int, int]] = {}
    for r1, c1, r2, c2 in merges:
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    fill[(r, c)] = (r1, c1)
    anchors = {v for v in fill.values()}
    anchor_values: dict[tuple[int, int], object] = {}
    it = ws.iter_rows(values_only=True)
    head = []
    for _ in range(20):
        try:
            head.append(list(next(it)))
        except StopIteration:
            break
    h = _find_header(head, expected)
    headers = [_clean(c) for c in head[h]] if head else []
    table = Table(
        headers=headers,
        header_row=h + 1,
        rows=iter(()),
        encoding="xlsx",
        total_hint=max((ws.max_row or 0) - h - 1, 0),
    )
    for r, c in no_value:
        if r > h + 1 and c < len(headers):
            table.cell_issues[(r, headers[c])] = (
                "公式单元格没有计算结果,请在 Excel 中打开并保存,或复制后“粘贴为数值”再导入"
            )
    if merges:
        table.notes.append(f"已按首格的值填充 {len(merges)} 处合并单元格")

    def patch(number: int, cells: list) -> list:
        if not fill:
            return cells
        cells = list(cells)
        for c, value in enumerate(cells):
            if (number, c) in anchors:
                anchor_values[(number, c)] = value
        for c in range(len(headers)):
            src = fill.get((number, c))
            if src is not None:
                while len(cells) <= c:
                    cells.append(None)
                cells[c] = anchor_values.get(src)
        return cells

    def rows():
        number = 0
        try:
            for number, cells in enumerate(head, start=1):
                patch(number, cells)
            number = h + 1
            for cells in [*head[h + 1 :]]:
                number += 1
                cells = patch(number, cells)
                if any(_clean(c) for c in cells):
                    yield number, dict(zip(headers, (_clean(c) for c in cells), strict=False))
            for cells in it:
                number += 1
                cells = patch(number, cells)
                if any(_clean(c) for c in cells):
                    yield number, dict(zip(headers, (_clean(c) for c in cells), strict=False))
        finally:
            wb.close()

    table.rows = rows()
    return table
