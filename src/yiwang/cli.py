"""The `yiwang` command: Django's management commands plus the project's own.

yiwang demo [--scale small|shibei] [--no-serve] [--reset]
yiwang serve [--host H] [--port P] [--workers N]
yiwang worker [--once]
yiwang import grids|roads|buildings FILE [--commit]
yiwang export grids|buildings [-o FILE]
yiwang token create USERNAME [NAME]
yiwang <any Django command>   (migrate, createsuperuser, shell, …)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()


def _progress(desc: str, unit: str = "条"):
    from tqdm import tqdm

    bar = {"bar": None}

    def update(done: int, total: int) -> None:
        if bar["bar"] is None:
            bar["bar"] = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr)
        bar["bar"].n = done
        bar["bar"].refresh()
        if done >= total:
            bar["bar"].close()

    return update


def _print_report(report) -> int:
    data = report.as_dict()
    print(
        f"总计 {data['total']} 条;新增 {data['created']},更新 {data['updated']},"
        f"未变 {data['unchanged']};问题 {len(data['problems'])} 个"
    )
    for p in report.problems[:200]:
        print(f"  - {p}")
    if len(report.problems) > 200:
        print(f"  … 另有 {len(report.problems) - 200} 个问题")
    if report.problems:
        print("未写入任何数据 (导入为全有或全无)。")
        return 1
    print("已写入。" if report.committed else "试运行,未写入;确认无误后加 --commit 写入。")
    return 0


def cmd_demo(args) -> int:
    from django.core.management import call_command

    from yiwang.org.models import District

    call_command("migrate", verbosity=0, interactive=False)
    if args.reset:
        call_command("flush", verbosity=0, interactive=False)
    if District.objects.exists():
        print("演示数据已存在 (加 --reset 重新生成)。")
        from yiwang.demo import DEMO_PASSWORD, existing_logins

        logins = existing_logins()
    else:
        from yiwang.demo import DEMO_PASSWORD, build_demo

        started = time.monotonic()
        logins = build_demo(scale=args.scale, seed=args.seed, progress=_progress)
        print(f"演示区已生成 ({args.scale}),用时 {time.monotonic() - started:.1f} 秒。")
    print()
    print(f"打开 http://{args.host}:{args.port}/ ,演示账号 (密码均为 {DEMO_PASSWORD}):")
    for login in logins:
        print(f"  {login.username:<12} {login.label}")
    from yiwang.demo.intake import demo_key

    key = demo_key()
    if key:
        print(f"  Open311 演示接入系统 api_key: {key}")
    print()
    sys.stdout.flush()
    if args.no_serve:
        return 0
    return cmd_serve(args)


def cmd_serve(args) -> int:
    from django.conf import settings

    bind = f"{args.host}:{args.port}"
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "yiwang.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(args.workers),
        "--access-logfile",
        "-" if settings.DEBUG else "/dev/null",
        "--timeout",
        "120",
    ]
    print(f"服务已启动: http://{bind}/ (Ctrl+C 停止)")
    sys.stdout.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached


def cmd_worker(args) -> int:
    import socket

    from django.db import close_old_connections
    from django_tasks_db.management.commands.db_worker import Worker

    from yiwang import ticks

    worker_id = f"{socket.gethostname()}-{os.getpid()}"
    print(f"worker {worker_id}: ticks {', '.join(t.name for t in ticks.registered()) or '(none)'}")
    while True:
        close_old_connections()
        ticks.run_due()
        Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        ).run()
        if args.once:
            return 0
        time.sleep(args.interval)


def cmd_import(args) -> int:
    from yiwang.geo import services
    from yiwang.org.models import District

    if args.kind == "hotline":
        return cmd_import_hotline(args)
    if args.kind == "residents":
        from yiwang.registry.commands import cmd_import_residents

        return cmd_import_residents(args)
    dry_run = not args.commit
    if args.kind == "grids":
        district = District.objects.order_by("id").first()
        if district is None:
            print(
                "尚无区划;先运行 yiwang district create CODE NAME 或 yiwang demo", file=sys.stderr
            )
            return 2
        with open(args.file, "rb") as f:
            report = services.grids_import(
                actor=None, data=f.read(), district=district, dry_run=dry_run
            )
    elif args.kind == "roads":
        report = services.roads_import(actor=None, path=args.file, dry_run=dry_run)
    else:
        report = services.buildings_import(actor=None, path=args.file, dry_run=dry_run)
    return _print_report(report)


def cmd_export(args) -> int:
    from yiwang.geo import services
    from yiwang.org.models import District

    if args.kind == "residents":
        from yiwang.registry.commands import cmd_export_residents

        return cmd_export_residents(args)
    if args.kind == "grids":
        district = District.objects.order_by("id").first()
        text = json.dumps(services.grids_export(district=district), ensure_ascii=False)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            print(text)
        return 0
    rows = services.buildings_export_rows()
    from yiwang.common.export import write_rows

    write_rows(rows, args.output or "buildings.xlsx", title="楼院地址库")
    print(f"已导出到 {args.output or 'buildings.xlsx'}")
    return 0


def cmd_district(args) -> int:
    from yiwang.org.services import district_create

    district = district_create(actor=None, code=args.code, name=args.name)
    print(f"已创建 {district.name} ({district.code})")
    return 0


def cmd_token(args) -> int:
    from django.contrib.auth import get_user_model

    from yiwang.org.services import api_token_create

    try:
        user = get_user_model().objects.get(username=args.username)
    except get_user_model().DoesNotExist:
        print(f"没有用户 {args.username}", file=sys.stderr)
        return 2
    _token, key = api_token_create(actor=None, user=user, name=args.name)
    print(f"已为 {user.username} 创建令牌 “{args.name}”,请妥善保存 (只显示一次):")
    print(key)
    return 0


def cmd_open311(args) -> int:
    from yiwang.intake.keys import api_client_create, api_client_revoke
    from yiwang.intake.models import ApiClient

    if args.action == "create":
        if ApiClient.objects.filter(name=args.name).exists():
            print(f"已有名为 {args.name} 的接入系统", file=sys.stderr)
            return 2
        _client, key = api_client_create(actor=None, name=args.name, rate_per_minute=args.rate)
        print(f"已为 {args.name} 签发 Open311 api_key (只显示一次):")
        print(key)
        return 0
    client = ApiClient.objects.filter(name=args.name, revoked_at__isnull=True).first()
    if client is None:
        print(f"没有有效的接入系统 {args.name}", file=sys.stderr)
        return 2
    api_client_revoke(actor=None, client=client)
    print(f"已吊销 {args.name} 的 api_key")
    return 0


def cmd_import_hotline(args) -> int:
    from yiwang.intake.hotline import tickets_import

    report = tickets_import(actor=None, path=args.file, commit=args.commit)
    print(
        f"总计 {report.total} 行;新建事件 {report.created},重复工单 {report.replayed},"
        f"待补地址 {report.waiting};问题 {len(report.problems)} 个"
    )
    for row, column, message in report.problems[:200]:
        print(f"  - 第 {row} 行 [{column}] {message}")
    if not args.commit:
        print("试运行,未写入;加 --commit 写入无问题的行。")
    return 1 if report.problems and not report.total else 0


def cmd_brain(args) -> int:
    from yiwang.brain.commands import cmd_brain as run

    return run(args)


def cmd_search(args) -> int:
    from yiwang.search.index import rebuild, regram

    started = time.monotonic()
    if args.action == "regram":
        # After an upgrade that counts longer substrings: reads the index, not the registry.
        from yiwang.search.backends import Expr, backend

        engine = backend()
        total = sum(engine.match_count(Expr(f"zzk{k}", kind=k)) for k in ("r", "p", "o"))
        bar = _progress("重新统计检索词")
        n = regram(progress=lambda done: bar(done, max(total, done)))
        print(f"已统计 {n} 条,用时 {time.monotonic() - started:.1f} 秒")
        return 0
    bar = _progress("重建检索索引")
    n = rebuild(progress=bar)
    print(f"已索引 {n} 条,用时 {time.monotonic() - started:.1f} 秒")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yiwang", description="Yiwang 一网治理")
    sub = parser.add_subparsers(dest="command")

    def server_args(p):
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--workers", type=int, default=2)

    demo = sub.add_parser("demo", help="生成演示区并启动服务")
    demo.add_argument("--scale", choices=["small", "shibei"], default="small")
    demo.add_argument("--seed", type=int, default=20261130)
    demo.add_argument("--no-serve", action="store_true")
    demo.add_argument("--reset", action="store_true", help="清空数据库后重新生成")
    server_args(demo)
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="以 gunicorn 启动服务")
    server_args(serve)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="后台任务与定时任务")
    worker.add_argument("--once", action="store_true")
    worker.add_argument("--interval", type=float, default=2.0)
    worker.set_defaults(func=cmd_worker)

    imp = sub.add_parser("import", help="导入网格 (GeoJSON) 或地址库 (csv/xlsx)")
    imp.add_argument("kind", choices=["grids", "roads", "buildings", "hotline", "residents"])
    imp.add_argument("file")
    imp.add_argument("--commit", action="store_true", help="写入 (默认只检查)")
    imp.add_argument("--source", help="数据来源名称 (居民导入,按来源保存列映射)")
    imp.add_argument(
        "--allow-unresolved", action="store_true", help="地址无法定位的居民进入待补地址队列"
    )
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="导出网格或地址库")
    exp.add_argument("kind", choices=["grids", "buildings", "residents"])
    exp.add_argument("-o", "--output")
    exp.add_argument("--grid", help="居民导出: 网格编码")
    exp.add_argument("--tag", help="居民导出: 标签")
    exp.add_argument("--purpose", help="居民导出: 用途")
    exp.add_argument("--reason", help="居民导出: 事由")
    exp.add_argument("--reveal", action="store_true", help="居民导出: 不打码 (须有权限)")
    exp.set_defaults(func=cmd_export)

    district = sub.add_parser("district", help="区划")
    district_sub = district.add_subparsers(dest="action", required=True)
    dc = district_sub.add_parser("create")
    dc.add_argument("code")
    dc.add_argument("name")
    dc.set_defaults(func=cmd_district)

    o311 = sub.add_parser("open311", help="Open311 接入系统的 api_key")
    o311_sub = o311.add_subparsers(dest="what", required=True)
    key = o311_sub.add_parser("key")
    key_sub = key.add_subparsers(dest="action", required=True)
    kc = key_sub.add_parser("create")
    kc.add_argument("name")
    kc.add_argument("--rate", type=int, default=600, help="每分钟请求上限")
    kc.set_defaults(func=cmd_open311)
    kr = key_sub.add_parser("revoke")
    kr.add_argument("name")
    kr.set_defaults(func=cmd_open311)

    brain = sub.add_parser("brain", help="三脑统计")
    brain.add_argument("brain_command", choices=["rebuild", "drain"])
    brain.set_defaults(
        func=lambda a: __import__("yiwang.brain.commands").brain.commands.cmd_brain(a)
    )

    matching = sub.add_parser("matching", help="资源与需求")
    matching.add_argument("matching_command", choices=["records", "expire"])
    matching.set_defaults(
        func=lambda a: __import__("yiwang.matching.commands").matching.commands.cmd_matching(a)
    )

    search = sub.add_parser("search", help="检索索引")
    search_sub = search.add_subparsers(dest="action", required=True)
    sr = search_sub.add_parser("rebuild", help="从登记数据重建索引")
    sr.set_defaults(func=cmd_search)
    sg = search_sub.add_parser("regram", help="升级后重新统计检索词计数")
    sg.set_defaults(func=cmd_search)

    token = sub.add_parser("token", help="API 令牌")
    token_sub = token.add_subparsers(dest="action", required=True)
    tc = token_sub.add_parser("create")
    tc.add_argument("username")
    tc.add_argument("name", nargs="?", default="api")
    tc.set_defaults(func=cmd_token)
    return parser


OWN_COMMANDS = {
    "demo", "serve", "worker", "import", "export", "district", "token", "open311", "search",
    "brain", "matching",
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError

    try:
        if argv and argv[0] in OWN_COMMANDS or argv[:1] in (["-h"], ["--help"]):
            args = build_parser().parse_args(argv)
            _setup()
            return args.func(args) or 0
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
        from django.core.management import execute_from_command_line

        execute_from_command_line(["yiwang", *argv])
        return 0
    # A bad setting or an unreachable database is the user's to fix: say so, no traceback.
    except ImproperlyConfigured as exc:
        print(f"配置错误: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(
            f"无法使用数据库: {first}\n请检查 DATABASE_URL 或数据库服务是否已启动。",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
