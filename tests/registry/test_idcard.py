"""ID numbers (GB 11643), credit codes (GB 32100), phone numbers and their masks."""

import datetime as dt

import pytest

from tests.registry.conftest import make_id
from yiwang.registry.idcard import (
    IdError,
    credit_code_parse,
    id_mask,
    id_parse,
    phone_mask,
    phone_parse,
    phones_parse,
)


def test_valid_id_derives_birth_and_gender():
    parsed = id_parse(make_id("19800101", "123"))
    assert parsed.birth_date == dt.date(1980, 1, 1)
    assert parsed.gender == "M"
    assert id_parse(make_id("19800101", "124")).gender == "F"


def test_known_real_format_with_x_check_digit():
    # 11010519491231002X is the textbook example with an X check digit.
    parsed = id_parse("11010519491231002x")
    assert parsed.number == "11010519491231002X"
    assert parsed.gender == "F"


def test_wrong_check_digit_is_rejected_with_the_right_digit():
    good = make_id()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(IdError, match=f"应为 {good[17]}"):
        id_parse(bad)


def test_impossible_birth_date():
    body = "37020319990231123"
    from yiwang.registry.idcard import id_check_digit

    with pytest.raises(IdError, match="不存在"):
        id_parse(body + id_check_digit(body))


def test_future_birth_date():
    with pytest.raises(IdError, match="不合理"):
        id_parse(make_id("20990101"), today=dt.date(2026, 1, 1))


def test_legacy_15_digit_is_upgraded():
    parsed = id_parse("370203800101123")
    assert parsed.upgraded
    assert parsed.number == make_id("19800101", "123")
    assert parsed.birth_date == dt.date(1980, 1, 1)


def test_wrong_length():
    with pytest.raises(IdError, match="18 位"):
        id_parse("3702031980")


def test_digits_of_other_scripts_and_letters_are_refused_by_name():
    # Arabic-Indic digits are digits to Python's \d, but no ID number is written in them.
    arabic = "".join(chr(0x0660 + int(c)) for c in make_id())
    for text in (arabic, make_id()[:10] + "A" + make_id()[11:]):
        with pytest.raises(IdError, match="只能由数字和末位的 X 组成"):
            id_parse(text)


def test_full_width_and_spaced_numbers_are_cleaned():
    number = make_id("19800101", "123")
    full_width = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in number)
    assert id_parse(full_width).number == number
    assert id_parse(f"{number[:6]} {number[6:14]}-{number[14:]}").number == number


def test_masks():
    assert id_mask("370203198001011234") == "3702**********1234"
    assert phone_mask("13812345678") == "138****5678"
    assert phone_mask("0532-88886666") == "0532-****6666"


def test_credit_code():
    # 91350100M000100Y43 is the GB 32100 example.
    assert credit_code_parse("91350100M000100Y43") == "91350100M000100Y43"
    with pytest.raises(IdError, match="校验位"):
        credit_code_parse("91350100M000100Y44")
    with pytest.raises(IdError, match="不允许的字符"):
        credit_code_parse("91350100M000100I43")


@pytest.mark.parametrize(
    "text, number",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0532-88886666", "0532-88886666"),
        ("053288886666", "0532-88886666"),
        ("(010)12345678", "010-12345678"),
    ],
)
def test_phone_normalised(text, number):
    assert phone_parse(text).number == number


def test_phone_bad():
    with pytest.raises(IdError):
        phone_parse("1381234")
    with pytest.raises(IdError):
        phone_parse("abc")


def test_several_phones_in_one_cell():
    assert phones_parse("13812345678、0532-88886666")[0] == ["13812345678", "0532-88886666"]
    assert phones_parse("13812345678 13912345678")[0] == ["13812345678", "13912345678"]
    assert phones_parse("138 1234 5678") == (["13812345678"], True)
