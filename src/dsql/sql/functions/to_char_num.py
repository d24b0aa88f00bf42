"""to_char(number, format): PostgreSQL's numeric templates, for int4, int8, numeric, float.

Supported patterns: 9 (digit, blank when leading), 0 (digit, zero when leading), . and D
(decimal point), , and G (group separator), S (sign, before or after the digits), MI PL SG
(minus / plus / either sign at that place), PR (negative in angle brackets), EEEE (scientific),
V (multiply by 10 per following 9), FM (no padding, no trailing zeros after the point beyond
the last 0). Other characters are copied; "quoted text" and \\x are literal. RN, TH, L and B are
not supported (0A000). The C locale: the point is '.', the group separator ','. Checked against
PostgreSQL on the usual templates (digits, one point, groups between digits, one sign pattern);
unusual ones (a group after the point, text after a point with no digits behind it, NaN and
Infinity outside EEEE) may still print differently.

    to_char_number(Decimal("-1234.5"), "9,999.9")   # '-1,234.5'
    to_char_number(5, "S9999")                       # '   +5'

Method (PostgreSQL's formatting.c, NUM_processor): the value is rounded to the number of digit
positions after the point and written out as digits; when it has more integer digits than the
template every digit position shows '#'. The template is then walked once: leading positions
before the number's first digit are blank (or '0' from the first 0 on), the sign goes right
before the first written character of the number, and so on. The walk is bounded by the
template's length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from dsql.errors import FeatureNotSupported, SqlSyntaxError

DBL_DIG = 15


@dataclass
class _Template:
    items: list[tuple[str, str]]  # (kind, text): kind in digit9 digit0 point group sign ...
    pre: int = 0  # digit positions before the point
    post: int = 0  # after it
    zero_start: int | None = None  # index of the first 0 among the integer positions
    zero_end: int = 0  # 1-based index of the last 0 among all digit positions
    fill: bool = False  # FM
    point: bool = False
    eeee: bool = False
    multi: int = 0  # 9s after V
    lsign: str | None = None  # "pre" / "post" for S
    minus: bool = False  # MI
    plus: bool = False  # PL
    sg: bool = False  # SG
    bracket: bool = False  # PR


_KEYWORDS = ["EEEE", "FM", "fm", "PR", "pr", "MI", "mi", "PL", "pl", "SG", "sg", "RN", "rn",
             "TH", "th", "9", "0", ".", ",", "D", "d", "G", "g", "S", "s", "V", "v", "L", "l",
             "B", "b"]


@lru_cache(maxsize=256)
def _compile(fmt: str) -> _Template:
    t = _Template([])
    i, n = 0, len(fmt)
    seen_digit = False
    in_v = False
    while i < n:
        if fmt[i] == '"':
            j = fmt.find('"', i + 1)
            j = n if j < 0 else j
            t.items.append(("text", fmt[i + 1:j]))
            i = j + 1
            continue
        if fmt[i] == "\\" and i + 1 < n:
            t.items.append(("text", fmt[i + 1]))
            i += 2
            continue
        kw = next((k for k in _KEYWORDS if fmt.startswith(k, i)), None)
        if kw is None:
            t.items.append(("text", fmt[i]))
            i += 1
            continue
        i += len(kw)
        k = kw.upper()
        if t.eeee:
            raise _template_error('"EEEE" must be the last pattern used')
        if t.bracket and k in ("9", "0"):
            raise _template_error('"9" must be ahead of "PR"')
        if k in ("RN", "TH", "L", "B"):
            raise FeatureNotSupported(f'to_char: the "{kw}" number template is not supported')
        if k == "FM":
            t.fill = True
        elif k in ("9", "0"):
            if in_v:
                t.multi += 1
            if not t.point:
                if k == "0" and t.zero_start is None:
                    t.zero_start = t.pre
                t.pre += 1
            else:
                t.post += 1
            if k == "0":
                t.zero_end = t.pre + t.post
            seen_digit = True
            t.items.append(("digit" + k, k))
        elif k in (".", "D"):
            if t.point:
                raise _template_error("multiple decimal points")
            if t.multi or in_v:
                raise _template_error('cannot use "V" and decimal point together')
            t.point = True
            t.items.append(("point", "."))
        elif k in (",", "G"):
            t.items.append(("group", ","))
        elif k == "S":
            for flag, name in ((t.minus, "MI"), (t.plus, "PL"), (t.sg, "SG"),
                               (t.bracket, "PR")):
                if flag:
                    raise _template_error(f'cannot use "S" and "{name}" together')
            t.lsign = "post" if seen_digit else "pre"
            t.items.append(("S", ""))
        elif k == "MI":
            _no_s(t, "MI")
            t.minus = True
            t.items.append(("MI", ""))
        elif k == "PL":
            _no_s(t, "PL")
            t.plus = True
            t.items.append(("PL", ""))
        elif k == "SG":
            _no_s(t, "SG")
            t.sg = True
            t.items.append(("SG", ""))
        elif k == "PR":
            _no_s(t, "PR")
            t.bracket = True
            t.items.append(("PR", ""))
        elif k == "EEEE":
            t.eeee = True
        elif k == "V":
            if t.point:
                raise _template_error('cannot use "V" and decimal point together')
            in_v = True
    assert i >= n
    if t.eeee and (t.fill or t.lsign or t.minus or t.plus or t.sg or t.bracket or t.multi
                   or any(kind in ("group", "text") for kind, _ in t.items)):
        raise _template_error('"EEEE" is incompatible with other formats')
    return t


def _no_s(t: _Template, name: str) -> None:
    if t.lsign is not None:
        raise _template_error(f'cannot use "S" and "{name}" together')


def _template_error(msg: str) -> SqlSyntaxError:
    return SqlSyntaxError(msg)


def _digits(value: int | float | Decimal, t: _Template) -> tuple[bool, str]:
    """(negative, |value| rounded to t.post places as 'III.FFF' or 'III')."""
    post = t.post
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            s = "NaN" if math.isnan(value) else "Infinity"
            return (value < 0, s)
        ipart = f"{abs(value):.0f}"
        if len(ipart) >= DBL_DIG:
            post = 0
        elif len(ipart) + post > DBL_DIG:
            post = DBL_DIG - len(ipart)
        text = f"{value:.{post}f}"
    elif isinstance(value, int):
        text = str(value) + ("." + "0" * post if post else "")
    else:
        if not value.is_finite():
            return (value.is_signed(), "NaN" if value.is_nan() else "Infinity")
        q = value.quantize(Decimal(1).scaleb(-post), rounding=ROUND_HALF_UP)
        if q == 0:
            q = abs(q)  # numeric has no negative zero
        text = f"{q:f}"
    neg = text.startswith("-")
    return neg, text.lstrip("-")


def _finite(value: int | float | Decimal) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return not isinstance(value, Decimal) or value.is_finite()


def _sci(value: int | float | Decimal, t: _Template) -> str:
    if not _finite(value):  # NaN, Infinity: every position '#', the sign slot blank
        return " " + "#" * t.pre + "." + "#" * (t.post + 4)
    neg = value < 0
    sign = "-" if neg else ("" if t.fill else " ")
    if isinstance(value, float):  # C's %.*e: the binary value, correctly rounded
        return sign + f"{abs(value):.{t.post}e}"
    d = abs(Decimal(value))
    exp = 0 if d == 0 else d.adjusted()
    # numeric_out_sci rounds the mantissa without renormalizing: 99.995 -> 10.00e+01
    mant = d.scaleb(-exp).quantize(Decimal(1).scaleb(-t.post), rounding=ROUND_HALF_UP)
    m = f"{mant:.{t.post}f}"
    e = f"{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return f"{sign}{m}e{e}"


def to_char_number(value: int | float | Decimal, fmt: str) -> str:
    """REQUIRES: value not NULL. The text PostgreSQL's to_char gives."""
    assert value is not None, "the caller handles NULL"
    t = _compile(fmt)
    if t.eeee:
        return _sci(value, t)
    pre = t.pre
    if t.multi:
        value = value * (10 ** t.multi)
    neg, num = _digits(value, t)
    if num == "NaN" and pre >= 3:  # NaN fits: written where the digits go, nothing after
        return ("" if t.fill else " " * (pre - 3 + 1)) + "NaN"
    ipart, dot, fpart = num.partition(".")
    pre_spaces = 0
    if ipart in ("NaN", "Infinity") or len(ipart) > pre:
        # overflow: '#' for every digit; the number string then always has its point
        ipart, fpart, dot = "#" * pre, "#" * len(fpart), "."
    else:
        pre_spaces = pre - len(ipart)
    # FM: the last fraction digit worth writing (trailing zeros go, unless a 0 asks for them)
    last_relevant: int | None = None  # count of fraction digits to keep
    if t.fill and t.point:
        keep = len(fpart.rstrip("0"))
        zero_keep = t.zero_end - pre
        last_relevant = max(keep, zero_keep, 0)
    has_zero = t.zero_start is not None
    # "0.5" in 9.99: the lone integer zero is blank (a "pre-decimal space")
    predec = not has_zero and ipart == "0" and t.post > 0
    explicit_sign = t.lsign is not None or t.minus or t.sg
    out: list[str] = []
    sign_written = False

    def default_sign() -> None:
        nonlocal sign_written
        if sign_written:
            return
        sign_written = True
        if t.lsign == "pre":
            out.append("-" if neg else "+")
        elif t.bracket:
            out.append("<" if neg else ("" if t.fill else " "))
        elif explicit_sign:
            pass
        elif neg:
            out.append("-")
        elif not t.fill:
            out.append(" ")

    num_in = False
    pos = 0  # integer digit position
    frac = 0  # fraction digit position
    after_point = False
    for kind, text in t.items:
        if kind in ("digit9", "digit0"):
            if not after_point:
                if pos < pre_spaces:
                    if has_zero and t.zero_start is not None and pos >= t.zero_start:
                        if pos == t.zero_start:
                            default_sign()
                        out.append("0")
                        num_in = True
                    elif not t.fill:
                        out.append(" ")
                else:
                    ch = ipart[pos - pre_spaces]
                    if predec:
                        if t.fill and last_relevant == 0:
                            default_sign()
                            out.append("0")
                        elif not t.fill:
                            out.append(" ")
                    else:
                        default_sign()
                        out.append(ch)
                        num_in = True
                pos += 1
            else:
                if frac < len(fpart):
                    keep = last_relevant is None or frac < last_relevant or kind == "digit0"
                    if keep:
                        out.append(fpart[frac])
                        num_in = True
                frac += 1
        elif kind == "point":
            after_point = True
            if not dot:  # the number has no point to write (PostgreSQL: nothing)
                continue
            default_sign()
            out.append(".")
        elif kind == "group":
            if num_in:
                out.append(",")
            elif not t.fill:
                out.append(" ")
        elif kind == "S":
            if t.lsign == "post":
                out.append("-" if neg else "+")
        elif kind == "MI":
            out.append("-" if neg else ("" if t.fill else " "))
        elif kind == "PL":
            out.append(" " if neg else "+")
        elif kind == "SG":
            out.append("-" if neg else "+")
        elif kind == "PR":
            default_sign()
            out.append(">" if neg else ("" if t.fill else " "))
        else:
            out.append(text)
    if not sign_written and (t.lsign == "pre"):
        default_sign()
    return "".join(out)
