"""Checks for the identifiers staff type in: resident ID numbers (GB 11643), unified social
credit codes (GB 32100) and phone numbers, and the masks shown in their place.

Pure Python, no Django import: the importer calls these a million times, and the messages are
plain Chinese strings that the callers pass through gettext where they reach a page."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from operator import mul
from typing import NamedTuple

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_OFFSET = 48 * sum(_ID_WEIGHTS)
# ASCII digits only: \d would also take other scripts' digits, which the check digit cannot.
_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_ID15 = re.compile(r"[0-9]{15}")
# Full-width digits and letters, spaces and dashes pasted from documents.
_ID_JUNK = str.maketrans({" ": "", "-": "", "\u3000": "", "x": "X", "ｘ": "X", "Ｘ": "X"})
_FULLWIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)})


class IdError(ValueError):
    """A bad identifier; the message is Chinese and says what is wrong."""


class IdNumber(NamedTuple):
    # A named tuple: the importer makes a million, and a frozen dataclass takes four times
    # as long to make.
    number: str  # 18 characters, check digit upper-case
    birth_date: dt.date
    gender: str  # "M" / "F"
    upgraded: bool = False  # given as a legacy 15-digit number


def id_check_digit(first17: str) -> str:
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    # Over the ASCII codes: each digit is its code less 48 (the importer's hot path).
    total = sum(map(mul, first17.encode(), _ID_WEIGHTS)) - _ID_OFFSET
    return _ID_CHECK[total % 11]


def id_parse(text: str, *, today: dt.date | None = None) -> IdNumber:
    """Validates an ID number and derives birth date and gender from it. A 15-digit legacy
    number (born 19xx, no check digit) is upgraded to 18 digits."""
    # Most numbers come clean: 17 digits and a digit or X.
    text = text or ""
    raw = text if _ID18.fullmatch(text) else text.translate(_FULLWIDTH).translate(_ID_JUNK).upper()
    if not raw:
        raise IdError("身份证号为空")
    upgraded = False
    if _ID15.fullmatch(raw):
        body = raw[:6] + "19" + raw[6:]
        raw = body + id_check_digit(body)
        upgraded = True
    elif not _ID18.fullmatch(raw):
        if len(raw) in (15, 18):
            raise IdError("身份证号只能由数字和末位的 X 组成")
        raise IdError(f"身份证号应为 18 位 (或旧版 15 位),收到 {len(raw)} 位")
    elif id_check_digit(raw[:17]) != raw[17]:
        raise IdError(f"身份证号校验位错误 (应为 {id_check_digit(raw[:17])})")
    try:
        birth = dt.date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        raise IdError(f"身份证号中的出生日期 {raw[6:14]} 不存在") from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise IdError(f"身份证号中的出生日期 {birth.isoformat()} 不合理")
    gender = "M" if int(raw[16]) % 2 else "F"
    return IdNumber(raw, birth, gender, upgraded)


def id_mask(number: str) -> str:
    """`3702**********1234`: the first four (province and city) and the last four."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# -- unified social credit code ---------------------------------------------------------------

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code_parse(text: str) -> str:
    code = (text or "").translate(_FULLWIDTH).replace(" ", "").upper()
    if len(code) != 18:
        raise IdError(f"统一社会信用代码应为 18 位,收到 {len(code)} 位")
    if not _CREDIT_RE.match(code):
        raise IdError("统一社会信用代码含有不允许的字符 (不含 I、O、S、V、Z)")
    if credit_check_char(code[:17]) != code[17]:
        raise IdError(f"统一社会信用代码校验位错误 (应为 {credit_check_char(code[:17])})")
    return code


# -- phone numbers ---------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3})?[2-9]\d{6,7}$")


@dataclass(frozen=True)
class Phone:
    number: str
    normalised: bool  # the text differed from the number (spaces, +86, dashes)


def phone_parse(text: str) -> Phone:
    """One phone number: mobile (11 digits) or landline (area code optional). Spaces, dashes,
    brackets and a +86 / 0086 prefix are removed, since they never change the number."""
    raw = (text or "").translate(_FULLWIDTH).strip()
    digits = re.sub(r"[\s\-()()\u3000.]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits.isdigit():
        raise IdError(f"电话号码 {raw} 含有非数字字符")
    if _MOBILE.match(digits):
        return Phone(digits, digits != raw)
    if _LANDLINE.match(digits):
        # Keep the area code visible as people write it: 0532-88886666.
        if digits.startswith("0"):
            # Beijing 010 and the 02x cities have three-digit area codes, the rest four.
            area = 3 if digits[1] in "12" else 4
            number = f"{digits[:area]}-{digits[area:]}"
        else:
            number = digits
        return Phone(number, number != raw)
    raise IdError(f"电话号码 {raw} 位数不对 (手机 11 位,座机 7–8 位加区号)")


def phones_parse(text: str) -> tuple[list[str], bool]:
    """Several numbers in one cell, separated by 、 , ; / or spaces between numbers."""
    text = (text or "").strip()
    if not text:
        return [], False
    parts = [p for p in re.split(r"[;;,,、/]", text) if p.strip()]
    if len(parts) == 1 and " " in text.strip():
        # "138 0013 8000" is one number; "13800138000 13900139000" is two.
        chunks = text.split()
        if all(len(re.sub(r"\D", "", c)) >= 7 for c in chunks) and len(chunks) > 1:
            parts = chunks
    out, normalised = [], False
    for part in parts:
        phone = phone_parse(part)
        normalised = normalised or phone.normalised
        if phone.number not in out:
            out.append(phone.number)
    return out, normalised


def phone_mask(number: str) -> str:
    """`138****5678` for a mobile; a landline keeps its area code and last four."""
    if not number:
        return ""
    if len(number) == 11 and number.isdigit():
        return number[:3] + "****" + number[-4:]
    if "-" in number:
        area, rest = number.split("-", 1)
        return f"{area}-" + "*" * max(len(rest) - 4, 0) + rest[-4:]
    return "*" * max(len(number) - 4, 0) + number[-4:]
