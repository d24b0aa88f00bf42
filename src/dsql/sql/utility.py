"""The utility dispatcher: transaction control and settings, recognised before sqlglot.

`classify(sql)` returns (kind, details) for BEGIN / START TRANSACTION, COMMIT / END,
ROLLBACK / ABORT, SET, SET TRANSACTION, SHOW, RESET, SAVEPOINT / RELEASE, or None for
statements that go to the parser.
"""

from __future__ import annotations

import re

from dsql.errors import FeatureNotSupported, SqlSyntaxError

_LEAD = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*", re.S)
_WORD = re.compile(r"[A-Za-z_]+")
_BEGIN = re.compile(r"^(?:begin|start\s+transaction)(?:\s+(?:work|transaction))?(?P<rest>.*)$",
                    re.I | re.S)
_MODES = re.compile(r"(isolation\s+level\s+(?P<iso>serializable|repeatable\s+read|read\s+"
                    r"committed|read\s+uncommitted))|(?P<ro>read\s+only)|(?P<rw>read\s+write)|"
                    r"(?P<def>(?:not\s+)?deferrable)|,", re.I)
_SET = re.compile(r"^set\s+(?:(?P<scope>session|local)\s+)?(?P<name>[A-Za-z_][\w.]*)\s*"
                  r"(?:=|\s+to\s+|\s+)(?P<value>.*)$", re.I | re.S)
_SET_TZ = re.compile(r"^set\s+(?:(?:session|local)\s+)?time\s+zone\s+(?P<value>.*)$",
                     re.I | re.S)
_SET_TXN = re.compile(r"^set\s+(?:session\s+characteristics\s+as\s+)?transaction\s+(?P<rest>.*)$",
                      re.I | re.S)
_SHOW = re.compile(r"^show\s+(?P<name>[A-Za-z_][\w.]*|all|time\s+zone|transaction\s+"
                   r"isolation\s+level)\s*$", re.I | re.S)
_RESET = re.compile(r"^reset\s+(?P<name>[A-Za-z_][\w.]*|all)\s*$", re.I | re.S)


def _strip(sql: str) -> str:
    s = _LEAD.sub("", sql, count=1).strip()
    while s.endswith(";"):
        s = s[:-1].rstrip()
    return s


def parse_modes(rest: str) -> dict[str, object]:
    """Transaction modes: {'read_only': bool | None, 'isolation': str | None}."""
    out: dict[str, object] = {"read_only": None, "isolation": None}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
        if pos >= len(rest):
            break
        m = _MODES.match(rest, pos)
        if m is None:
            raise SqlSyntaxError(f'syntax error at or near "{rest[pos:].split()[0]}"')
        if m.group("iso"):
            iso = " ".join(m.group("iso").lower().split())
            if iso != "repeatable read":
                raise FeatureNotSupported(
                    f"unsupported transaction isolation level: {iso.upper()}; Aurora DSQL "
                    "supports only REPEATABLE READ")
            out["isolation"] = iso
        elif m.group("ro"):
            out["read_only"] = True
        elif m.group("rw"):
            out["read_only"] = False
        pos = m.end()
    return out


def _unquote(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == "'" and v[-1] == "'":
        return v[1:-1].replace("''", "'")
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return v[1:-1]
    return v


def classify(sql: str) -> tuple[str, dict[str, object]] | None:
    s = _strip(sql)
    m = _WORD.match(s)
    if m is None:
        return ("empty", {}) if not s else None
    w = m.group(0).lower()
    if w in ("begin", "start"):
        bm = _BEGIN.match(s)
        if bm is None:
            return None
        return "begin", parse_modes(bm.group("rest"))
    if w in ("commit", "end"):
        if re.match(r"^(commit|end)(\s+(work|transaction))?$", s, re.I):
            return "commit", {}
        if re.match(r"^commit\s+prepared", s, re.I):
            raise FeatureNotSupported("two-phase commit is not supported")
        return None
    if w in ("rollback", "abort"):
        if re.match(r"^(rollback|abort)(\s+(work|transaction))?$", s, re.I):
            return "rollback", {}
        rm = re.match(r"^rollback(?:\s+(?:work|transaction))?\s+to\s+(?:savepoint\s+)?"
                      r"(\S+)$", s, re.I)
        if rm is None:
            raise SqlSyntaxError(f'syntax error at or near "{s.split()[-1]}"')
        return "rollback_to", {"name": _savepoint_name(rm.group(1))}
    if w in ("savepoint", "release"):
        sm = re.match(r"^(?:savepoint|release(?:\s+savepoint)?)\s+(\S+)$", s, re.I)
        if sm is None:
            raise SqlSyntaxError(f'syntax error at or near "{w.upper()}"')
        return w, {"name": _savepoint_name(sm.group(1))}
    if w == "set":
        tm = _SET_TXN.match(s)
        if tm is not None:
            return "set_transaction", {**parse_modes(tm.group("rest")),
                                       "session": "characteristics" in s.lower()}
        zm = _SET_TZ.match(s)
        if zm is not None:
            return "set", {"name": "TimeZone", "value": _set_value(zm.group("value")),
                           "local": False}
        sm = _SET.match(s)
        if sm is None:
            raise SqlSyntaxError("syntax error at or near \"SET\"")
        return "set", {"name": sm.group("name"), "value": _set_value(sm.group("value")),
                       "local": (sm.group("scope") or "").lower() == "local"}
    if w == "show":
        sh = _SHOW.match(s)
        if sh is None:
            raise SqlSyntaxError("syntax error at or near \"SHOW\"")
        name = " ".join(sh.group("name").lower().split())
        name = {"time zone": "TimeZone",
                "transaction isolation level": "transaction_isolation"}.get(name, name)
        return "show", {"name": name}
    if w == "reset":
        rm = _RESET.match(s)
        if rm is None:
            raise SqlSyntaxError("syntax error at or near \"RESET\"")
        return "reset", {"name": rm.group("name")}
    return None


def _savepoint_name(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token.lower()


def _set_value(v: str) -> str | None:
    v = v.strip()
    if v.lower() in ("default", "local"):
        return None
    parts = [p.strip() for p in v.split(",")] if "'" not in v else [v]
    return ", ".join(_unquote(p) for p in parts)


def split_statements(sql: str) -> list[str]:
    """Splits a script at top-level semicolons (quotes, dollar quotes and comments aware)."""
    out, buf, i, n = [], [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'" or c == '"':
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            buf.append(sql[i:j + 1])
            i = j + 1
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            buf.append(sql[i:j])
            i = j
        elif c == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            buf.append(sql[i:j])
            i = j
        elif c == "$":
            m = re.match(r"\$([A-Za-z_]\w*)?\$", sql[i:])
            if m:
                tag = m.group(0)
                j = sql.find(tag, i + len(tag))
                j = n if j < 0 else j + len(tag)
                buf.append(sql[i:j])
                i = j
            else:
                buf.append(c)
                i += 1
        elif c == ";":
            stmt = "".join(buf).strip()
            if stmt:
                out.append(stmt)
            buf = []
            i += 1
        else:
            buf.append(c)
            i += 1
    stmt = "".join(buf).strip()
    if stmt and _strip(stmt):
        out.append(stmt)
    return out
