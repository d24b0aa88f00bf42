"""Seeded generators of tables, data and queries for the SQL differential test.

Goal: random but reproducible workloads that dsql and PostgreSQL 15 must answer identically.
Method: `schema.gen_schema(Random(f"{seed}:schema"))` draws 2-4 tables with typed columns,
primary keys (sometimes composite), secondary indexes and rows (NULLs, duplicates, negative
and extreme values); `queries.gen_case(schema, Random(f"{seed}:q{i}"))` draws case i on its
own random stream, so any case can be replayed alone; `runner` executes a case on both
engines and compares the outcomes (rows as PostgreSQL text output, or SQLSTATEs).
"""
