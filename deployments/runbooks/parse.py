"""Markdown runbook -> :class:`Plan`.

:func:`parse_runbook` is the entry point; the work is split by step:

1. **Input** (this module). Bytes are decoded as strict UTF-8 (the error names
   the line of the first bad byte); empty, binary (NUL), oversized
   (``MAX_BYTES``) input and documents without recognisable structure raise
   :class:`RunbookError`. Mojibake is then repaired line by line
   (``text.py``).
2. **Blocks** (``blocks.py``). markdown-it-py, block rules only, turns the text
   into headings, paragraphs, lists, tables and fences, each with its source
   line. Headings make a section tree.
3. **Interpretation** (``builder.py``). Each section is classified by heading
   keywords (``context.py``) and its blocks are read line by line
   (``reader.py``); what is recognised goes to one module per structure:
   ``phases.py``, ``checklists.py``, ``gates.py``, ``roles.py``,
   ``escalation.py``, ``rollback.py`` and ``comms.py`` (message templates).
   Times are read and turned into offsets from T0 by ``times.py``; headings in
   the canonical form ``export.render_plan`` writes are read by
   ``canonical.py``. Anything the plan has no field for is kept as a note.

Each module's docstring describes the decisions it makes. The text and time
helpers ``export.py`` relies on are re-exported here.
"""

from __future__ import annotations

import codecs
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager

from .builder import _Builder
from .comms import PLACEHOLDER_FIELDS
from .context import classify
from .errors import RunbookError
from .plan import Plan
from .recognise import is_placeholder, task_marker
from .text import _CHECKBOX as _CHECKBOX
from .text import _repair, plain
from .text import cell_text as cell_text
from .text import escape as escape
from .text import item_text as item_text
from .text import meta_value as meta_value
from .text import split_list as split_list
from .text import unescape as unescape
from .times import format_duration as format_duration
from .times import format_offset as format_offset
from .times import parse_duration as parse_duration
from .times import parse_offset as parse_offset
from .times import read_times

__all__ = ["MAX_BYTES", "MAX_ITEMS", "PLACEHOLDER_FIELDS", "RunbookError", "parse_runbook"]

MAX_BYTES = 5 * 1024 * 1024  # default of the setting RUNBOOK_MAX_BYTES
MAX_ITEMS = 5000  # default of the setting RUNBOOK_MAX_ITEMS

# a checkbox line, found from the line end before it (the text is given a "\n" in front): the
# regex engine jumps from newline to newline instead of trying "^" at every character
_ITEM_LINE = re.compile(r"\n[ \t]*(?:[-*+]|\d+[.)])[ \t]+(?:\[[ xX]\]|[☐□⬜])[ \t]+\S")


def _too_many(count: int, max_items: int) -> RunbookError:
    return RunbookError(
        f"the runbook has {count} or more items; the limit is {max_items} items "
        "(setting RUNBOOK_MAX_ITEMS): split it into several releases"
    )


def _utf16(raw: bytes) -> str:
    try:
        text = raw.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise RunbookError(f"invalid UTF-16 (byte {exc.start}); save the file as UTF-8") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise RunbookError("empty file: nothing to import")
    return text


def _decode_bytes(raw: bytes) -> str:
    """UTF-8 (with or without a BOM); a refused encoding is named, not called binary."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        guess = _guess_encoding(raw)
        raise RunbookError(
            f"invalid UTF-8 (byte 0x{raw[exc.start]:02x}){guess}; save the file as UTF-8", line
        ) from None


def _guess_encoding(raw: bytes) -> str:
    high = [b for b in raw if b >= 0x80]
    if high and all(0xA0 <= b <= 0xFF for b in high):
        return ": looks like Latin-1 (ISO-8859-1)"
    if high and all(b >= 0x80 for b in high) and any(0x80 <= b <= 0x9F for b in high):
        return ": looks like Windows-1252"
    return ""


def _decode(data: str | bytes, max_bytes: int = MAX_BYTES) -> str:
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise RunbookError(
                f"file is {len(raw)} bytes; the limit is {max_bytes} bytes "
                f"({max_bytes / 1024 / 1024:g} MB, setting RUNBOOK_MAX_BYTES)"
            )
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return _utf16(raw)
        if b"\x00" in raw:
            line = raw[: raw.index(b"\x00")].count(b"\n") + 1
            raise RunbookError("binary file (NUL byte): a runbook must be markdown text", line)
        text = _decode_bytes(raw)
    else:
        text = data
        if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise RunbookError(
                f"text is larger than the limit of {max_bytes} bytes "
                f"({max_bytes / 1024 / 1024:g} MB, setting RUNBOOK_MAX_BYTES)"
            )
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            raise RunbookError(
                "binary content (NUL character): a runbook must be markdown text", line
            )
    if not text.strip():
        raise RunbookError("empty file: nothing to import")
    return text


def _fresh_caches() -> None:
    """The recognisers cache what they read within one runbook (its headings, labels and
    cells repeat); each parse starts empty, so a runbook is never read faster for having
    been read before (the parse benchmark repeats the same texts)."""
    for cached in (plain, read_times, is_placeholder, task_marker, classify):
        cached.cache_clear()


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """The parse makes tens of thousands of small objects that live until it ends (markdown
    tokens, blocks, sections, items): Python's cycle collector, run every 700 allocations,
    walked them again and again, some tenth of the parse. It is paused while the parse runs
    and resumed after, if it was running; what the parse leaves behind (the section tree
    links each section to its parent) is collected then."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def parse_runbook(
    text: str | bytes,
    *,
    source_name: str = "",
    max_bytes: int = MAX_BYTES,
    max_items: int = MAX_ITEMS,
) -> Plan:
    """Parse a markdown runbook into a :class:`Plan`; raise :class:`RunbookError` on bad input.

    A runbook over ``max_bytes`` or with more than ``max_items`` items is refused naming the
    limit: the bytes before decoding, the checkbox lines counted before parsing, and the
    items the parse found (numbered steps, table rows...) before anything is written."""
    with _cycle_collector_paused():
        return _parse(text, source_name, max_bytes, max_items)


def _parse(text: str | bytes, source_name: str, max_bytes: int, max_items: int) -> Plan:
    _fresh_caches()
    decoded = _decode(text, max_bytes)
    boxes = len(_ITEM_LINE.findall("\n" + decoded))
    if boxes > max_items:
        raise _too_many(boxes, max_items)
    repaired = _repair(decoded.replace("\r\n", "\n").replace("\r", "\n"))
    plan = _Builder(repaired, source_name).build()
    if plan.item_count() > max_items:
        raise _too_many(plan.item_count(), max_items)
    return plan
