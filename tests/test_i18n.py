"""The English catalogue: pages switch to English by header, by the language switch or by its
cookie; Chinese stays the default; and the committed .po is complete, unfuzzy, keeps every
placeholder, and matches the compiled .mo."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real

from tests.conftest import login

PO = Path(__file__).resolve().parents[1] / "src" / "yiwang" / "locale" / "en" / "LC_MESSAGES"

# %(name)s, %(h).1f, %s, %d … and str.format's {name}.
PYTHON_FORMAT = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")
BRACE_FORMAT = re.compile(r"\{[^{}]*\}")


def parse_po(path: Path) -> list[dict]:
    """A tiny .po reader: msgctxt/msgid/msgid_plural/msgstr[n], flags; obsolete (#~) skipped."""
    entries: list[dict] = []
    entry: dict | None = None
    key: tuple[str, int] | None = None

    def finish():
        nonlocal entry
        if entry is not None and "msgid" in entry:
            entries.append(entry)
        entry = None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
        if match:
            name, index, value = match.group(1), match.group(2), ast.literal_eval(match.group(3))
            if name == "msgstr":
                key = ("msgstr", int(index or 0))
                entry["msgstr"][key[1]] = value
            else:
                key = (name, 0)
                entry[name] = value
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key[0] == "msgstr":
                entry["msgstr"][key[1]] += value
            else:
                entry[key[0]] += value
    finish()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[dict]:
    path = PO / "django.po"
    assert path.exists(), f"{path} is missing: run makemessages -l en in src/yiwang"
    entries = parse_po(path)
    assert entries and entries[0]["msgid"] == "", "the .po has no header"
    return entries[1:]


# The catalogue itself ---------------------------------------------------------------------------


def test_every_msgid_has_an_english_msgstr(po_entries):
    assert len(po_entries) > 100
    empty = [e["msgid"] for e in po_entries if not all(v.strip() for v in e["msgstr"].values())]
    assert not empty, f"untranslated in en/django.po: {empty}"


def test_no_fuzzy_entries(po_entries):
    fuzzy = [e["msgid"] for e in po_entries if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy (ignored by msgfmt) in en/django.po: {fuzzy}"


def test_plural_entries_have_two_english_forms(po_entries):
    for e in po_entries:
        if "msgid_plural" in e:
            assert sorted(e["msgstr"]) == [0, 1], e["msgid"]


def test_placeholders_are_kept(po_entries):
    for e in po_entries:
        for msgstr in e["msgstr"].values():
            if "python-format" in e["flags"]:
                assert sorted(PYTHON_FORMAT.findall(e["msgid"])) == sorted(
                    PYTHON_FORMAT.findall(msgstr)
                ), (e["msgid"], msgstr)
            if "python-brace-format" in e["flags"]:
                assert sorted(BRACE_FORMAT.findall(e["msgid"])) == sorted(
                    BRACE_FORMAT.findall(msgstr)
                ), (e["msgid"], msgstr)


def test_compiled_catalogue_matches_the_po(po_entries):
    """The committed .mo is what Django reads: every .po message is in it, none empty."""
    catalog = trans_real.translation("en")._catalog
    missing = []
    for e in po_entries:
        msgid = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        if "msgid_plural" in e:
            if not catalog.get((msgid, 0)) or not catalog.get((msgid, 1)):
                missing.append(msgid)
        elif not catalog.get(msgid):
            missing.append(msgid)
    assert not missing, f"in django.po but not in django.mo (run compilemessages): {missing}"


def test_gettext_in_english():
    with translation.override("en"):
        assert translation.gettext("网格员") == "Grid worker"
        assert translation.gettext("办结率") == "Completion rate"
        assert translation.gettext("回音壁") == "Reply wall"
        assert translation.ngettext("共 %(n)s 人", "共 %(n)s 人", 1) % {"n": 1} == "1 person"
        assert translation.ngettext("共 %(n)s 人", "共 %(n)s 人", 3) % {"n": 3} == "3 people"
    with translation.override("zh-hans"):
        assert translation.gettext("网格员") == "网格员"


def test_model_choices_follow_the_language():
    from yiwang.cases.states import Mode, State

    with translation.override("en"):
        assert str(State.CLOSED.label) == "Closed"
        assert str(Mode.IMMEDIATE.label) == "On the spot"
    with translation.override("zh-hans"):
        assert str(State.CLOSED.label) == "已办结"


# Pages ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_in_english_by_accept_language(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    for text in ("Sign in to Yiwang", "Username", "Password", "Sign in"):
        assert text in html
    assert "用户名" not in html and "密码" not in html
    labels = [item["label"] for item in response.context["nav_items"]]
    assert labels == ["Report a problem", "Reply wall", "Open calls"]


@pytest.mark.django_db
def test_login_page_in_english_after_the_language_switch(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get("/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Username" in html and "Password" in html


@pytest.mark.django_db
def test_login_error_in_english(client, worker_a):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/login/", {"username": "worker_a", "password": "wrong"})
    assert "Incorrect username or password" in response.content.decode()


@pytest.mark.django_db
def test_map_navigation_in_english_for_a_leader(client, leader):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = login(client, leader).get("/map/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    labels = {item["key"]: item["label"] for item in response.context["nav_items"]}
    assert labels["map"] == "Map"
    assert labels["queue"] == "My queue"
    assert labels["wall"] == "Reply wall"
    for label in labels.values():
        assert not re.search(r"[\u4e00-\u9fff]", str(label)), label
        assert f">{label}</a>" in html
    assert "Sign out" in html and "Grid map" in html
    strings = response.context["map_config"]["strings"]
    assert strings["legend"] == "Street legend"
    assert strings["grid_count"] == "{n} grids"
    assert not [v for v in strings.values() if re.search(r"[\u4e00-\u9fff]", str(v))]


@pytest.mark.django_db
def test_chinese_is_the_default_without_a_header(client, leader):
    html = client.get("/login/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "用户名" in html and "Username" not in html
    response = login(client, leader).get("/map/")
    labels = [str(item["label"]) for item in response.context["nav_items"]]
    assert "地图" in labels and "Map" not in labels
