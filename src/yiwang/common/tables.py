"""Reading the spreadsheets staff actually have: xlsx, and csv in UTF-8 (with or without BOM),
GBK or GB18030. Rows come with their spreadsheet row numbers so reports can point at them."""

from __future__ import annotations

import codecs
import csv
import itertools
import os
import pickle
import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = 200 * 1024 * 1024
# An xlsx this large is searched for formulas beside its loading, when the caller allows.
ASIDE_FROM_BYTES = 1 << 20


class TableError(ValueError):
    pass


@dataclass
class Table:
    headers: list[str]
    header_row: int  # 1-based row number of the header line in the file
    # (row number, texts in the headers' order; a short row has fewer), blank rows left out.
    cells: Iterator[tuple[int, list[str]]]
    encoding: str = ""
    # About how many data rows follow (for progress bars); 0 when unknown.
    total_hint: int = 0
    # Cell-level findings the reader cannot put in the text: {(row number, header): message},
    # e.g. a formula cell with no cached result. Filled before the rows are read.
    cell_issues: dict[tuple[int, str], str] = field(default_factory=dict)
    # What the reader normalised on its own (merged cells filled), for the report.
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(row number, {header: text})."""
        headers = self.headers
        for number, texts in self.cells:
            yield number, dict(zip(headers, texts, strict=False))


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
    path: str | Path, *, expected_headers: set[str], max_bytes: int = MAX_BYTES, aside=False
) -> Table:
    """`aside`: the caller is the only thread of its process, and a second core may do part of
    the opening in a forked process (an xlsx sheet's search for formulas)."""
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
        return _read_xlsx(path, expected_headers, aside)
    if suffix in (".csv", ".txt"):
        return _read_csv(path, expected_headers)
    if suffix == ".xls":
        raise TableError("不支持旧版 .xls 格式,请在 Excel 中另存为 .xlsx")
    raise TableError(f"不支持的文件类型 {suffix or '(无扩展名)'},请使用 .xlsx 或 .csv")


def _lines_if_decodable(path: Path, encoding: str) -> int:
    """Decodes the whole file in pieces (so a bad byte on the last line is found before any
    row is written) and counts its lines, without holding it in memory."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            decoder.decode(chunk)
            lines += chunk.count(b"\n")
        decoder.decode(b"", final=True)
    return lines


def _read_csv(path: Path, expected: set[str]) -> Table:
    with path.open("rb") as f:
        sample = f.read(1_000_000)
    encoding = _detect_encoding(sample)
    try:
        total_hint = max(_lines_if_decodable(path, encoding) - 1, 0)
    except UnicodeDecodeError:
        raise TableError(f"文件编码不一致 (按 {encoding} 读取失败)") from None
    # Streamed: a 200 MB file read whole would cost several times its size in memory.
    stream = path.open(encoding=encoding, newline="")  # noqa: SIM115 (closed by rows())
    reader = csv.reader(stream)
    head = []
    for _ in range(20):
        try:
            head.append(next(reader))
        except StopIteration:
            break
    h = _find_header(head, expected)
    headers = [_clean(c) for c in head[h]] if head else []

    def rows():
        # csv gives text only, so stripping is all the cleaning a cell needs.
        number = h + 1
        with stream:
            for cells in itertools.chain(head[h + 1 :], reader):
                number += 1
                texts = [c.strip() for c in cells]
                if any(texts):
                    yield number, texts

    return Table(
        headers=headers, header_row=h + 1, cells=rows(), encoding=encoding, total_hint=total_hint
    )


_CACHED = re.compile(rb"<v>[^<]+</v>")
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
# A cell holding a formula: <c r="B2" ...><f>...</f>[<v>cached</v>]</c>
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]+\d+)"[^>/]*>(?:(?!</c>).)*?<f[ >/](?:(?!</c>).)*?</c>', re.S
)
_SHEET = re.compile(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_REL = re.compile(r'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"')
_REL_REVERSED = re.compile(r'<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')
_INVALID = "xlsx 文件已损坏或不是 Excel 文件"


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _ref(cell: str) -> tuple[int, int]:
    m = _CELL_REF.match(cell)
    return int(m.group(2)), _col_index(m.group(1))


def _sheet_member(zf, name: str) -> str | None:
    """The zip member holding the sheet called `name` (workbook.xml → its relationships)."""
    from html import unescape

    book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    rid = next((r for n, r in _SHEET.findall(book) if unescape(n) == name), None)
    if rid is None:
        return None
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = dict(_REL.findall(rels))
    targets.update((i, t) for t, i in _REL_REVERSED.findall(rels))
    target = targets.get(rid)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _formulas_without_value(path: Path, sheet_name: str) -> set[tuple[int, int]]:
    """Formula cells with no cached result: the reader gives them as blank, like a blank cell.
    The sheet is scanned in pieces for a formula first; only a sheet that has one is searched
    whole."""
    import zipfile

    no_value: set[tuple[int, int]] = set()
    with zipfile.ZipFile(path) as zf:
        member = _sheet_member(zf, sheet_name)
        if member is None:
            return no_value
        found = False
        with zf.open(member) as f:
            tail = b""
            while chunk := f.read(1 << 22):
                piece = tail + chunk
                if b"<f>" in piece or b"<f " in piece or b"<f/>" in piece:
                    found = True
                    break
                tail = piece[-8:]
        if not found:
            return no_value
        data = zf.read(member)
    for m in _FORMULA_CELL.finditer(data):
        # An empty <v/> or <v></v> is no result either.
        if not _CACHED.search(m.group(0)):
            no_value.add(_ref(m.group(1).decode()))
    return no_value


def _forked(fn, *args) -> Callable[[], object]:
    """Starts fn(*args) in a forked process, beside the caller's own work; the function
    returned waits for it and gives its result, or raises what it raised. Only for a caller
    that is the only thread of its process: a fork copies no other thread, nor a lock one held."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read)
            try:
                out = (True, fn(*args))
            except BaseException as exc:  # noqa: BLE001 (it goes back to the parent)
                out = (False, exc)
            with os.fdopen(write, "wb") as f:
                pickle.dump(out, f)
        finally:
            os._exit(0)
    os.close(write)

    def result():
        try:
            with os.fdopen(read, "rb") as f:
                ok, value = pickle.load(f)
        except EOFError:
            ok, value = False, OSError("the process searching the sheet ended early")
        finally:
            os.waitpid(pid, 0)
        if not ok:
            raise value
        return value

    return result


def _read_xlsx(path: Path, expected: set[str], aside: bool = False) -> Table:
    """The first worksheet, through calamine (Rust): a tenth of openpyxl's time per row. Merged
    ranges are filled from their first cell; formulas without a cached result are reported.
    With `aside`, a large sheet is searched for formulas in a forked process while calamine
    loads it (each takes a core: the search, about 0.3 s per 100 k rows, then costs nothing)."""
    import zipfile

    from python_calamine import CalamineWorkbook, SheetTypeEnum

    formulas, no_value = None, set()
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = [m.name for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        if not names:
            raise TableError("xlsx 文件中没有工作表")
        if aside and path.stat().st_size >= ASIDE_FROM_BYTES and hasattr(os, "fork"):
            formulas = _forked(_formulas_without_value, path, names[0])
        ws = wb.get_sheet_by_name(names[0])
    except TableError:
        raise
    except Exception:  # noqa: BLE001 (calamine raises its own errors, and zip and IO ones)
        raise TableError(_INVALID) from None
    finally:
        if formulas is not None:  # waited for even when the load failed: no process left over
            with suppress(KeyError, OSError, zipfile.BadZipFile):
                no_value = formulas()
    if formulas is None:
        with suppress(KeyError, OSError, zipfile.BadZipFile):
            no_value = _formulas_without_value(path, names[0])
    # Merged cells: every cell of the range takes the top-left value (a household's address
    # merged down its members' rows means that address for each of them). Rows 1-based,
    # columns 0-based, as the rows below are numbered.
    merges = [(r1 + 1, c1, r2 + 1, c2) for (r1, c1), (r2, c2) in ws.merged_cell_ranges or ()]
    fill: dict[tuple[int, int], tuple[int, int]] = {}
    for r1, c1, r2, c2 in merges:
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    fill[(r, c)] = (r1, c1)
    anchors = set(fill.values())
    anchor_values: dict[tuple[int, int], object] = {}
    # calamine yields every row from the sheet's first, but only the columns from the first
    # one used: put back the blank columns on the left so cells keep their places.
    lead = [""] * (ws.start[1] if ws.start else 0)
    it = ws.iter_rows()
    head = []
    for _ in range(20):
        try:
            head.append(lead + list(next(it)))
        except StopIteration:
            break
    h = _find_header(head, expected)
    headers = [_clean(c) for c in head[h]] if head else []
    table = Table(
        headers=headers,
        header_row=h + 1,
        cells=iter(()),
        encoding="xlsx",
        total_hint=max((ws.end[0] + 1 if ws.end else 0) - h - 1, 0),
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
        for c, value in enumerate(cells):
            if (number, c) in anchors:
                anchor_values[(number, c)] = value
        for c in range(len(headers)):
            src = fill.get((number, c))
            if src is not None:
                while len(cells) <= c:
                    cells.append("")
                cells[c] = anchor_values.get(src)
        return cells

    def rows():
        try:
            for number, cells in enumerate(head[: h + 1], start=1):
                patch(number, cells)
            rest = (lead + cells for cells in it) if lead else it
            number = h + 1
            for cells in itertools.chain(head[h + 1 :], rest):
                number += 1
                texts = [c.strip() if type(c) is str else _clean(c) for c in patch(number, cells)]
                if any(texts):
                    yield number, texts
        finally:
            wb.close()

    table.cells = rows()
    return table
