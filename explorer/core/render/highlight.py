"""Marking nodes of a rendered DOT graph (the blocks that differ in a structural diff)."""

from __future__ import annotations

from collections.abc import Iterable

from explorer.core.render.dot import quote

HIGHLIGHT_FILL = "#FFE08A"
HIGHLIGHT_LINE = "#C62828"


def highlight_nodes(dot_text: str, node_ids: Iterable[str]) -> str:
    """``dot_text`` with the given nodes filled and outlined in the highlight colours.

    DOT lets a later statement about a node add to its attributes, so the marks are
    appended before the graph's closing brace and the drawing code stays untouched.
    """
    style = f"fillcolor={quote(HIGHLIGHT_FILL)}, color={quote(HIGHLIGHT_LINE)}, penwidth=2.5"
    marks = [f"  {quote(node_id)} [{style}];" for node_id in node_ids]
    if not marks:
        return dot_text
    body, brace, tail = dot_text.rstrip().rpartition("}")
    if not brace:
        raise ValueError("not a DOT graph: no closing brace")
    return body + "\n".join(marks) + "\n}" + tail + "\n"
