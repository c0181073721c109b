"""Figure cards laid out in as many columns as fit: re-flowed, never clipped."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QGridLayout, QWidget


def place_in_columns(grid: QGridLayout, cards: Iterable[QWidget], columns: int, most_columns: int) -> None:
    """Put ``cards`` into ``grid`` row by row, ``columns`` to a row, the other columns unstretched."""
    cards = list(cards)
    for card in cards:
        grid.removeWidget(card)
    for position, card in enumerate(cards):
        grid.addWidget(card, position // columns, position % columns)
    for column in range(most_columns):
        grid.setColumnStretch(column, 1 if column < columns else 0)
