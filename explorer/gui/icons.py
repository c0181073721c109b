"""Icons drawn in code: crisp at any scale and nothing to package or look up."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPainterPath, QPen, QPixmap

from explorer.desktop.icon_files import ICON_SIZES, icon_file, icon_png_name, icon_resource, icon_svg_name

# One colour per meaning, shared by the table, the charts and the legend.
RESIDUAL_COLOUR = QColor("#2e7d32")
PROJECTION_COLOUR = QColor("#d9730d")
ZERO_PAD_COLOUR = QColor("#7b5ea7")
STAGE_COLOUR = QColor("#1f5fa8")
ACCENT = QColor("#1f5fa8")

_SIZE = 32
# The window's icon at the sizes title bars, task bars and switchers ask for; the rest are
# the desktop entry's (Alt+Tab's largest is 256).
WINDOW_ICON_SIZES = tuple(size for size in ICON_SIZES if size <= 256)


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
    """The app's icon (a residual block: two layers and the shortcut that skips them), at the
    sizes the desktop entry installs, drawn beforehand from its SVG (``render_app_icon``)."""
    icon = QIcon()
    for size in WINDOW_ICON_SIZES:
        png = icon_file(icon_png_name(size))
        if not png.is_file():  # a package built without its data: say so, not a blank icon
            raise FileNotFoundError(f"the app's icon {png} is missing: reinstall resnet-explorer")
        icon.addFile(str(png), QSize(size, size))
    return icon


def render_app_icon(size: int) -> QImage:
    """The app's SVG icon drawn at ``size`` pixels square, as the installed PNGs are."""
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(icon_resource(icon_svg_name())))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image
