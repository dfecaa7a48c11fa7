"""HTML tables inside a markdown runbook (wiki and Confluence exports write task tables
as ``<table><tr><td>…``): read into the same rows a pipe table gives, each with its line."""

from __future__ import annotations

from html.parser import HTMLParser

_CELLS = ("td", "th")
_BREAKS = ("br", "p", "div", "li")


class _Rows(HTMLParser):
    """The rows of the first table (nested tables' text joins their cell), with the
    offset of each ``<tr>`` from the block's first line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[int, list[str]]] = []
        self.depth = 0  # tables open
        self.cell: list[str] | None = None
        self.row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.depth += 1
        elif self.depth != 1:
            return
        elif tag == "tr":
            self._end_row()
            self.row = []
            self.rows.append((self.getpos()[0] - 1, self.row))
        elif tag in _CELLS:
            self._end_cell()
            self.cell = []
        elif tag in _BREAKS and self.cell:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            if self.depth == 1:
                self._end_row()
            self.depth = max(0, self.depth - 1)
        elif self.depth != 1:
            return
        elif tag in _CELLS:
            self._end_cell()
        elif tag == "tr":
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def _end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
        self.cell = None

    def _end_row(self) -> None:
        self._end_cell()
        self.row = None


def table_rows(html: str) -> list[tuple[int, list[str]]]:
    """``(line offset, cells)`` for each row of the first ``<table>`` in ``html`` that
    has cells; none when it holds no table."""
    if "<table" not in html.lower():
        return []
    reader = _Rows()
    reader.feed(html)
    reader.close()
    return [(offset, cells) for offset, cells in reader.rows if any(cells)]
