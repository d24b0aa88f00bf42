"""Errors that carry a PostgreSQL SQLSTATE.

Every error dsql raises to a user is a DsqlError with a five-character ``sqlstate``; the wire
layer turns it into an ErrorResponse unchanged, and the DB-API layer maps it onto the PEP 249
hierarchy. Components add subclasses here as they need them.
"""

from __future__ import annotations


class DsqlError(Exception):
    """Base class: a message and the SQLSTATE a PostgreSQL client expects for it."""

    sqlstate: str = "XX000"  # internal_error

    def __init__(self, message: str, *, sqlstate: str | None = None, detail: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if sqlstate is not None:
            if len(sqlstate) != 5:
                raise ValueError(f"a SQLSTATE has five characters, not {sqlstate!r}")
            self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint


class ConfigurationError(DsqlError):
    """A setting or command-line option is invalid."""

    sqlstate = "F0000"  # config_file_error


# -- Class 22: data exceptions (bad values, out-of-range results) ------------------------------

class DataException(DsqlError):
    """A value is malformed or out of range (SQLSTATE class 22)."""

    sqlstate = "22000"  # data_exception


class StringDataRightTruncation(DataException):
    sqlstate = "22001"  # string_data_right_truncation


class NumericValueOutOfRange(DataException):
    sqlstate = "22003"  # numeric_value_out_of_range


class NullValueNotAllowed(DataException):
    sqlstate = "22004"  # null_value_not_allowed


class InvalidDatetimeFormat(DataException):
    sqlstate = "22007"  # invalid_datetime_format


class DatetimeFieldOverflow(DataException):
    sqlstate = "22008"  # datetime_field_overflow (also "timestamp out of range")


class InvalidTimeZoneDisplacementValue(DataException):
    sqlstate = "22009"  # invalid_time_zone_displacement_value


class SubstringError(DataException):
    sqlstate = "22011"  # substring_error


class DivisionByZero(DataException):
    sqlstate = "22012"  # division_by_zero


class IntervalFieldOverflow(DataException):
    sqlstate = "22015"  # interval_field_overflow


class InvalidEscapeCharacter(DataException):
    sqlstate = "22019"  # invalid_escape_character


class CharacterNotInRepertoire(DataException):
    sqlstate = "22021"  # character_not_in_repertoire


class InvalidParameterValue(DataException):
    sqlstate = "22023"  # invalid_parameter_value


class InvalidEscapeSequence(DataException):
    sqlstate = "22025"  # invalid_escape_sequence


class InvalidArgumentForLogarithm(DataException):
    sqlstate = "2201E"  # invalid_argument_for_logarithm


class InvalidArgumentForPowerFunction(DataException):
    sqlstate = "2201F"  # invalid_argument_for_power_function


class InvalidRegularExpression(DataException):
    sqlstate = "2201B"  # invalid_regular_expression


class InvalidTextRepresentation(DataException):
    sqlstate = "22P02"  # invalid_text_representation


class InvalidBinaryRepresentation(DataException):
    sqlstate = "22P03"  # invalid_binary_representation


class UntranslatableCharacter(DataException):
    sqlstate = "22P05"  # untranslatable_character


# -- Class 0A, 42, 54: unsupported features, bad statements, limits ---------------------------

class FeatureNotSupported(DsqlError):
    sqlstate = "0A000"  # feature_not_supported


class SyntaxErrorOrAccessRuleViolation(DsqlError):
    """The statement is wrong: bad syntax, unknown names, type errors (SQLSTATE class 42)."""

    sqlstate = "42000"


class SqlSyntaxError(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42601"  # syntax_error


class UndefinedObject(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42704"  # undefined_object (e.g. type "foo" does not exist)


class AmbiguousFunction(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42725"  # ambiguous_function


class DatatypeMismatch(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42804"  # datatype_mismatch


class CannotCoerce(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42846"  # cannot_coerce


class UndefinedFunction(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42883"  # undefined_function


class ProgramLimitExceeded(DsqlError):
    sqlstate = "54000"  # program_limit_exceeded
