"""The SQL layer: values, types, casts and functions now; parser, planner and executor later."""

from dsql.sql import dialect as _dialect  # noqa: F401,E402  (sqlglot: `x::oid[]` parses)
