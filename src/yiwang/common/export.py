"""Writing rows to xlsx or csv, with a first line that names who exported what and when."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path


def write_rows(rows: Iterable[list], path: str | Path, *, title: str = "", banner: str = "") -> int:
    """Writes header + rows; `banner`, when given, is the first line (exporter and time).
    csv is written as UTF-8 with BOM so Excel opens Chinese text correctly."""
    path = Path(path)
    count = 0
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            if banner:
                writer.writerow([banner])
            for row in rows:
                writer.writerow(row)
                count += 1
        return max(count - 1, 0)
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=(title or "数据")[:31])
    if banner:
        ws.append([banner])
    for row in rows:
        ws.append(list(row))
        count += 1
    wb.save(path)
    return max(count - 1, 0)
