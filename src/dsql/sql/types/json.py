"""json and jsonb: input validation, jsonb's canonical form and output, ordering, operators.

json values are the validated input text, kept verbatim (PostgreSQL stores json as text: key
order, duplicate keys and whitespace survive). jsonb values are parsed Python values:

  object  dict whose keys are in jsonb storage order (shorter first, then bytewise); a
          duplicate key keeps its last value
  array   list
  string  str
  number  int, or Decimal in numeric form ('1.0' stays 1.0, '1e2' becomes 100)
  boolean bool
  null    JSON_NULL (never Python None, which is SQL NULL)

Output of jsonb: '{"a": 1, "b": [1, 2]}' (", " and ": " separators, PostgreSQL's escaping).
Comparison follows jsonb's btree order (object > array > boolean > number > string > null,
then size, then contents) and never confuses true with 1, as Python's == would.
"""

from __future__ import annotations

import json as _json
import re
from decimal import Decimal
from typing import Any

from dsql.errors import InvalidParameterValue, InvalidTextRepresentation, UntranslatableCharacter
from dsql.sql.types.numeric import numeric_cmp, numeric_in, numeric_out


class JsonNull:
    """The JSON literal null inside a json/jsonb value (distinct from SQL NULL)."""

    __slots__ = ()
    _instance: JsonNull | None = None

    def __new__(cls) -> JsonNull:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "JSON_NULL"

    def __reduce__(self) -> str:
        return "JSON_NULL"


JSON_NULL: Any = JsonNull()


def _syntax_error() -> InvalidTextRepresentation:
    return InvalidTextRepresentation("invalid input syntax for type json")


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _key_order(k: str) -> tuple[int, bytes]:
    b = k.encode()
    return (len(b), b)


def _make_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) > 1:
        return {k: d[k] for k in sorted(d, key=_key_order)}
    return d


def _parse_int(s: str) -> Any:
    return int(s) if len(s) < 4000 else numeric_in(s)


_VALIDATOR = _json.JSONDecoder(parse_float=lambda s: None, parse_int=lambda s: None,
                               parse_constant=_reject_constant, strict=True)
_JSONB_DECODER = _json.JSONDecoder(object_pairs_hook=_make_object, parse_float=numeric_in,
                                   parse_int=_parse_int, parse_constant=_reject_constant,
                                   strict=True)


def json_in(text: str) -> str:
    """Validates JSON text and returns it unchanged (the json type keeps its input)."""
    try:
        _VALIDATOR.decode(text)
    except (ValueError, RecursionError):
        raise _syntax_error() from None
    return text


def json_out(value: str) -> str:
    return value


def _check_strings(v: Any) -> None:
    """jsonb rejects \\u0000 and unpaired surrogates that JSON escapes can produce."""
    if isinstance(v, str):
        for ch in v:
            o = ord(ch)
            if o == 0:
                raise UntranslatableCharacter("unsupported Unicode escape sequence",
                                              detail="\\u0000 cannot be converted to text.")
            if 0xD800 <= o <= 0xDFFF:
                raise _syntax_error()
    elif isinstance(v, dict):
        for k, x in v.items():
            _check_strings(k)
            _check_strings(x)
    elif isinstance(v, list):
        for x in v:
            _check_strings(x)


def _nulls(v: Any) -> Any:
    if v is None:
        return JSON_NULL
    if isinstance(v, dict):
        for k, x in v.items():
            if x is None or isinstance(x, (dict, list)):
                v[k] = _nulls(x)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            if x is None or isinstance(x, (dict, list)):
                v[i] = _nulls(x)
    return v


def jsonb_in(text: str) -> Any:
    """Parses JSON text into jsonb's canonical Python value."""
    try:
        v = _JSONB_DECODER.decode(text)
    except (ValueError, RecursionError):
        raise _syntax_error() from None
    if "\\u" in text:
        _check_strings(v)
    return _nulls(v)


# -- output ------------------------------------------------------------------------------------

_ESCAPES = {i: f"\\u{i:04x}" for i in range(32)}
_ESCAPES.update({8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 34: '\\"', 92: "\\\\"})


def escape_json(s: str) -> str:
    """A JSON string literal, escaped as PostgreSQL does (non-ASCII kept as is)."""
    return '"' + s.translate(_ESCAPES) + '"'


def jsonb_out(v: Any) -> str:
    if isinstance(v, str):
        return escape_json(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is JSON_NULL:
        return "null"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Decimal):
        return numeric_out(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{escape_json(k)}: {jsonb_out(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(jsonb_out(x) for x in v) + "]"
    raise TypeError(f"not a jsonb value: {v!r}")


def json_to_jsonb(text: str) -> Any:
    return jsonb_in(text)


def jsonb_to_json(v: Any) -> str:
    return jsonb_out(v)


# -- typing and ordering -----------------------------------------------------------------------

# jsonb value kinds in their sort order (JsonbValue type enum)
K_NULL, K_STRING, K_NUMBER, K_BOOL, K_ARRAY, K_OBJECT = range(6)


def kind(v: Any) -> int:
    if isinstance(v, str):
        return K_STRING
    if v is True or v is False:
        return K_BOOL
    if isinstance(v, (int, Decimal)):
        return K_NUMBER
    if isinstance(v, dict):
        return K_OBJECT
    if isinstance(v, list):
        return K_ARRAY
    assert v is JSON_NULL, v
    return K_NULL


_TYPE_NAMES = {K_NULL: "null", K_STRING: "string", K_NUMBER: "number", K_BOOL: "boolean",
               K_ARRAY: "array", K_OBJECT: "object"}


def jsonb_typeof(v: Any) -> str:
    return _TYPE_NAMES[kind(v)]


def _num(v: Any) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(v)


def _cmp_scalar(a: Any, b: Any, ka: int) -> int:
    if ka == K_NULL:
        return 0
    if ka == K_STRING:
        return -1 if a < b else (1 if a > b else 0)
    if ka == K_NUMBER:
        if type(a) is int and type(b) is int:
            return -1 if a < b else (1 if a > b else 0)
        return numeric_cmp(_num(a), _num(b))
    return (a > b) - (a < b)  # booleans: false < true


def _cmp_value(a: Any, b: Any) -> int:
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return 1 if ka > kb else -1
    if ka == K_ARRAY:
        return _cmp_array(a, b, False, False)
    if ka == K_OBJECT:
        return _cmp_object(a, b)
    return _cmp_scalar(a, b, ka)


def _cmp_array(a: list[Any], b: list[Any], raw_a: bool, raw_b: bool) -> int:
    res = 0
    if raw_a != raw_b:
        res = -1 if raw_a else 1
    if len(a) != len(b):
        res = 1 if len(a) > len(b) else -1
    if res:
        return res
    for x, y in zip(a, b, strict=True):
        r = _cmp_value(x, y)
        if r:
            return r
    return 0


def _cmp_object(a: dict[str, Any], b: dict[str, Any]) -> int:
    if len(a) != len(b):
        return 1 if len(a) > len(b) else -1
    for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True):
        if ka != kb:
            return -1 if ka < kb else 1
        r = _cmp_value(va, vb)
        if r:
            return r
    return 0


def jsonb_cmp(a: Any, b: Any) -> int:
    """jsonb's btree order (top-level scalars behave as one-element 'raw scalar' arrays)."""
    ka, kb = kind(a), kind(b)
    if ka == K_OBJECT and kb == K_OBJECT:
        return _cmp_object(a, b)
    if ka == K_OBJECT or kb == K_OBJECT:
        return 1 if ka == K_OBJECT else -1
    la = a if ka == K_ARRAY else [a]
    lb = b if kb == K_ARRAY else [b]
    return _cmp_array(la, lb, ka != K_ARRAY, kb != K_ARRAY)


def jsonb_eq(a: Any, b: Any) -> bool:
    return jsonb_cmp(a, b) == 0


def jsonb_group_key(v: Any) -> Any:
    """A hashable key equal for equal jsonb values (numbers by value, true distinct from 1)."""
    if isinstance(v, dict):
        return ("o", tuple((k, jsonb_group_key(x)) for k, x in v.items()))
    if isinstance(v, list):
        return ("a", tuple(jsonb_group_key(x) for x in v))
    if v is True or v is False:
        return ("b", v)
    if v is JSON_NULL:
        return ("z",)
    if isinstance(v, str):
        return ("s", v)
    return ("n", v)


class JsonbSortKey:
    """Wraps a jsonb value so that Python sorting follows jsonb_cmp."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: JsonbSortKey) -> bool:
        return jsonb_cmp(self.v, other.v) < 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonbSortKey) and jsonb_cmp(self.v, other.v) == 0

    def __hash__(self) -> int:
        return hash(jsonb_group_key(self.v))


# -- containment and existence -----------------------------------------------------------------

def _scalar_eq(a: Any, b: Any) -> bool:
    ka = kind(a)
    return ka == kind(b) and _cmp_scalar(a, b, ka) == 0


def _contains(a: Any, b: Any) -> bool:
    """JsonbDeepContains for two containers of the same kind."""
    if isinstance(a, dict):
        for k, bv in b.items():
            if k not in a:
                return False
            av = a[k]
            kav, kbv = kind(av), kind(bv)
            if kav != kbv:
                return False
            if kav in (K_ARRAY, K_OBJECT):
                if not _contains(av, bv):
                    return False
            elif _cmp_scalar(av, bv, kav) != 0:
                return False
        return True
    for bv in b:
        kb = kind(bv)
        if kb in (K_ARRAY, K_OBJECT):
            if not any(kind(av) == kb and _contains(av, bv) for av in a):
                return False
        elif not any(_scalar_eq(av, bv) for av in a):
            return False
    return True


def jsonb_contains(a: Any, b: Any) -> bool:
    """a @> b."""
    ka, kb = kind(a), kind(b)
    if ka == K_OBJECT or kb == K_OBJECT:
        return ka == kb and _contains(a, b)
    if ka != K_ARRAY:  # a raw scalar contains only an equal raw scalar
        return kb != K_ARRAY and _scalar_eq(a, b)
    return _contains(a, b if kb == K_ARRAY else [b])


def jsonb_contained(a: Any, b: Any) -> bool:
    """a <@ b."""
    return jsonb_contains(b, a)


def jsonb_exists(v: Any, key: str) -> bool:
    """v ? key: an object key, or a string element of an array, or an equal string scalar."""
    if isinstance(v, dict):
        return key in v
    if isinstance(v, list):
        return any(isinstance(x, str) and x == key for x in v)
    return isinstance(v, str) and v == key


def jsonb_exists_any(v: Any, keys: list[str | None]) -> bool:
    return any(k is not None and jsonb_exists(v, k) for k in keys)


def jsonb_exists_all(v: Any, keys: list[str | None]) -> bool:
    return all(k is None or jsonb_exists(v, k) for k in keys)


# -- field access ------------------------------------------------------------------------------

def jsonb_object_field(v: Any, key: str) -> Any:
    """v -> 'key' (None when absent or v is not an object)."""
    if isinstance(v, dict):
        return v.get(key)
    return None


def jsonb_array_element(v: Any, index: int) -> Any:
    """v -> n; negative n counts from the end; a scalar acts as a one-element array."""
    if isinstance(v, dict):
        return None
    if not isinstance(v, list):
        return v if index in (0, -1) else None
    if isinstance(v, list):
        n = len(v)
        if index < 0:
            index += n
        if 0 <= index < n:
            return v[index]
    return None


def as_text(v: Any) -> str | None:
    """The ->> conversion: strings unquoted, null as SQL NULL, anything else as jsonb text."""
    if v is None or v is JSON_NULL:
        return None
    if isinstance(v, str):
        return v
    return jsonb_out(v)


def jsonb_object_field_text(v: Any, key: str) -> str | None:
    return as_text(jsonb_object_field(v, key))


def jsonb_array_element_text(v: Any, index: int) -> str | None:
    return as_text(jsonb_array_element(v, index))


_PATH_INDEX = re.compile(r"[ \t\n\r\v\f]*[+-]?[0-9]+\Z")


def _path_index(step: str) -> int | None:
    """A path step as an array index, as strtol reads it (None if it is not one)."""
    if _PATH_INDEX.match(step) is None:
        return None
    n = int(step)
    return n if -(1 << 31) <= n < (1 << 31) else None


def jsonb_extract_path(v: Any, path: list[str | None]) -> Any:
    """v #> path (a text[] as a list); None if any step is missing or NULL."""
    for step in path:
        if step is None:
            return None
        if isinstance(v, dict):
            v = v.get(step)
        elif isinstance(v, list):
            idx = _path_index(step)
            if idx is None:
                return None
            v = jsonb_array_element(v, idx)
        else:
            return None
        if v is None:
            return None
    return v


def jsonb_extract_path_text(v: Any, path: list[str | None]) -> str | None:
    return as_text(jsonb_extract_path(v, path))


def jsonb_array_length(v: Any) -> int:
    if isinstance(v, list):
        return len(v)
    if isinstance(v, dict):
        raise InvalidParameterValue("cannot get array length of a non-array")
    raise InvalidParameterValue("cannot get array length of a scalar")


def jsonb_concat(a: Any, b: Any) -> Any:
    """a || b: objects merge (b wins), anything else concatenates as arrays."""
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        merged.update(b)
        return _make_object(list(merged.items()))
    la = a if isinstance(a, list) else [a]
    lb = b if isinstance(b, list) else [b]
    return la + lb


def jsonb_delete_key(v: Any, key: str) -> Any:
    """v - 'key': drops an object key, or the matching string elements of an array."""
    if isinstance(v, dict):
        return {k: x for k, x in v.items() if k != key}
    if isinstance(v, list):
        return [x for x in v if not (isinstance(x, str) and x == key)]
    raise InvalidParameterValue("cannot delete from scalar")


# -- json (text) access, keeping the original text of the parts --------------------------------

_RAW = _json.JSONDecoder(parse_float=lambda s: None, parse_int=lambda s: None,
                         parse_constant=_reject_constant, strict=False)
_WS = " \t\n\r"


def _skip(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WS:
        i += 1
    return i


def _value_end(text: str, i: int) -> int:
    return _RAW.raw_decode(text, i)[1]


def _top_members(text: str) -> tuple[str, list[tuple[str | None, int, int]]]:
    """('object'|'array'|'scalar', [(key or None, start, end) of each member value])."""
    i = _skip(text, 0)
    if i >= len(text) or text[i] not in "{[":
        return "scalar", []
    members: list[tuple[str | None, int, int]] = []
    if text[i] == "{":
        i = _skip(text, i + 1)
        if text[i] == "}":
            return "object", members
        while True:
            key, i = _RAW.raw_decode(text, i)
            i = _skip(text, i)
            assert text[i] == ":"
            start = _skip(text, i + 1)
            end = _value_end(text, start)
            members.append((key, start, end))
            i = _skip(text, end)
            if text[i] == "}":
                return "object", members
            i = _skip(text, i + 1)  # ','
    i = _skip(text, i + 1)
    if text[i] == "]":
        return "array", members
    while True:
        start = i
        end = _value_end(text, start)
        members.append((None, start, end))
        i = _skip(text, end)
        if text[i] == "]":
            return "array", members
        i = _skip(text, i + 1)


def json_object_field(text: str, key: str) -> str | None:
    """json -> 'key': the text of the last member with that key."""
    shape, members = _top_members(text)
    if shape != "object":
        return None
    found = None
    for k, start, end in members:
        if k == key:
            found = text[start:end]
    return found


def json_array_element(text: str, index: int) -> str | None:
    shape, members = _top_members(text)
    if shape != "array":
        return None
    n = len(members)
    if index < 0:
        index += n
    if 0 <= index < n:
        _, start, end = members[index]
        return text[start:end]
    return None


def json_as_text(part: str | None) -> str | None:
    """The ->> conversion of a json part: strings decoded, null as SQL NULL."""
    if part is None:
        return None
    s = part.lstrip(_WS)
    if s.startswith('"'):
        return _json.loads(s)
    if s.rstrip(_WS) == "null":
        return None
    return part


def json_extract_path(text: str, path: list[str | None]) -> str | None:
    cur: str | None = text
    for step in path:
        if step is None or cur is None:
            return None
        shape, _ = _top_members(cur)
        if shape == "object":
            cur = json_object_field(cur, step)
        elif shape == "array":
            idx = _path_index(step)
            cur = json_array_element(cur, idx) if idx is not None else None
        else:
            return None
    return cur


def json_typeof(text: str) -> str:
    s = text.lstrip(_WS)
    c = s[:1]
    if c == "{":
        return "object"
    if c == "[":
        return "array"
    if c == '"':
        return "string"
    if s.startswith("true") or s.startswith("false"):
        return "boolean"
    if s.startswith("null"):
        return "null"
    return "number"


def json_array_length(text: str) -> int:
    shape, members = _top_members(text)
    if shape == "array":
        return len(members)
    if shape == "object":
        raise InvalidParameterValue("cannot get array length of a non-array")
    raise InvalidParameterValue("cannot get array length of a scalar")
