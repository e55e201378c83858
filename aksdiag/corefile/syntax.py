"""The Corefile's syntax as CoreDNS's Caddy lexer reads it: words, `#` comments, "quoted" strings, statements
nested by braces; each with the ConfigMap key and line it came from. Pure, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aksdiag.errors import AksdiagError

_MAX_DEPTH = 64
_BREAKS = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_TOKEN = re.compile(r'"((?:\\"|[^"])*)("?)|#[^\n]*|[^\s#"][^\s#]*')  # a quote inside a word is a letter


class CorefileError(AksdiagError):
    """The CoreDNS configuration cannot be read; the message names the ConfigMap key and the line."""

    def __init__(self, message: str) -> None:  # one line, whatever a quoted token held
        super().__init__(_BREAKS.sub(lambda m: m.group(0).encode("unicode_escape").decode(), message))


@dataclass(frozen=True)
class Origin:
    key: str  # "Corefile" or the coredns-custom key ("private.server")
    line: int

    def __str__(self) -> str:
        return f"{self.key} line {self.line}"


@dataclass(frozen=True)
class Directive:
    """One plugin line; `children` is its `{ … }` block (None without one)."""

    name: str
    args: tuple[str, ...]
    children: tuple[Directive, ...] | None
    origin: Origin


def tokens(text: str, key: str) -> list[tuple[str, int, int, bool]]:
    """(text, first line, last line, quoted), as CoreDNS's Caddy lexer: `#` to end of line, "…" with \\"."""
    out, line, pos = [], 1, 0
    for m in _TOKEN.finditer(text):
        line, pos, tok = line + text.count("\n", pos, m.start()), m.start(), m.group(0)
        if tok[0] == '"':
            if not m.group(2):
                raise CorefileError(f"{key} line {line}: unterminated quoted string")
            out.append((m.group(1).replace('\\"', '"'), line, line + tok.count("\n"), True))
        elif tok[0] != "#":
            out.append((tok, line, line, False))
    return out


def tree(text: str, key: str) -> tuple[Directive, ...]:
    """Statements (a line's tokens; a trailing comma continues it) nested by `{` … `}`."""
    frames: list[tuple[list[str], Origin | None, list[Directive]]] = [([], None, [])]
    current: list[str] = []
    at = Origin(key, 1)
    last = 0

    def flush() -> None:
        if current:
            frames[-1][2].append(Directive(current[0], tuple(current[1:]), None, at))
            current.clear()

    for tok, first, end, quoted in tokens(text, key):
        if not quoted and tok in ("{", "}"):
            if tok == "{":
                if not current:
                    raise CorefileError(f"{key} line {first}: '{{' with nothing before it")
                if len(frames) > _MAX_DEPTH:
                    raise CorefileError(f"{key} line {first}: blocks nested too deep")
                frames.append((list(current), at, []))
                current.clear()
            else:
                flush()
                if len(frames) == 1:
                    raise CorefileError(f"{key} line {first}: '}}' closes no block")
                words, origin, children = frames.pop()
                assert origin is not None
                frames[-1][2].append(Directive(words[0], tuple(words[1:]), tuple(children), origin))
        else:
            if current and first != last and not current[-1].endswith(","):
                flush()
            if not current:
                at = Origin(key, first)
            current.append(tok)
        last = end
    flush()
    if len(frames) > 1:
        raise CorefileError(f"{frames[-1][1]}: '{{' is never closed")
    return tuple(frames[0][2])
