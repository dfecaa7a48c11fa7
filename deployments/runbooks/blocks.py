"""Blocks: markdown-it tokens -> a small tree with source lines.

markdown-it-py (block rules only, which is what keeps this fast) turns the
text into headings, paragraphs, lists, tables and fences, each with its source
line. Headings make a section tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.rules_block import (
    StateBlock,
    blockquote,
    code,
    fence,
    heading,
    hr,
    html_block,
    lheading,
    list_block,
)
from markdown_it.rules_block.table import table as _markdown_table
from markdown_it.token import Token

from .html_tables import table_rows

_Rule = Callable[[StateBlock, int, int, bool], bool]

# markdown-it stops reading at its nesting limit (20 in the commonmark preset, about ten
# levels of list) and drops what follows without a word: allow far deeper nesting, and
# warn where even that is reached (see ``nested_too_deep``).
MAX_NESTING = 200


def _markdown(off: tuple[str, ...] = ()) -> MarkdownIt:
    # "tasklists": markdown-it asks for it on every list item, and an option not set costs a
    # KeyError raised and caught; False is its default
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING, "tasklists": False}).enable("table")
    md.disable("inline")  # we read inline text ourselves; block parsing only
    # "[1]: https://..." link definitions: markdown-it drops them from the text; kept as a note
    md.disable("reference")
    # parse_runbook hands over "\n" line ends and refuses NUL: markdown-it's normalising pass
    # (a regex substitution at every line end) has nothing to do; text_join joins inline
    # tokens only
    md.disable(["normalize", "text_join"])
    # the same rule, with the same chains (it may interrupt a paragraph), behind a quick test
    md.block.ruler.at("table", _table_rule, {"alt": ["paragraph", "reference"]})
    for name, rule, alt in _GUARDED:
        md.block.ruler.at(name, rule, {"alt": alt})
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


def _starting(rule: _Rule, marks: tuple[str, ...]) -> _Rule:
    """markdown-it's ``rule``, which gives up unless a line's content (after its indent, ">"
    and list markers) starts with one of ``marks``, behind that test. Each rule is tried on
    most lines (at the start of every block, and on every line of a paragraph to see whether
    it ends it); most lines start with a letter, and the test is much cheaper than the call."""

    def guarded(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if not state.src.startswith(marks, state.bMarks[start] + state.tShift[start]):
            return False
        return rule(state, start, end, silent)

    return guarded


_UNDERLINE_LINE = re.compile(r"(?:=+|-+)[ \t]*")


def _lheading_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's setext heading rule, tried at the start of every paragraph: it reads the
    paragraph's lines (up to a blank line) for an underline ("---" or "===" and blanks) and
    gives up without one, so a paragraph with no such line is not read twice."""
    src, begins, shifts, ends = state.src, state.bMarks, state.tShift, state.eMarks
    line = start + 1
    while line < end and begins[line] + shifts[line] < ends[line]:
        if _UNDERLINE_LINE.fullmatch(src, begins[line] + shifts[line], ends[line]):
            return lheading(state, start, end, silent)
        line += 1
    return False


# a thematic break: three or more of one of "*", "-", "_", with blanks between and after
_HR_LINE = re.compile(r"(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}")


def _hr_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's thematic break rule, behind its own test of the line: it is tried before
    the list rule, so on every "- item" line too."""
    if not _HR_LINE.fullmatch(
        state.src, state.bMarks[start] + state.tShift[start], state.eMarks[start]
    ):
        return False
    return hr(state, start, end, silent)


def _code_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's indented code rule, behind its own test (``is_code_block``: four columns
    in from the block), tried at the start of every block."""
    if state.sCount[start] - state.blkIndent < 4:
        return False
    return code(state, start, end, silent)


_LIST = ("*", "-", "+", *"0123456789")
# (rule, guarded rule, the chains it ends): the chains are markdown-it's own
_GUARDED: tuple[tuple[str, _Rule, list[str]], ...] = (
    ("fence", _starting(fence, ("`", "~")), ["paragraph", "reference", "blockquote", "list"]),
    ("blockquote", _starting(blockquote, (">",)), ["paragraph", "reference", "blockquote", "list"]),
    ("code", _code_rule, []),
    ("hr", _hr_rule, ["paragraph", "reference", "blockquote", "list"]),
    ("list", _starting(list_block, _LIST), ["paragraph", "reference", "blockquote"]),
    ("html_block", _starting(html_block, ("<",)), ["paragraph", "reference", "blockquote"]),
    ("heading", _starting(heading, ("#",)), ["paragraph", "reference", "blockquote"]),
    ("lheading", _lheading_rule, []),
)


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


_new_token = object.__new__


class _BlockState(StateBlock):
    """markdown-it's block state, making its tokens directly: ``push`` runs for every token
    (some 20,000 in 170 KB of runbooks) and Token's generated ``__init__`` (thirteen fields,
    two default factories, a post-init conversion) was most of its cost. Each token is the
    one ``StateBlock.push`` makes: every field set to what Token(type, tag, nesting) and
    push give it."""

    def push(self, ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
        token = _new_token(Token)
        token.type = ttype
        token.tag = tag
        token.nesting = nesting
        token.attrs = {}
        token.map = None
        if nesting < 0:
            self.level -= 1  # a closing tag
        token.level = self.level
        if nesting > 0:
            self.level += 1  # an opening tag
        token.children = None
        token.content = ""
        token.markup = ""
        token.info = ""
        token.meta = {}
        token.block = True
        token.hidden = False
        self.tokens.append(token)
        return token


def block_tokens(text: str) -> list[Token]:
    """markdown-it's block tokens of ``text``, by a parser without the block rules the text
    gives nothing to (the same tokens as with every rule). The parser's core chain is its
    block rules alone (``_markdown``), so they are run directly, on a :class:`_BlockState`."""
    off = tuple(name for name, needed in _RULE_NEEDS if not needed(text))
    md = _PARSERS.get(off)
    if md is None:
        md = _PARSERS[off] = _markdown(off)
    tokens: list[Token] = []
    if text:  # as markdown-it's block parser: no state for an empty text
        state = _BlockState(text, md, {}, tokens)
        md.block.tokenize(state, state.line, state.lineMax)
    return tokens


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
