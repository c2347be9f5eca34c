"""Checks of what a sandboxed child sends, before any of it is believed.

The child runs the checked program, so its answer may be forged or malformed. Two places check it:
- the zygote reads the child's bytes with `parse_report`: UTF-8, the nesting depth bounded by a
  scan of the text before `json.loads` can recurse, exactly one JSON object, the `ChildReport`
  envelope (its "result" a dict, its "sandbox" a dict or null). The zygote survives any bytes;
- the parent reads the result with `checked` (a `JobResult` or the pool's `PoolOutcome`) or
  `checked_verdict` (a `PaperVerdict`): the type of every field against the TypedDicts of
  wire.py, the required keys, the codes of taxonomy.py, ranges well-formed and inside the
  checked text, list lengths and string sizes bounded.
A result that fails becomes an "untrusted" PoolOutcome saying why; the dynamic pass reports it as
a Not Checkable note (dynamic/run.py `interpret`), never as a pass. Keys the parent does not read
are not looked at.
"""

# No `from __future__ import annotations`: the TypedDicts' annotations are read at run time.
import functools
import json
import re
import types
from collections.abc import Mapping
from itertools import accumulate
from typing import Any, Literal, Union, cast, get_args, get_origin, get_type_hints, is_typeddict

from deepeval_lsp.diagnostics.dynamic.wire import (
    ErrorRecord,
    FrameRecord,
    JobResult,
    OutputRecord,
    PaperVerdict,
    PoolOutcome,
)
from deepeval_lsp.diagnostics.taxonomy import CODES
from deepeval_lsp.diagnostics.text import SourceText

# The deepest honest answer nests 8 levels (envelope, result, errors, error, fix, edits, edit,
# range); the bound leaves room and keeps every reader's recursion shallow.
MAX_DEPTH = 32
MAX_STRING = 64 * 1024  # characters of one string
MAX_ITEMS = 20_000  # items of one list (a summary's layers), keys of one dict
# Lists whose every item costs the parent a re-check or a diagnostic: an honest child sends few.
_MAX_ITEMS_OF = {"errors": 32, "info": 256, "notes": 256, "related": 32, "more_fixes": 8}
_MAX_STRING_OF = {"traceback": 1 << 20, "output_tail": 64 * 1024}
_MAX_INT = 1 << 63

# A JSON string (escapes included); with them removed, what is left of brackets is structure.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class Untrusted(ValueError):
    """The child's answer cannot be believed; the message says why, in one line."""


def untrusted(why: str) -> PoolOutcome:
    """The outcome that stands for a result the checker could not trust."""
    return {"status": "untrusted", "detail": why}


def nesting_depth(text: str) -> int:
    """How deep the brackets of a JSON text nest, strings not counted; computed without
    recursion, so any text can be measured."""
    structure = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, structure)), default=0)


def loads(data: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`data` as JSON, or Untrusted: not UTF-8, nested deeper than `max_depth`, not one JSON
    value (extra bytes, two values)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Untrusted(f"the result is not UTF-8 (byte {e.start})") from None
    depth = nesting_depth(text)
    if depth > max_depth:
        raise Untrusted(f"the result nests {depth} levels deep (at most {max_depth})")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise Untrusted(f"the result is not one JSON value: {str(e)[:200]}") from None


def parse_report(data: bytes) -> dict[str, Any]:
    """The child's result from its ChildReport bytes, its "sandbox" entry set from the
    envelope's (dropped when the envelope has none); Untrusted when the bytes are not one."""
    envelope = loads(data)
    if not isinstance(envelope, dict):
        raise Untrusted(f"the result is a JSON {_kind(envelope)}, not an object")
    if "result" not in envelope:
        raise Untrusted('the result has no "result" entry')
    result = envelope["result"]
    if not isinstance(result, dict):
        raise Untrusted(f'its "result" is a JSON {_kind(result)}, not an object')
    sandbox = envelope.get("sandbox")
    if sandbox is not None and not isinstance(sandbox, dict):
        raise Untrusted(f'its "sandbox" is a JSON {_kind(sandbox)}, not an object')
    result.pop("sandbox", None)  # what the sandbox achieved is the envelope's to say
    if sandbox is not None:
        result["sandbox"] = sandbox
    return result


def checked(raw: Mapping[str, Any], source: str, path: str) -> JobResult | PoolOutcome:
    """`raw` (a pool's answer to a check of `source` at `path`) when it is a well-formed
    JobResult or PoolOutcome, else an untrusted outcome saying what is wrong."""
    kind = JobResult if raw.get("status") == "ok" else PoolOutcome
    try:
        _Checker(source, path).check(raw, kind, "result")
    except Untrusted as e:
        return untrusted(str(e))
    return cast("JobResult | PoolOutcome", raw)


def checked_verdict(raw: Mapping[str, Any], source: str, path: str) -> PaperVerdict | PoolOutcome:
    """`checked` for the paper engine's answer: a PaperVerdict, or the pool's outcome."""
    if raw.get("status") != "ok":
        return cast("PoolOutcome", checked(raw, source, path))
    try:
        _Checker(source, path).check(raw, PaperVerdict, "result")
        if raw["executable"] is False:
            for key in ("code", "message", "python_error"):
                if key not in raw:
                    raise Untrusted(f"result.{key}: missing from a failed verdict")
        _Checker.line_in(raw.get("line"), SourceText(source), "result.line")
    except Untrusted as e:
        return untrusted(str(e))
    return cast("PaperVerdict", raw)


@functools.cache
def _form(kind: Any) -> tuple[Any, tuple[Any, ...]]:
    """A wire type's origin and arguments (typing's introspection, once per type: a result
    has hundreds of values)."""
    return get_origin(kind), get_args(kind)


_hints = functools.cache(get_type_hints)
_is_record = functools.cache(is_typeddict)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string", type(None): "null"}[type(value)]


class _Checker:
    """One walk of a result against the wire types; raises Untrusted at the first fault."""

    def __init__(self, source: str, path: str) -> None:
        self.text = SourceText(source)
        self.path = path
        # A summary after fixes describes the fixed program: its ranges are that text's.
        self.in_text = True

    def check(self, value: Any, kind: Any, where: str, key: str = "", depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise Untrusted(f"{where}: nested deeper than {MAX_DEPTH} levels")
        origin, args = _form(kind)
        if kind is Any:
            self.open_value(value, where, depth)
        elif origin is Union or origin is types.UnionType:
            self.union(value, args, where, key, depth)
        elif origin is Literal:
            if not any(type(value) is type(a) and value == a for a in args):
                allowed = ", ".join(map(repr, args))
                raise Untrusted(f"{where}: {_shown(value)} is none of {allowed}")
        elif origin is list:
            self.array(value, args[0], where, key, depth)
        elif origin is dict:
            self.mapping(value, where)
            for k, v in value.items():
                self.check(v, args[1], f"{where}.{k}", k, depth + 1)
        elif _is_record(kind):
            self.record(value, kind, where, depth)
        else:
            self.scalar(value, kind, where, key)

    def union(self, value: Any, options: tuple[Any, ...], where: str, key: str, depth: int) -> None:
        faults = []
        for option in options:
            try:
                self.check(value, option, where, key, depth)
                return
            except Untrusted as e:
                if option is not type(None):  # "is not null" says nothing of a non-null value
                    faults.append(str(e))
        raise Untrusted(faults[0] if faults else f"{where}: {_shown(value)} is not null")

    def array(self, value: Any, item: Any, where: str, key: str, depth: int) -> None:
        if not isinstance(value, list):
            raise Untrusted(f"{where}: a JSON {_kind(value)}, not an array")
        most = _MAX_ITEMS_OF.get(key, MAX_ITEMS)
        if len(value) > most:
            raise Untrusted(f"{where}: {len(value)} items (at most {most})")
        if key == "range":
            self.span(value, where)
            return
        for i, v in enumerate(value):
            self.check(v, item, f"{where}[{i}]", "", depth + 1)

    def record(self, value: Any, kind: Any, where: str, depth: int) -> None:
        self.mapping(value, where)
        for k in sorted(kind.__required_keys__):
            if k not in value:
                raise Untrusted(f"{where}.{k}: missing")
        for k, hint in _hints(kind).items():
            if k in value:
                outer = self.in_text
                if kind is JobResult and k == "summary" and value.get("summary_after_fixes"):
                    self.in_text = False
                self.check(value[k], hint, f"{where}.{k}", k, depth + 1)
                self.in_text = outer
        if kind in (ErrorRecord, PaperVerdict) and value.get("code", "DL401") not in CODES:
            raise Untrusted(f"{where}.code: unknown code {_shown(value['code'])}")
        if kind is FrameRecord and value.get("file") == self.path:
            self.line_in(value.get("line"), self.text, f"{where}.line")
        if kind is OutputRecord and value.get("range") is not None:
            self.output_site(value, where)

    def mapping(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise Untrusted(f"{where}: a JSON {_kind(value)}, not an object")
        if len(value) > MAX_ITEMS:
            raise Untrusted(f"{where}: {len(value)} keys (at most {MAX_ITEMS})")

    def scalar(self, value: Any, kind: Any, where: str, key: str) -> None:
        if kind is type(None):
            ok = value is None
        elif kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = (
                isinstance(value, int)
                and not isinstance(value, bool)
                and -_MAX_INT < value < _MAX_INT
            )
        elif kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif kind is str:
            ok = isinstance(value, str)
            most = _MAX_STRING_OF.get(key, MAX_STRING)
            if ok and len(value) > most:
                raise Untrusted(f"{where}: a string of {len(value)} characters (at most {most})")
        else:  # a type wire.py uses that this walk does not know: a bug here, not the child's
            raise TypeError(f"no check for {kind!r}")
        if not ok:
            raise Untrusted(f"{where}: {_shown(value)} is not {_name(kind)}")

    def open_value(self, value: Any, where: str, depth: int) -> None:
        """A value the wire leaves open (a payload's echo, the sandbox's state): bounded only."""
        if isinstance(value, list):
            self.array(value, Any, where, "", depth)
        elif isinstance(value, dict):
            self.mapping(value, where)
            for k, v in value.items():
                self.check(v, Any, f"{where}.{k}", k, depth + 1)
        elif isinstance(value, str):
            self.scalar(value, str, where, "")

    def span(self, value: list[Any], where: str) -> None:
        """[line, character, end line, end character], start not after end, inside the text
        (the line after the last and one column past a line's end are the positions of its
        end, as a parser reports them; a summary after fixes is only well-formed)."""
        if len(value) != 4 or not all(type(v) is int and v >= 0 for v in value):
            raise Untrusted(f"{where}: {_shown(value)} is not [line, character, line, character]")
        if (value[0], value[1]) > (value[2], value[3]):
            raise Untrusted(f"{where}: {value} ends before it starts")
        if not self.in_text:
            return
        for line, col in ((value[0], value[1]), (value[2], value[3])):
            if line > len(self.text.lines):
                raise Untrusted(f"{where}: line {line + 1} is past the text's end")
            if col > len(self.text.line(line).encode("utf-8")) + 1:
                raise Untrusted(f"{where}: column {col + 1} is past the end of line {line + 1}")

    def output_site(self, value: dict[str, Any], where: str) -> None:
        """An output with its layer's site also says which argument and dim set its size."""
        for k in ("param", "dim"):
            if k not in value:
                raise Untrusted(f"{where}.{k}: missing beside a range")
        if not -len(value["shape"]) <= value["dim"] < len(value["shape"]):
            raise Untrusted(f"{where}.dim: {value['dim']} is not a dim of {value['shape']}")

    @staticmethod
    def line_in(line: Any, text: SourceText, where: str) -> None:
        """A 1-based line of the checked text (the one past its end included), or None."""
        if line is not None and not 1 <= line <= len(text.lines) + 1:
            raise Untrusted(f"{where}: line {line} is not a line of the text")


def _name(kind: Any) -> str:
    return {type(None): "null", bool: "a boolean", int: "an integer", float: "a number"}.get(
        kind, "a string"
    )


def _shown(value: Any) -> str:
    shown = json.dumps(value) if not isinstance(value, list | dict) else f"a JSON {_kind(value)}"
    return shown if len(shown) <= 40 else shown[:37] + "..."
