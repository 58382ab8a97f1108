"""`yiwang matching records`: service records for work done before the hooks counted it
(closed cases, finished calls), with a progress bar; `yiwang matching expire`: move unanswered
offers on now (the worker does it every minute)."""

from __future__ import annotations

import sys


def cmd_matching(args) -> int:
    from tqdm import tqdm

    from .services import offers_expire, service_records_backfill

    if args.matching_command == "records":
        bar = tqdm(desc="补记服务记录", unit="条", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        added = service_records_backfill(progress=progress)
        bar.close()
        print(f"已补记 {added} 条服务记录")
        return 0
    if args.matching_command == "expire":
        print(f"已处理 {offers_expire()} 个超时派单")
        return 0
    print("用法:yiwang matching records|expire", file=sys.stderr)
    return 2
