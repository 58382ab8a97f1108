"""`yiwang import residents …` and `yiwang export residents …`, called by cli.py with parsed
args. The command line acts as the system (actor None): whoever runs it has the database."""

from __future__ import annotations

import sys


def _bar(desc: str):
    from tqdm import tqdm

    state = {"bar": None}

    def update(done: int, total: int) -> None:
        if state["bar"] is None:
            state["bar"] = tqdm(total=total, desc=desc, unit="行", file=sys.stderr, unit_scale=True)
        bar = state["bar"]
        bar.total = max(total, done)
        bar.n = done
        bar.refresh()

    def close():
        if state["bar"] is not None:
            state["bar"].close()

    update.close = close
    return update


def cmd_import_residents(args) -> int:
    """yiwang import residents FILE [--source NAME] [--commit] [--allow-unresolved]"""
    from .importer import residents_import

    progress = _bar("导入居民")
    report = residents_import(
        actor=None,
        path=args.file,
        source=getattr(args, "source", None) or "import",
        commit=bool(getattr(args, "commit", False)),
        allow_unresolved=bool(getattr(args, "allow_unresolved", False)),
        progress=progress,
    )
    progress.close()
    print(
        f"总计 {report.total} 行;可导入 {report.good},有问题 {report.bad};"
        f"新增 {report.created},更新 {report.updated},未变 {report.unchanged};"
        f"用时 {report.seconds:.1f} 秒 ({report.rows_per_second:,.0f} 行/秒)"
    )
    for note in report.file_notes:
        print(f"  * {note}")
    for p in report.problems[:200]:
        print(f"  - {p}")
    if len(report.problems) > 200:
        print(f"  … 另有 {len(report.problems) - 200} 个问题")
    for p in report.notes[:50]:
        print(f"  ~ {p}")
    if report.committed:
        print("已写入无问题的行;有问题的行未写入。" if report.problems else "已写入。")
    else:
        print("试运行,未写入;确认无误后加 --commit 写入。")
    return 1 if report.problems else 0


def cmd_export_residents(args) -> int:
    """yiwang export residents -o FILE.xlsx|csv [--grid CODE] [--tag NAME] [--purpose P]
    [--reason TEXT] [--reveal]"""
    from yiwang.org.models import Grid

    from .exports import residents_export
    from .selectors import ResidentFilter

    grid_id = None
    if getattr(args, "grid", None):
        grid_id = Grid.objects.filter(code=args.grid).values_list("id", flat=True).first()
        if grid_id is None:
            print(f"没有网格 {args.grid}", file=sys.stderr)
            return 2
    output = args.output or "residents.xlsx"
    count = residents_export(
        actor=None,
        f=ResidentFilter(grid_id=grid_id, tag=getattr(args, "tag", "") or ""),
        path=output,
        purpose=getattr(args, "purpose", None) or "statistics",
        reason=getattr(args, "reason", "") or "",
        reveal=bool(getattr(args, "reveal", False)),
        channel="cli",
    )
    print(f"已导出 {count} 人到 {output}")
    return 0
