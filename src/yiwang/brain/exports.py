"""Tables of brain figures as xlsx or csv responses (the data end's downloads)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.http import HttpResponse
from django.utils import timezone

from yiwang.common.export import write_rows

from .figures import RATE_NAMES
from .models import ALL_FIGURES

FIGURE_LABELS = {
    "reported": "上报数",
    "accepted": "已响应数",
    "responded_on_time": "按时响应数",
    "taken_on": "受理数",
    "completed": "已办结数(按上报)",
    "overdue": "超期数",
    "top": "顶格办数",
    "closed": "办结数",
    "closed_on_time": "按期办结数",
    "solved": "已解决数",
    "rated": "评价数",
    "satisfied": "满意及基本满意数",
    "unsatisfied": "不满意数",
    "reopened": "重办数",
    "handling_us": "办理时长合计(微秒)",
    "response_rate": "及时响应率",
    "on_time_rate": "按期办结率",
    "completion_rate": "办结率",
    "solved_rate": "解决率",
    "satisfaction_rate": "满意率",
    "reopen_rate": "重办率",
    "overdue_rate": "超期率",
    "average_handling_hours": "平均办理时长(小时)",
}


def figure_table(rows: list[dict], key_columns: list[tuple[str, str]]) -> list[list]:
    """Header + one line per row: the key columns, then every count and rate."""
    columns = [*key_columns, *((f, FIGURE_LABELS[f]) for f in (*ALL_FIGURES, *RATE_NAMES))]
    table = [[label for _k, label in columns]]
    for row in rows:
        table.append([row.get(k) for k, _label in columns])
    return table


def download(table: list[list], *, fmt: str, name: str, actor) -> HttpResponse:
    banner = (
        f"导出人:{getattr(actor, 'username', '')} 导出时间:{timezone.localtime():%Y-%m-%d %H:%M}"
    )
    suffix = ".csv" if fmt == "csv" else ".xlsx"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}{suffix}"
        write_rows(table, path, title=name, banner=banner)
        data = path.read_bytes()
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(data, content_type=content_type)
    ascii_name = f"brain-{name.encode('ascii', 'ignore').decode() or 'export'}{suffix}"
    response["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
    return response
