"""A reader for the small YAML subset of the study's task files, so no YAML library is needed.

The study's `<level>_task_<n>.yaml` files hold one top-level mapping of string scalars (in
practice the single key `Requirement`), written as double-quoted scalars that span several
lines. This module reads top-level `key: value` pairs whose values are double-quoted,
single-quoted, plain or block (`|`, `>`) scalars, with YAML's line folding, and refuses
anything else (nested mappings, sequences, anchors) with a `YamlSubsetError`.
"""

from __future__ import annotations

import re

_KEY = re.compile(r"^([A-Za-z_][\w\- ]*?)\s*:(?:\s+(.*))?$")
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


class YamlSubsetError(ValueError):
    """The text is not in the supported subset; the message says where (1-based line)."""


def parse_mapping(text: str) -> dict[str, str]:
    """The top-level `key: scalar` pairs of `text`, in order."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    result: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            i += 1
            continue
        if line[0] in " \t":
            raise YamlSubsetError(f"line {i + 1}: unexpected indentation")
        m = _KEY.match(line.rstrip())
        if not m:
            raise YamlSubsetError(f"line {i + 1}: expected 'key: value'")
        key, rest = m.group(1).strip(), (m.group(2) or "")
        if key in result:
            raise YamlSubsetError(f"line {i + 1}: duplicate key {key!r}")
        value, i = _scalar(lines, i, rest)
        result[key] = value
    return result


def _scalar(lines: list[str], i: int, rest: str) -> tuple[str, int]:
    """Parse the scalar starting with `rest` on line `i`; return it and the next line index."""
    rest = rest.strip()
    if rest.startswith('"'):
        return _quoted(lines, i, '"')
    if rest.startswith("'"):
        return _quoted(lines, i, "'")
    if rest[:1] in ("|", ">"):
        return _block(lines, i, rest)
    if rest[:1] in ("[", "{", "&", "*", "!", "?") or rest == "-" or rest.startswith("- "):
        raise YamlSubsetError(f"line {i + 1}: only string scalars are supported")
    if not rest:
        nxt = next(
            (ln.strip() for ln in lines[i + 1 : _continuation(lines, i + 1)] if ln.strip()), ""
        )
        if nxt == "-" or nxt.startswith("- ") or re.match(r"^[\w\- ]+:(\s|$)", nxt):
            raise YamlSubsetError(f"line {i + 2}: only string scalars are supported")
    return _plain(lines, i, rest)


def _continuation(lines: list[str], j: int) -> int:
    """Index one past the indented (or blank) lines that follow line `j - 1`."""
    while j < len(lines) and (not lines[j].strip() or lines[j][0] in " \t"):
        j += 1
    return j


def _fold(pieces: list[str]) -> str:
    """YAML flow folding: a single line break becomes a space, n empty lines become n breaks."""
    out = ""
    empties = 0
    for k, piece in enumerate(pieces):
        if k == 0:
            out = piece
            continue
        if piece == "" and k < len(pieces) - 1:
            empties += 1
            continue
        out += ("\n" * empties if empties else " ") + piece
        empties = 0
    return out


def _quoted(lines: list[str], i: int, quote: str) -> tuple[str, int]:
    start_line = i
    first = lines[i]
    pos = first.index(quote, first.index(":") + 1) + 1
    raw_lines: list[str] = []
    buf = first[pos:]
    while True:
        end = _closing(buf, quote)
        if end is not None:
            raw_lines.append(buf[:end])
            after = buf[end + 1 :].strip()
            if after and not after.startswith("#"):
                raise YamlSubsetError(f"line {i + 1}: text after the closing quote")
            break
        raw_lines.append(buf)
        i += 1
        if i >= len(lines) or (lines[i].strip() and lines[i][0] not in " \t"):
            raise YamlSubsetError(f"line {start_line + 1}: unterminated {quote}-quoted string")
        buf = lines[i]
    # Fold: trim the whitespace around each line break, then join.
    pieces: list[str] = []
    joins_without_space: set[int] = set()
    last = len(raw_lines) - 1
    for k, raw in enumerate(raw_lines):
        piece = raw
        if k > 0:
            piece = piece.lstrip(" \t")
        if k < last:
            if quote == '"' and _ends_with_escaped_break(piece):
                piece = piece[:-1]
                joins_without_space.add(k)
            else:
                piece = piece.rstrip(" \t")
        pieces.append(piece)
    text = _fold_with_joins(pieces, joins_without_space)
    value = _unescape(text, start_line) if quote == '"' else text.replace("''", "'")
    return value, i + 1


def _fold_with_joins(pieces: list[str], joins: set[int]) -> str:
    if not joins:
        return _fold(pieces)
    out = pieces[0]
    for k in range(1, len(pieces)):
        out += ("" if (k - 1) in joins else " ") + pieces[k]
    return out


def _ends_with_escaped_break(piece: str) -> bool:
    n = len(piece) - len(piece.rstrip("\\"))
    return n % 2 == 1


def _closing(buf: str, quote: str) -> int | None:
    k = 0
    while k < len(buf):
        c = buf[k]
        if quote == '"' and c == "\\":
            k += 2
            continue
        if c == quote:
            if quote == "'" and buf[k + 1 : k + 2] == "'":
                k += 2
                continue
            return k
        k += 1
    return None


def _unescape(text: str, line: int) -> str:
    out: list[str] = []
    k = 0
    while k < len(text):
        c = text[k]
        if c != "\\":
            out.append(c)
            k += 1
            continue
        e = text[k + 1 : k + 2]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            k += 2
        elif e in _HEX_ESCAPES:
            n = _HEX_ESCAPES[e]
            digits = text[k + 2 : k + 2 + n]
            try:
                out.append(chr(int(digits, 16)))
            except ValueError:
                raise YamlSubsetError(f"line {line + 1}: bad escape \\{e}{digits}") from None
            k += 2 + n
        else:
            raise YamlSubsetError(f"line {line + 1}: unknown escape \\{e}")
    return "".join(out)


def _plain(lines: list[str], i: int, rest: str) -> tuple[str, int]:
    end = _continuation(lines, i + 1)
    pieces = [rest] + [ln.strip() for ln in lines[i + 1 : end]]
    while pieces and pieces[-1] == "":
        pieces.pop()
    pieces = [_strip_comment(p) for p in pieces]
    return _fold(pieces), end


def _strip_comment(piece: str) -> str:
    if piece.startswith("#"):
        return ""
    m = re.search(r"\s#", piece)
    return piece[: m.start()].rstrip() if m else piece


def _block(lines: list[str], i: int, header: str) -> tuple[str, int]:
    style = header[0]
    chomp = "+" if "+" in header else "-" if "-" in header else ""
    end = _continuation(lines, i + 1)
    body = lines[i + 1 : end]
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in body if ln.strip()]
    indent = min(indents) if indents else 0
    content = [ln[indent:] if ln.strip() else "" for ln in body]
    trailing = 0
    while content and content[-1] == "":
        content.pop()
        trailing += 1
    text = "\n".join(content) if style == "|" else _fold(content)
    if not content:
        return "", end
    if chomp == "-":
        return text, end
    if chomp == "+":
        return text + "\n" * (trailing + 1), end
    return text + "\n", end
