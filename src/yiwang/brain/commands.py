"""`yiwang brain rebuild`: recount every roll-up from the cases, with a progress bar."""

from __future__ import annotations

import sys
import time


def cmd_brain(args) -> int:
    from tqdm import tqdm

    from .rollup import rollup_rebuild, rollup_tick

    if args.brain_command == "rebuild":
        bar = tqdm(desc="重算统计", unit="月", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        t = time.perf_counter()
        rows = rollup_rebuild(progress=progress)
        bar.close()
        print(f"已重算 {rows} 行日统计,用时 {time.perf_counter() - t:.1f} 秒")
        return 0
    if args.brain_command == "drain":
        print(f"已处理 {rollup_tick()} 个待重算键")
        return 0
    print("用法:yiwang brain rebuild|drain", file=sys.stderr)
    return 2
