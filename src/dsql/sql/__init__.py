"""The SQL layer: values, types, casts and functions now; parser, planner and executor later."""
