"""Blocks: markdown-it tokens -> a small tree with source lines.

markdown-it-py (block rules only, which is what keeps this fast) turns the
text into headings, paragraphs, lists, tables and fences, each with its source
line. Headings make a section tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import table as _markdown_table

from .html_tables import table_rows

# markdown-it stops reading at its nesting limit (20 in the commonmark preset, about ten
# levels of list) and drops what follows without a word: allow far deeper nesting, and
# warn where even that is reached (see ``nested_too_deep``).
MAX_NESTING = 200


def _markdown(off: tuple[str, ...] = ()) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).enable("table")
    md.disable("inline")  # we read inline text ourselves; block parsing only
    # "[1]: https://..." link definitions: markdown-it drops them from the text; kept as a note
    md.disable("reference")
    # parse_runbook hands over "\n" line ends and refuses NUL: markdown-it's normalising pass
    # (a regex substitution at every line end) has nothing to do; text_join joins inline
    # tokens only
    md.disable(["normalize", "text_join"])
    # the same rule, with the same chains (it may interrupt a paragraph), behind a quick test
    md.block.ruler.at("table", _table_rule, {"alt": ["paragraph", "reference"]})
    if off:
        md.disable(list(off))
    return md


def _table_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's table rule, tried at the start of every block and on every line of a
    paragraph: a table's header line holds a pipe (the rule's own test, done after it has
    read the next line), so a line without one is not looked at further."""
    if state.src.find("|", state.bMarks[start] + state.tShift[start], state.eMarks[start]) < 0:
        return False
    return _markdown_table(state, start, end, silent)


# Block rules that cannot fire on a text are not run on it: each is tried at the start of every
# block (and the interrupting ones on every line of a paragraph), and each needs a character
# at the start of a line's content (after blanks, ">" and list markers) that a text may lack.
_PREFIX = re.compile(r"[ \t>*+\-.)0-9]*")
_UNDERLINE_END = re.compile(r"(?m)[=-][ \t]*$")
_UNDERLINE = re.compile(r"[ \t>*+\-.)0-9=]*")


def _at_line_start(text: str, ch: str) -> bool:
    """``ch`` somewhere at the start of a line's content (after blanks, ">" and list markers)."""
    i = text.find(ch)
    while i >= 0:
        start = text.rfind("\n", 0, i) + 1
        if _PREFIX.fullmatch(text, start, i):
            return True
        i = text.find(ch, i + 1)
    return False


def _underline(text: str) -> bool:
    """A line that could underline a setext heading ("Title" above "-----" or "====="): one
    ending in "-" or "=" that holds nothing but those, blanks, ">" and list markers."""
    for m in _UNDERLINE_END.finditer(text):
        if _UNDERLINE.fullmatch(text, text.rfind("\n", 0, m.start()) + 1, m.end()):
            return True
    return False


_RULE_NEEDS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("table", lambda t: "|" in t),
    # an indented code block starts 4 columns in from its block: 4 spaces or a tab
    ("code", lambda t: "    " in t or "\t" in t),
    ("fence", lambda t: "```" in t or "~~~" in t),
    ("blockquote", lambda t: _at_line_start(t, ">")),
    ("html_block", lambda t: _at_line_start(t, "<")),
    ("heading", lambda t: _at_line_start(t, "#")),
    ("lheading", _underline),
)
_PARSERS: dict[tuple[str, ...], MarkdownIt] = {}


def block_tokens(text: str) -> list:
    """markdown-it's block tokens of ``text``, by a parser without the block rules the text
    gives nothing to (the same tokens as with every rule)."""
    off = tuple(name for name, needed in _RULE_NEEDS if not needed(text))
    md = _PARSERS.get(off)
    if md is None:
        md = _PARSERS[off] = _markdown(off)
    return md.parse(text)


_MD = _markdown()


@dataclass(slots=True)
class Block:
    kind: str  # heading | para | list | table | fence | html
    line: int
    end: int = 0
    text: str = ""
    level: int = 0
    info: str = ""
    items: list[ListItem] = field(default_factory=list)
    ordered: bool = False
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


@dataclass(slots=True)
class ListItem:
    text: str
    line: int
    children: list[Block] = field(default_factory=list)


_LISTS = {"bullet_list_open": "bullet_list_close", "ordered_list_open": "ordered_list_close"}


def _blocks(tokens, i: int, stop: str | None) -> tuple[list[Block], int]:
    out: list[Block] = []
    append = out.append
    n = len(tokens)
    while i < n:
        t = tokens[i]
        kind = t.type
        if kind == stop:
            return out, i + 1
        if kind == "paragraph_open":
            m = t.map
            append(Block("para", m[0] + 1, m[1], tokens[i + 1].content))
            i += 3
            continue
        m = t.map
        ln, end = (m[0] + 1, m[1]) if m else (0, 0)
        if kind == "heading_open":
            append(Block("heading", ln, end, tokens[i + 1].content, level=int(t.tag[1])))
            i += 3
        elif kind in _LISTS:
            block = Block("list", ln, end, ordered=kind == "ordered_list_open")
            close = _LISTS[kind]
            items = block.items
            i += 1
            while tokens[i].type != close:
                first = tokens[i].map[0] + 1  # list_item_open
                children, i = _blocks(tokens, i + 1, "list_item_close")
                text = ""
                if children and children[0].kind == "para" and children[0].line == first:
                    text = children.pop(0).text
                items.append(ListItem(text, first, children))
            append(block)
            i += 1
        elif kind == "fence" or kind == "code_block":
            append(Block("fence", ln, end, t.content, info=t.info.strip()))
            i += 1
        elif kind == "html_block":
            append(_html(t.content, ln, end))
            i += 1
        elif kind == "table_open":
            block, i = _table(tokens, i, ln, end)
            append(block)
        elif kind == "blockquote_open":
            inner, i = _blocks(tokens, i + 1, "blockquote_close")
            out.extend(inner)
        else:
            i += 1
    return out, i


def _html(content: str, line: int, end: int) -> Block:
    """An HTML block; one holding a ``<table>`` with a header and rows is a table."""
    rows = table_rows(content)
    if len(rows) < 2:
        return Block("html", line, end, content)
    (_, header), *body = rows
    rows = [(line + n, r) for n, r in body]
    return Block("table", line, end, info="html", header=header, rows=rows)


def _table(tokens, i: int, line: int, end: int) -> tuple[Block, int]:
    block = Block("table", line, end)
    row: list[str] | None = None
    body_row = 0
    while tokens[i].type != "table_close":
        t = tokens[i]
        if t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None:
            row.append(t.content.strip())
        elif t.type == "tr_close" and row is not None:
            if not block.header:
                block.header = row
            else:
                block.rows.append((line + 2 + body_row, row))
                body_row += 1
            row = None
        i += 1
    return block, i + 1


@dataclass(slots=True)
class Section:
    title: str
    level: int
    line: int
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    parent: Section | None = None


def _sections(blocks: list[Block]) -> Section:
    root = Section("", 0, 1)
    stack = [root]
    for b in blocks:
        if b.kind == "heading":
            while stack[-1].level >= b.level:
                stack.pop()
            sec = Section(b.text.strip(), b.level, b.line, parent=stack[-1])
            stack[-1].children.append(sec)
            stack.append(sec)
        else:
            stack[-1].blocks.append(b)
    return root


_PIPE = re.compile(r"(?<!\\)\|")  # a cell border: a pipe not escaped


def split_cells(raw: str) -> list[str]:
    s = raw.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return _PIPE.split(s) if "\\" in s else s.split("|")


def nested_too_deep(tokens) -> int | None:
    """The line where the document reaches markdown-it's nesting limit (what nests deeper
    is not read), or None."""
    for t in tokens:
        if t.level >= MAX_NESTING - 1:
            return t.map[0] + 1 if t.map else None
    return None
