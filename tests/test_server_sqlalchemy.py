"""SQLAlchemy 2 with the psycopg driver against `dsql serve`.

Goal: an application written for PostgreSQL with SQLAlchemy works unchanged: engine connect
(the dialect's version / hstore probes), metadata.create_all (its has_table catalog query),
ORM add / query / update / delete, and the inspector's reflection queries (pg_catalog joins,
unnest / generate_subscripts in the select list, array_agg ... ORDER BY, correlated
subqueries). Method: a real `dsql serve` (engine_serve.py), `postgresql+psycopg://` URL.
"""

from __future__ import annotations

import pytest

sa = pytest.importorskip("sqlalchemy")
orm = pytest.importorskip("sqlalchemy.orm")

from engine_serve import ADMIN, PASSWORD, EngineServer, engine_server  # noqa: E402,F401


class Base(orm.DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(50), unique=True)
    score: orm.Mapped[float | None]
    team: orm.Mapped[str | None] = orm.mapped_column(sa.Text, index=True,
                                                     server_default="red")


def _engine(srv: EngineServer) -> sa.Engine:
    return sa.create_engine(f"postgresql+psycopg://{ADMIN}:{PASSWORD}@{srv.host}:{srv.port}"
                            "/dsql")


def test_orm_round_trip(engine_server: EngineServer) -> None:  # noqa: F811
    eng = _engine(engine_server)
    try:
        # Aurora DSQL: one DDL statement per transaction, so DDL runs in autocommit mode
        ddl = eng.execution_options(isolation_level="AUTOCOMMIT")
        Base.metadata.create_all(ddl)
        Base.metadata.create_all(ddl)  # has_table: the second call creates nothing
        with orm.Session(eng) as s:
            s.add_all([User(id=1, name="ann", score=1.5), User(id=2, name="bo")])
            s.commit()
            u = s.get(User, 1)
            assert u is not None and u.team == "red"
            u.score = 3.0
            s.commit()
            rows = s.scalars(sa.select(User).where(User.score > 2).order_by(User.id)).all()
            assert [(r.id, r.name, r.score) for r in rows] == [(1, "ann", 3.0)]
            s.delete(s.get(User, 2))
            s.commit()
            assert s.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    finally:
        eng.dispose()


def test_inspector_reflection(engine_server: EngineServer) -> None:  # noqa: F811
    eng = _engine(engine_server)
    try:
        Base.metadata.create_all(eng.execution_options(isolation_level="AUTOCOMMIT"))
        insp = sa.inspect(eng)
        assert "users" in insp.get_table_names()
        assert "public" in insp.get_schema_names()
        cols = insp.get_columns("users")
        assert [(c["name"], str(c["type"]), c["nullable"]) for c in cols] == [
            ("id", "INTEGER", False), ("name", "VARCHAR(50)", False),
            ("score", "DOUBLE PRECISION", True), ("team", "TEXT", True)]
        assert cols[3]["default"] == "'red'"
        pk = insp.get_pk_constraint("users")
        assert (pk["name"], pk["constrained_columns"]) == ("users_pkey", ["id"])
        idx = {i["name"]: (i["column_names"], i["unique"]) for i in insp.get_indexes("users")}
        assert idx["ix_users_team"] == (["team"], False)
        uq = insp.get_unique_constraints("users")
        assert [(u["name"], u["column_names"]) for u in uq] == [("users_name_key", ["name"])]
        assert insp.get_foreign_keys("users") == []
        t = sa.Table("users", sa.MetaData(), autoload_with=eng)
        assert [c.name for c in t.columns] == ["id", "name", "score", "team"]
        assert [c.name for c in t.primary_key.columns] == ["id"]
    finally:
        eng.dispose()
