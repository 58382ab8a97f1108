"""The `yiwang` command's own subcommands, run in-process against the test database."""

import json

from tests.conftest import square
from yiwang.cli import main
from yiwang.org.models import Grid
from yiwang.org.services import api_token_user


def test_token_create_prints_key_alone_on_last_line(tree, worker_a, capsys):
    assert main(["token", "create", "worker_a", "手机"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert api_token_user(key) == worker_a


def test_token_for_unknown_user(tree, capsys):
    assert main(["token", "create", "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err


def test_import_grids_dry_run_then_commit(tree, tmp_path, capsys):
    path = tmp_path / "g.geojson"
    feature = {
        "type": "Feature",
        "properties": {
            "street": "合肥路街道",
            "community": "紫云社区",
            "code": "NEW1",
            "name": "新网格",
        },
        "geometry": square(4),
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    assert main(["import", "grids", str(path)]) == 0
    assert "试运行" in capsys.readouterr().out
    assert not Grid.objects.filter(code="NEW1").exists()
    assert main(["import", "grids", str(path), "--commit"]) == 0
    assert Grid.objects.get(code="NEW1").community == tree.community_b


def test_import_grids_with_problems_exits_nonzero(tree, tmp_path, capsys):
    path = tmp_path / "g.geojson"
    path.write_text("{broken")
    assert main(["import", "grids", str(path), "--commit"]) == 1
    out = capsys.readouterr().out
    assert "JSON" in out and "未写入任何数据" in out


def test_export_grids(tree, tmp_path):
    out = tmp_path / "grids.geojson"
    assert main(["export", "grids", "-o", str(out)]) == 0
    assert len(json.loads(out.read_text())["features"]) == 4


def test_export_buildings_xlsx(tree, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "b.xlsx"
    assert main(["export", "buildings", "-o", str(out)]) == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][0] == "道路" and len(rows) == 11  # header + the 10 buildings


def _run(*args, env=None):
    import os
    import subprocess
    import sys
    from pathlib import Path

    yiwang = Path(sys.executable).parent / "yiwang"
    return subprocess.run(
        [str(yiwang), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_wrong_database_url_is_named_not_a_traceback(tmp_path):
    for url, words in (
        ("foo://x", "DATABASE_URL"),
        ("postgresql://x", "names no database"),
        ("postgresql://postgres@127.0.0.1:1/nope", "无法使用数据库"),
    ):
        result = _run("migrate", env={"DATABASE_URL": url, "YIWANG_VAR": str(tmp_path)})
        assert result.returncode == 2, (url, result.stderr)
        assert words in result.stderr
        assert "Traceback" not in result.stderr


def test_bad_boolean_setting(tmp_path):
    result = _run("check", env={"DEBUG": "maybe", "YIWANG_VAR": str(tmp_path)})
    assert result.returncode == 2
    assert "DEBUG=maybe" in result.stderr


def test_search_rebuild_then_regram_keep_the_counts(tree, capsys):
    """`yiwang search regram` (after an upgrade) recounts from the index: the same counts as a
    rebuild, and a search's count is then one key read again."""
    from django.db import connection

    from yiwang.registry.services import resident_create
    from yiwang.search.backends import backend
    from yiwang.search.text import GRAM_MAX

    resident_create(actor=None, name="赵紫云", address="伊春路168号紫云台小区2号楼1单元301室")
    resident_create(actor=None, name="钱紫云", address="伊春路168号紫云台小区3号楼1单元101室")
    assert main(["search", "rebuild"]) == 0

    def counts():
        with connection.cursor() as c:
            c.execute("SELECT gram, scope, n FROM search_gram ORDER BY gram, scope")
            return c.fetchall()

    rebuilt = counts()
    engine = backend()
    assert engine.gram_count("紫云台小区", "r") == 2
    engine.gram_mark(4)  # as an install from before the counts grew
    assert engine.gram_count("紫云台小区", "r") is None  # the engine counts meanwhile
    assert main(["search", "regram"]) == 0
    assert "已统计" in capsys.readouterr().out
    assert counts() == rebuilt and engine.gram_count("紫云台小区", "r") == 2
    assert ("", "max", GRAM_MAX) in counts()
