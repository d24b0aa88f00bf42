"""The catalog: schemas, tables, columns, indexes; versioned in the store like data."""
