"""A zoomable, pannable view of a drawn diagram, with clickable and highlighted boxes.

The drawing is painted band by band (the scene skips bands off screen); clicks and
hovering are resolved against the drawing's regions, and a highlight is a few
outline items laid over the drawing. Nothing is laid out or re-rendered to select, so a selection shows
at once even on the deepest networks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QToolTip,
    QWidget,
)

from explorer.core.render.highlight import HIGHLIGHT_FILL, HIGHLIGHT_LINE
from explorer.gui.diagram_drawing import Band, Drawing, Region

MIN_ZOOM = 0.02  # of actual size
MAX_ZOOM = 8.0
ZOOM_STEP = 1.25
SCENE_MARGIN = 24.0
POINTS_PER_INCH = 72.0  # graphviz draws in points
OVERVIEW_MAX = (160, 320)  # the overview's largest size on screen (pixels)
OVERVIEW_SHARE = 0.5  # of the window's height, at most
OVERVIEW_MARGIN = 8
# A long drawing's overview is stretched across to at least this: a sliver would hide the view's box.
OVERVIEW_MIN_ACROSS = 36


class _Highlight(QGraphicsPathItem):
    """A box's outline and a tint multiplied into it, so its text stays dark and sharp."""

    def paint(self, painter: QPainter, option, widget=None) -> None:  # type: ignore[no-untyped-def]
        painter.save()
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
        painter.fillPath(self.path(), self.brush())
        painter.restore()
        painter.strokePath(self.path(), self.pen())


class _BandItem(QGraphicsItem):
    """One band of the drawing: the scene paints only the bands on screen."""

    def __init__(self, band: Band, bounds: QRectF) -> None:
        super().__init__()
        self._band = band
        self._bounds = bounds

    def boundingRect(self) -> QRectF:
        return self._band.rect

    def paint(self, painter: QPainter, option, widget=None) -> None:  # type: ignore[no-untyped-def]
        painter.save()
        painter.setClipRect(self._band.rect, Qt.ClipOperation.IntersectClip)
        self._band.renderer.render(painter, self._bounds)
        painter.restore()


def _highlight_item(region: Region) -> QGraphicsPathItem:
    rect = region.rect.adjusted(-3, -3, 3, 3)
    path = QPainterPath()
    if region.round:
        path.addEllipse(rect)
    else:
        path.addRoundedRect(rect, 4, 4)
    item = _Highlight(path)
    pen = QPen(QColor(HIGHLIGHT_LINE), 3)
    pen.setCosmetic(True)  # as thick when zoomed out to see the whole network
    item.setPen(pen)
    fill = QColor(HIGHLIGHT_FILL)
    item.setBrush(QBrush(fill))
    item.setZValue(1)
    return item


class Overview(QWidget):
    """The whole drawing, small, in the corner of a view it does not fit: the part on show
    outlined; a click or a drag there moves the view."""

    def __init__(self, view: SvgDiagramView) -> None:
        super().__init__(view)
        self.setObjectName("DiagramOverview")
        self.setToolTip("The whole diagram: click or drag to move the view")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._view = view
        self._picture: QPixmap | None = None
        self.hide()

    def show_picture(self, image: QImage | None) -> None:
        self._picture = QPixmap.fromImage(image) if image is not None and not image.isNull() else None
        self.follow()

    def _scales(self) -> tuple[float, float]:
        """Overview pixels per point of the drawing, across and down."""
        bounds = self._view.drawing_bounds()
        width, height = max(bounds.width(), 1.0), max(bounds.height(), 1.0)
        room_height = min(OVERVIEW_MAX[1], self._view.viewport().height() * OVERVIEW_SHARE)
        scale = min(OVERVIEW_MAX[0] / width, room_height / height)
        return max(scale, OVERVIEW_MIN_ACROSS / width), max(scale, OVERVIEW_MIN_ACROSS / height)

    def follow(self) -> None:
        """Shown where the drawing runs past the window, in its bottom right corner."""
        bounds = self._view.drawing_bounds()
        if self._picture is None or bounds.isEmpty() or self._view.visible_rect().contains(bounds):
            self.hide()
            return
        scale_x, scale_y = self._scales()
        width = round(bounds.width() * scale_x)
        height = round(bounds.height() * scale_y)
        corner = self._view.viewport().geometry().bottomRight()
        self.setGeometry(
            corner.x() - width - OVERVIEW_MARGIN + 1, corner.y() - height - OVERVIEW_MARGIN + 1, width, height
        )
        self.show()
        self.raise_()
        self.update()

    def shown_rect(self) -> QRectF:
        """The part of the drawing in the view, in the overview's pixels."""
        bounds = self._view.drawing_bounds()
        visible = self._view.visible_rect().intersected(bounds)
        scale_x, scale_y = self._scales()
        return QRectF(
            (visible.left() - bounds.left()) * scale_x,
            (visible.top() - bounds.top()) * scale_y,
            visible.width() * scale_x,
            visible.height() * scale_y,
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._picture is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setOpacity(0.92)
        painter.drawPixmap(self.rect(), self._picture)
        painter.setOpacity(1.0)
        painter.setPen(QPen(QColor("#8c8c8c"), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        shown = self.shown_rect()
        tint = QColor(HIGHLIGHT_LINE)
        tint.setAlpha(48)
        painter.fillRect(shown, tint)
        painter.setPen(QPen(QColor(HIGHLIGHT_LINE), 2))
        painter.drawRect(shown.adjusted(1, 1, -1, -1))
        painter.end()

    def move_view_to(self, position: QPointF) -> None:
        """Centre the view on the drawing's point under ``position`` (the overview's pixels)."""
        bounds = self._view.drawing_bounds()
        scale_x, scale_y = self._scales()
        self._view.centerOn(bounds.left() + position.x() / scale_x, bounds.top() + position.y() / scale_y)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.move_view_to(event.position())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.move_view_to(event.position())
        event.accept()


class SvgDiagramView(QGraphicsView):
    element_clicked = Signal(object)  # the region's id, or None for the background
    zoom_changed = Signal(float)  # relative to actual size (1.0 = 100 %)

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setBackgroundBrush(QColor("white"))
        self._as_opened = False  # showing the drawing's initial view, untouched since
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.viewport().setMouseTracking(True)
        self.drawing: Drawing | None = None
        self._bounds: QRectF | None = None
        self._highlights: list[QGraphicsPathItem] = []
        self.highlighted: tuple[str, ...] = ()
        self._press: QPoint | None = None
        self._press_scroll = (0, 0)
        self._dragging = False
        self._stale = False
        # The owner tells what an element is (a tooltip), and which boxes a click acts on
        # like a button (a fold group's); the view only knows their ids.
        self.describe: Callable[[str], str] = lambda element_id: ""
        self.acts_on_click: Callable[[str], bool] = lambda element_id: False
        self.overview = Overview(self)
        self.horizontalScrollBar().valueChanged.connect(lambda _value: self.overview.follow())
        self.verticalScrollBar().valueChanged.connect(lambda _value: self.overview.follow())
        self.zoom_changed.connect(lambda _zoom: self.overview.follow())

    # What is shown

    def show_drawing(self, drawing: Drawing, keep_view: bool) -> None:
        """Show ``drawing``; ``keep_view`` keeps the zoom and the centre (same level, an edit)
        while the drawing still fills the window at that zoom."""
        centre = self.mapToScene(self.viewport().rect().center())
        zoom = self.zoom()
        scene = self.scene()
        self._highlights = []
        scene.clear()
        self.drawing = drawing
        bounds = self._bounds = QRectF(drawing.bounds)
        for band in drawing.bands:
            scene.addItem(_BandItem(band, bounds))
        scene.setSceneRect(bounds.adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN))
        # A zoom that would leave the whole new drawing smaller than the window is of a
        # larger network: the drawing gets its own view instead of being a speck in the old one.
        if keep_view and self._has_view and zoom >= min(self._fit_zooms()):
            self.set_zoom(zoom)
            self.centerOn(centre)
        else:
            self.initial_view()
        self._has_view = True
        self.set_highlight(self.highlighted, scroll=False)
        self.overview.show_picture(drawing.overview)

    _has_view = False

    def set_stale(self, stale: bool) -> None:
        """Veil the drawing while a newer one is being drawn."""
        if stale != self._stale:
            self._stale = stale
            self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self._stale:
            painter.fillRect(rect, QColor(255, 255, 255, 170))

    def clear(self) -> None:
        self.scene().clear()
        self._highlights = []
        self._bounds = None
        self.drawing = None
        self.overview.show_picture(None)

    def drawing_bounds(self) -> QRectF:
        return QRectF(self._bounds) if self._bounds is not None else QRectF()

    def visible_rect(self) -> QRectF:
        """The part of the drawing (scene coordinates) in the window."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def centre_on(self, rect: QRectF) -> None:
        """Centre ``rect``, or where it begins if it is larger than the window."""
        visible = self.visible_rect()
        if rect.width() <= visible.width() and rect.height() <= visible.height():
            self.centerOn(rect.center())
        else:
            # Its start in the middle of the window's first half: seen, with what leads to it.
            x = rect.center().x() if rect.width() <= visible.width() else rect.left() + visible.width() / 4
            y = rect.center().y() if rect.height() <= visible.height() else rect.top() + visible.height() / 4
            self.centerOn(x, y)

    # Zoom

    def actual_scale(self) -> float:
        """View scale at which one point of the drawing is one point on this screen."""
        return self.logicalDpiX() / POINTS_PER_INCH

    def zoom(self) -> float:
        return self.transform().m11() / self.actual_scale()

    def set_zoom(self, zoom: float, anchor: QPoint | None = None) -> None:
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        self._as_opened = False
        factor = zoom / self.zoom()
        if anchor is None:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        try:
            self.scale(factor, factor)
        finally:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.zoom_changed.emit(self.zoom())

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / ZOOM_STEP)

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def fit(self) -> None:
        """The whole drawing in the window."""
        if self._bounds is not None:
            self.set_zoom(min(self._fit_zooms()))
            # Scroll bars hide only later when nothing is left to scroll; placed again now,
            # so that the drawing is centred in the window it will have.
            self.setHorizontalScrollBarPolicy(self.horizontalScrollBarPolicy())
            self.setVerticalScrollBarPolicy(self.verticalScrollBarPolicy())
            self.set_zoom(min(self._fit_zooms()))
            self.centerOn(self._bounds.center())

    def _fit_zooms(self) -> tuple[float, float]:
        """Zooms at which the drawing's width, and its height, fill the window."""
        bounds = self.sceneRect()
        viewport = self.viewport().rect()
        zoom_x = viewport.width() / max(bounds.width(), 1.0)
        zoom_y = viewport.height() / max(bounds.height(), 1.0)
        return zoom_x / self.actual_scale(), zoom_y / self.actual_scale()

    def initial_view(self) -> None:
        """Whole if it stays readable; else a long drawing fills the window across
        (at most at actual size) and starts at its beginning: the top, or the left."""
        if self._bounds is None:
            return
        self._open_view()
        self._as_opened = True

    def _open_view(self) -> None:
        assert self._bounds is not None
        zoom_x, zoom_y = self._fit_zooms()
        if min(zoom_x, zoom_y) >= 0.6:
            self.set_zoom(min(zoom_x, zoom_y, 1.5))
            self.centerOn(self._bounds.center())
            return
        bounds = self.sceneRect()
        half_w = self.viewport().width() / 2 / self.actual_scale()
        half_h = self.viewport().height() / 2 / self.actual_scale()
        if bounds.height() >= bounds.width():
            self.set_zoom(min(zoom_x, 1.0))
            self.centerOn(bounds.center().x(), bounds.top() + half_h / self.zoom())
        else:
            self.set_zoom(min(zoom_y, 1.0))
            self.centerOn(bounds.left() + half_w / self.zoom(), bounds.center().y())

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.set_zoom(self.zoom() * ZOOM_STEP**steps, anchor=event.position().toPoint())
            event.accept()
            return
        super().wheelEvent(event)

    # Highlight

    def set_highlight(self, ids: Iterable[str], scroll: bool = True) -> None:
        """Outline the elements ``ids`` (unknown ids are ignored); scroll the first into view."""
        for item in self._highlights:
            self.scene().removeItem(item)
        if self._highlights:
            # A removed item's area is not always repainted: the old outlines would stay on
            # screen until something else covers them.
            self.viewport().update()
        self._highlights = []
        self.highlighted = tuple(ids)
        if self.drawing is None:
            return
        regions = [self.drawing.regions.regions.get(element) for element in self.highlighted]
        shown = [region for region in regions if region is not None]
        for region in shown:
            item = _highlight_item(region)
            self.scene().addItem(item)
            self._highlights.append(item)
        if scroll and shown:
            self.bring_into_view(shown)

    def bring_into_view(self, regions: list[Region]) -> None:
        united = QRectF(regions[0].rect)
        for region in regions[1:]:
            united = united.united(region.rect)
        if self.visible_rect().contains(united):
            return
        # Centred, not pushed to the window's edge: what is around it shows too.
        visible = self.visible_rect()
        if united.width() <= visible.width() and united.height() <= visible.height():
            self.centerOn(united.center())
        else:
            self.centre_on(regions[0].rect)

    # Mouse: drag to pan, click to select, hover for details

    def region_at(self, position: QPoint) -> Region | None:
        if self.drawing is None:
            return None
        point = self.mapToScene(position)
        return self.drawing.regions.at(point.x(), point.y())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.overview.follow()
        # The window settles after the drawing came (a tool bar wraps, a message shows):
        # an untouched initial view follows it.
        if self._as_opened:
            self.initial_view()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._as_opened = False
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._press = event.position().toPoint()
            self._press_scroll = (self.horizontalScrollBar().value(), self.verticalScrollBar().value())
            self._dragging = False
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = event.position().toPoint()
        if self._press is not None:
            moved = position - self._press
            if self._dragging or moved.manhattanLength() >= QApplication.startDragDistance():
                self._dragging = True
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
                self.horizontalScrollBar().setValue(self._press_scroll[0] - moved.x())
                self.verticalScrollBar().setValue(self._press_scroll[1] - moved.y())
            event.accept()
            return
        region = self.region_at(position)
        pointing = region is not None and (not region.cluster or self.acts_on_click(region.id))
        self.viewport().setCursor(
            Qt.CursorShape.PointingHandCursor if pointing else Qt.CursorShape.OpenHandCursor
        )
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is not None:
            clicked = not self._dragging and event.button() == Qt.MouseButton.LeftButton
            self._press = None
            self._dragging = False
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            if clicked:
                region = self.region_at(event.position().toPoint())
                self.element_clicked.emit(region.id if region else None)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def tooltip_at(self, position: QPoint) -> str:
        region = self.region_at(position)
        return self.describe(region.id) if region is not None else ""

    def viewportEvent(self, event) -> bool:  # type: ignore[no-untyped-def]
        if event.type() == event.Type.ToolTip:
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)
