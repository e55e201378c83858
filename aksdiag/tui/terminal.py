"""Terminal input that survives bytes that are not UTF-8: 0xFF, or Alt+key on an 8-bit-meta terminal.

Textual's Linux drivers decode the terminal's bytes with a strict incremental UTF-8 decoder, so one invalid byte
raises in the input thread: the app panics (a traceback, exit 0) and the terminal is left in mouse mode. While the
TUI runs, the drivers' `getincrementaldecoder` (the name they call when their input thread starts) hands out
decoders with errors="replace": a bad byte becomes U+FFFD, a key no binding has. Nothing on disk is changed.
"""

from __future__ import annotations

import codecs
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType

NAME = "getincrementaldecoder"
DRIVERS = ("textual.drivers.linux_driver", "textual.drivers.linux_inline_driver")


def tolerant_decoder(encoding: str) -> Callable[..., codecs.IncrementalDecoder]:
    """codecs.getincrementaldecoder, whose decoders replace what they cannot decode instead of raising."""
    factory = codecs.getincrementaldecoder(encoding)

    def make(errors: str = "strict") -> codecs.IncrementalDecoder:
        return factory(errors="replace")

    return make


@contextmanager
def tolerant_input() -> Iterator[None]:
    """Within: the Linux drivers' input threads decode with errors="replace"."""
    modules: list[ModuleType] = []
    for name in DRIVERS:
        try:
            module = importlib.import_module(name)
        except ImportError:  # not on this platform
            continue
        if hasattr(module, NAME):
            modules.append(module)
    saved = [(module, getattr(module, NAME)) for module in modules]
    for module in modules:
        setattr(module, NAME, tolerant_decoder)
    try:
        yield
    finally:
        for module, original in saved:
            setattr(module, NAME, original)
