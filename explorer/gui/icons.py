"""Icons drawn in code: crisp at any scale and nothing to package or look up."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

# One colour per meaning, shared by the table, the charts and the legend.
RESIDUAL_COLOUR = QColor("#2e7d32")
PROJECTION_COLOUR = QColor("#d9730d")
ZERO_PAD_COLOUR = QColor("#7b5ea7")
STAGE_COLOUR = QColor("#1f5fa8")
ACCENT = QColor("#1f5fa8")

_SIZE = 32


def _canvas() -> tuple[QPixmap, QPainter]:
    pixmap = QPixmap(_SIZE, _SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pixmap, painter


@cache
def residual_add_icon() -> QIcon:
    """A circled plus: where the shortcut rejoins the main path."""
    pixmap, painter = _canvas()
    painter.setPen(QPen(RESIDUAL_COLOUR, 3))
    painter.setBrush(QColor("#e8f5e9"))
    painter.drawEllipse(QRectF(4, 4, 24, 24))
    painter.drawLine(QPointF(16, 9), QPointF(16, 23))
    painter.drawLine(QPointF(9, 16), QPointF(23, 16))
    painter.end()
    return QIcon(pixmap)


def _arrow_icon(colour: QColor, dashed: bool) -> QIcon:
    pixmap, painter = _canvas()
    pen = QPen(colour, 3.5, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    path = QPainterPath(QPointF(6, 26))
    path.cubicTo(QPointF(6, 8), QPointF(14, 6), QPointF(24, 6))
    painter.drawPath(path)
    pen = QPen(colour, 3.5)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawLine(QPointF(24, 6), QPointF(18, 1))
    painter.drawLine(QPointF(24, 6), QPointF(18, 11))
    painter.end()
    return QIcon(pixmap)


@cache
def projection_icon() -> QIcon:
    """A solid bent arrow: a shortcut that carries weights (1x1 conv + BN)."""
    return _arrow_icon(PROJECTION_COLOUR, dashed=False)


@cache
def zero_pad_icon() -> QIcon:
    """A dashed bent arrow: the CIFAR paper's parameter-free shortcut."""
    return _arrow_icon(ZERO_PAD_COLOUR, dashed=True)


@cache
def stage_icon() -> QIcon:
    pixmap, painter = _canvas()
    painter.setPen(Qt.PenStyle.NoPen)
    for i, shade in enumerate(("#9ab8dd", "#5f8fc9", STAGE_COLOUR.name())):
        painter.setBrush(QColor(shade))
        painter.drawRoundedRect(QRectF(4 + 3 * i, 20 - 7 * i, 18, 8), 2, 2)
    painter.end()
    return QIcon(pixmap)


@cache
def app_icon() -> QIcon:
    """Two layers with a skip connection arching over them."""
    pixmap = QPixmap(128, 128)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(ACCENT)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(QRectF(4, 4, 120, 120), 24, 24)
    painter.setBrush(QColor("white"))
    painter.drawRoundedRect(QRectF(28, 64, 72, 16), 5, 5)
    painter.drawRoundedRect(QRectF(28, 92, 72, 16), 5, 5)
    pen = QPen(QColor("#ffd166"), 9)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath(QPointF(22, 100))
    path.cubicTo(QPointF(4, 30), QPointF(124, 30), QPointF(106, 100))
    painter.drawPath(path)
    painter.setPen(QColor("white"))
    font = QFont()
    font.setPixelSize(30)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(QRectF(0, 8, 128, 40), Qt.AlignmentFlag.AlignCenter, "+")
    painter.end()
    return QIcon(pixmap)
