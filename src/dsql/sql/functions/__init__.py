"""SQL functions and operators over dsql values; `catalog` maps names and types to them."""
