"""CREATE ROLE / CREATE USER, ALTER ROLE / ALTER USER, DROP ROLE / DROP USER.

    CREATE {ROLE|USER} name [[WITH] option ...]
    ALTER {ROLE|USER} name [WITH] option ...  |  ALTER {ROLE|USER} name RENAME TO new
    DROP {ROLE|USER} [IF EXISTS] name [, ...]
    option := LOGIN | NOLOGIN | SUPERUSER | NOSUPERUSER | CREATEROLE | NOCREATEROLE
            | CREATEDB | NOCREATEDB | INHERIT | NOINHERIT | [ENCRYPTED] PASSWORD 'x'
            | PASSWORD NULL | CONNECTION LIMIT n | VALID UNTIL 'ts'

Roles live in the catalog (dsql.catalog.roles), so a role statement is a catalog change like
DDL: one per transaction, not mixed with DML, conflicting with concurrent DDL (OC001).
Passwords are stored as SCRAM-SHA-256 verifiers, or md5 hashes when the session's
password_encryption is md5 — never in clear text. Errors are PostgreSQL's: 42710 duplicate,
42704 unknown role, 42501 when the session's role may not manage roles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from dsql.catalog.objects import Catalog
from dsql.catalog.roles import BOOTSTRAP_ROLE_OID, RoleDef, stored_password
from dsql.errors import DsqlError, FeatureNotSupported, SqlSyntaxError
from dsql.sql.plan import ExecContext, Outcome, Plan

_TOKEN = re.compile(r"""\s*(?:"((?:[^"]|"")*)"|'((?:[^']|'')*)'|([A-Za-z_][\w$]*)|(\d+)|(,))""")
_FLAGS = {"login": ("login", True), "nologin": ("login", False),
          "superuser": ("superuser", True), "nosuperuser": ("superuser", False),
          "createrole": ("createrole", True), "nocreaterole": ("createrole", False),
          "createdb": ("createdb", True), "nocreatedb": ("createdb", False)}
_IGNORED = {"inherit", "noinherit", "replication", "noreplication", "bypassrls",
            "nobypassrls"}


@dataclass
class RoleStatement:
    verb: str  # "create", "alter", "drop"
    names: list[str]
    user: bool = False  # CREATE USER: LOGIN by default
    options: dict[str, Any] = field(default_factory=dict)
    rename_to: str | None = None
    if_exists: bool = False


def is_role_command(ast: exp.Expression) -> bool:
    if not isinstance(ast, exp.Command):
        return False
    verb = str(ast.this).lower()
    rest = str(ast.expression or "").lstrip().lower()
    return verb in ("create", "alter", "drop") and rest.startswith(("role ", "user ")) \
        and not rest.startswith("user mapping")


_ROLE_COMMAND = re.compile(r"^\s*(create|alter|drop)\s+((?:role|user)\s.*?)\s*;?\s*$",
                           re.I | re.S)


def command_of(sql: str) -> exp.Command | None:
    """The statement as a Command node when it is a role statement (never handed to sqlglot,
    whose fallback warning would log the text and so the password)."""
    m = _ROLE_COMMAND.match(sql)
    if m is None or m.group(2).lower().startswith("user mapping"):
        return None
    return exp.Command(this=m.group(1).upper(), expression=m.group(2))


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value): kind is 'ident' (case-folded unless quoted), 'word', 'str', 'num', ','."""
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip().rstrip(";")
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SqlSyntaxError(f'syntax error at or near "{text[pos:].split()[0]}"')
        q, s, w, n, c = m.groups()
        if q is not None:
            out.append(("ident", q.replace('""', '"')))
        elif s is not None:
            out.append(("str", s.replace("''", "'")))
        elif w is not None:
            out.append(("word", w.lower()))
        elif n is not None:
            out.append(("num", n))
        else:
            out.append((",", ","))
        pos = m.end()
    return out


def parse(ast: exp.Command) -> RoleStatement:
    verb = str(ast.this).lower()
    toks = _tokens(str(ast.expression or ""))
    kind = toks.pop(0)[1]
    st = RoleStatement(verb, [], user=kind == "user")

    def name() -> str:
        if not toks or toks[0][0] not in ("ident", "word"):
            raise SqlSyntaxError("syntax error: a role name is expected")
        return toks.pop(0)[1]

    if verb == "drop":
        if toks[:2] == [("word", "if"), ("word", "exists")]:
            st.if_exists = True
            del toks[:2]
        st.names.append(name())
        while toks and toks[0][0] == ",":
            toks.pop(0)
            st.names.append(name())
        if toks:
            raise SqlSyntaxError(f'syntax error at or near "{toks[0][1]}"')
        return st
    st.names.append(name())
    if verb == "alter" and toks[:2] == [("word", "rename"), ("word", "to")]:
        del toks[:2]
        st.rename_to = name()
        return st
    if toks and toks[0] == ("word", "with"):
        toks.pop(0)
    while toks:
        kind_, word = toks.pop(0)
        if kind_ != "word":
            raise SqlSyntaxError(f'syntax error at or near "{word}"')
        if word in _FLAGS:
            key, value = _FLAGS[word]
            st.options[key] = value
        elif word in _IGNORED:
            continue
        elif word in ("encrypted", "unencrypted", "password"):
            if word != "password":
                if not toks or toks.pop(0) != ("word", "password"):
                    raise SqlSyntaxError(f'syntax error at or near "{word}"')
            if not toks:
                raise SqlSyntaxError("syntax error at end of input")
            k, v = toks.pop(0)
            if k == "word" and v == "null":
                st.options["password"] = None
            elif k == "str":
                st.options["password"] = v
            else:
                raise SqlSyntaxError(f'syntax error at or near "{v}"')
        elif word == "connection" and toks and toks[0] == ("word", "limit"):
            del toks[:2]
        elif word == "valid" and toks and toks[0] == ("word", "until"):
            del toks[:2]
        else:
            raise FeatureNotSupported(f"role option {word.upper()} is not supported")
    return st


def _tag(st: RoleStatement) -> str:
    return {"create": "CREATE ROLE", "alter": "ALTER ROLE", "drop": "DROP ROLE"}[st.verb]


class RolePlan(Plan):
    kind = "ddl"

    def __init__(self, st: RoleStatement) -> None:
        self.st = st
        self.tag = _tag(st)

    def execute(self, ec: ExecContext) -> Outcome:
        cat = ec.txn.catalog.copy()
        notices: list[Any] = []
        if apply(self.st, cat, ec.session, notices):
            cat.version += 1
            ec.txn.new_catalog = cat
            ec.txn.catalog = cat
        return Outcome([], self.tag, notices)


def _may_manage_roles(cat: Catalog, session: Any) -> bool:
    if not getattr(session, "authenticated", False) or not cat.roles:
        return True  # embedded use, or the bootstrap of the first role
    me = cat.roles.get(str(getattr(session, "user", "")))
    return me is not None and (me.superuser or me.createrole)


def _denied(what: str) -> DsqlError:
    return DsqlError(f"permission denied to {what} role", sqlstate="42501",
                     detail="Only roles with the SUPERUSER or CREATEROLE attribute may "
                            f"{what} roles.")


def _missing(name: str) -> DsqlError:
    return DsqlError(f'role "{name}" does not exist', sqlstate="42704")


def apply(st: RoleStatement, cat: Catalog, session: Any, notices: list[Any]) -> bool:
    """Applies the statement to `cat` (a private copy); whether it changed anything."""
    assert st.names, "a role statement names a role"
    encryption = "scram-sha-256"
    show = getattr(session, "_show", None)
    if show is not None:
        encryption = str(show("password_encryption"))
    if not _may_manage_roles(cat, session):
        me = cat.roles.get(str(getattr(session, "user", "")))
        only_own_password = (st.verb == "alter" and me is not None and st.names[0] == me.name
                             and set(st.options) <= {"password"} and st.rename_to is None)
        if not only_own_password:
            raise _denied(st.verb if st.verb != "alter" else "alter")
    if st.verb == "create":
        name = st.names[0]
        if name in cat.roles:
            raise DsqlError(f'role "{name}" already exists', sqlstate="42710")
        if name.startswith("pg_"):
            raise DsqlError(f'role name "{name}" is reserved', sqlstate="42939",
                            detail='Role names starting with "pg_" are reserved.')
        oid = BOOTSTRAP_ROLE_OID if not cat.roles else _allocate_oid(cat)
        opts = st.options
        cat.roles[name] = RoleDef(
            oid, name, superuser=bool(opts.get("superuser", False)),
            login=bool(opts.get("login", st.user)),
            createrole=bool(opts.get("createrole", False)),
            createdb=bool(opts.get("createdb", False)),
            password=stored_password(opts.get("password"), name, encryption))
        return True
    if st.verb == "alter":
        name = st.names[0]
        role = cat.roles.get(name)
        if role is None:
            raise _missing(name)
        if st.rename_to is not None:
            new = st.rename_to
            if new in cat.roles:
                raise DsqlError(f'role "{new}" already exists', sqlstate="42710")
            if name == getattr(session, "user", None) and getattr(session, "authenticated",
                                                                  False):
                raise DsqlError("session user cannot be renamed", sqlstate="0A000")
            del cat.roles[name]
            role.name = new
            if role.password is not None and role.password.startswith("md5"):
                role.password = None  # an md5 hash is salted with the name
                _notice(notices, "MD5 password cleared because of role rename")
            cat.roles[new] = role
            return True
        for key, value in st.options.items():
            if key == "password":
                role.password = stored_password(value, name, encryption)
            else:
                setattr(role, key, value)
        return True
    changed = False
    for name in st.names:
        if name not in cat.roles:
            if st.if_exists:
                _notice(notices, f'role "{name}" does not exist, skipping')
                continue
            raise _missing(name)
        if getattr(session, "authenticated", False) and name == getattr(session, "user", None):
            raise DsqlError("current user cannot be dropped", sqlstate="55006")
        del cat.roles[name]
        changed = True
    return changed


def _allocate_oid(cat: Catalog) -> int:
    from dsql.sql.system.oids import RELATION_OID_BASE
    oid = RELATION_OID_BASE + cat.allocate_id()
    assert all(r.oid != oid for r in cat.roles.values())
    return oid


def _notice(notices: list[Any], msg: str) -> None:
    n = DsqlError(msg, sqlstate="00000")
    n.severity = "NOTICE"  # type: ignore[attr-defined]
    notices.append(n)
