"""PostgreSQL value types: text input and output, typmods, arithmetic, comparison.

One module per type family; `registry` ties them into SqlType objects (name, OID, typmod,
input and output functions) that the binder, the executor and the wire layer share.

Python representation of SQL values (None is SQL NULL everywhere):

=============================  ====================================================
boolean                        bool
smallint, integer, bigint      int
real, double precision         float (real values are rounded to single precision)
numeric                        decimal.Decimal, exponent <= 0 (the scale), no -0;
                               Decimal('NaN'), Decimal('Infinity'), Decimal('-Infinity')
text, varchar(n), char(n)      str (char(n) keeps its padding spaces)
bytea                          bytes
date                           datetime.date, or datetime.INFINITY / NEG_INFINITY
time                           datetime.time
timestamp                      naive datetime.datetime, or the infinity sentinels
timestamptz                    UTC-aware datetime.datetime, or the infinity sentinels
interval                       dsql.storage.interval.Interval(months, days, microseconds)
uuid                           uuid.UUID
json                           str: the validated input text, kept verbatim (as PostgreSQL)
jsonb                          parsed value: dict (keys in jsonb order), list, str,
                               int / Decimal, bool, json.JSON_NULL
=============================  ====================================================
"""
