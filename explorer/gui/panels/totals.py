"""The totals strip: the whole network's figures in human units, exact ones in tooltips."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from explorer.core.analysis import MIB, Analysis
from explorer.core.units import format_bytes, format_count, format_macs, format_shape
from explorer.core.wording import counted
from explorer.gui.card_grid import place_in_columns
from explorer.gui.session import Session


class TotalCard(QFrame):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TotalCard")
        self.title = QLabel(title, objectName="CardTitle")
        self.value = QLabel("–", objectName="CardValue")
        self.detail = QLabel("", objectName="CardDetail")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(1)
        for label in (self.title, self.value, self.detail):
            layout.addWidget(label)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def show_figure(self, value: str, detail: str, tooltip: str) -> None:
        if (value, detail, tooltip) == (self.value.text(), self.detail.text(), self.toolTip()):
            return  # an edit elsewhere: this card stays as drawn
        self.value.setText(value)
        self.detail.setText(detail)
        self.setToolTip(tooltip)


class TotalsPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards = {
            key: TotalCard(title)
            for key, title in (
                ("params", "PARAMETERS"),
                ("macs", "MACs / IMAGE"),
                ("memory", "MEMORY"),
                ("depth", "DEPTH"),
                ("output", "OUTPUT"),
                ("receptive", "RECEPTIVE FIELD"),
            )
        }
        # One row of six when there is room, two rows of three otherwise: never clipped.
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(8)
        self.columns = 0
        self._arrange(len(self.cards))
        session.analysis_changed.connect(self.show_analysis)
        self.show_analysis(session.analysis)

    def _arrange(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        place_in_columns(self.grid, self.cards.values(), columns, len(self.cards))

    def _width_for(self, columns: int) -> int:
        cards = list(self.cards.values())
        rows = [cards[i : i + columns] for i in range(0, len(cards), columns)]
        spacing = self.grid.horizontalSpacing() * (columns - 1)
        return max(sum(card.sizeHint().width() for card in row) for row in rows) + spacing

    def minimumSizeHint(self) -> QSize:
        return QSize(self._width_for(3), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(len(self.cards) if event.size().width() >= self._width_for(len(self.cards)) else 3)

    def show_analysis(self, analysis: Analysis) -> None:
        t = analysis.totals
        spec = analysis.spec
        self.cards["params"].show_figure(
            format_count(t.total_params),
            f"trainable {format_count(t.trainable_params)}",
            f"Total params: {t.total_params:,}\nTrainable params: {t.trainable_params:,}\n"
            f"Non-trainable params: {t.non_trainable_params:,}",
        )
        gmacs = format_macs(t.macs)
        self.cards["macs"].show_figure(
            gmacs.replace("MACs", "").strip(),
            f"≈ {2 * t.macs / 1e9:.2f} GFLOPs",
            f"{t.macs:,} multiply-adds per image at {format_shape(spec.input_shape)}\n"
            "(convolutions and linear layers, as torch.utils.flop_counter counts them)",
        )
        self.cards["memory"].show_figure(
            format_bytes(t.total_size_mib * MIB),
            f"fwd/bwd {format_bytes(t.forward_backward_size_mib * MIB)} · "
            f"params {format_bytes(t.params_size_mib * MIB)}",
            f"Input size (MB): {t.input_size_mib:.2f}\n"
            f"Forward/backward pass size (MB): {t.forward_backward_size_mib:.2f}\n"
            f"Params size (MB): {t.params_size_mib:.2f}\n"
            f"Estimated Total Size (MB): {t.total_size_mib:.2f}\n"
            "(torchsummary's figures: float32, batch 1, MB = MiB)",
        )
        self.cards["depth"].show_figure(
            f"{t.depth}",
            analysis.depth_counted,
            f"{analysis.depth_text} on the main path (convolutions and any classifier)\n"
            f"{counted(len(analysis.stages), 'stage')}, {counted(sum(spec.depths), 'block')}\n"
            f"blocks per stage: {', '.join(map(str, spec.depths))}",
        )
        classes = counted(spec.num_classes, "class", "classes")
        head = f"a classifier of {classes}" if spec.num_classes else "no classifier"
        self.cards["output"].show_figure(
            format_shape(t.output_shape),
            "logits" if spec.num_classes else "pooled features",
            f"final output per image: {format_shape(t.output_shape)} ({head})",
        )
        field = f"global ({t.receptive_field:,} px)" if t.sees_whole_input else f"{t.receptive_field:,} px"
        explained = (
            f"the last layer's receptive field: {t.receptive_field} x {t.receptive_field} input pixels"
        )
        if t.sees_whole_input:
            explained = (
                "global: each output depends on the whole input, since an attention's global pooling "
                "scales every position by what it saw everywhere; through the convolutions alone "
                f"the last layer sees {t.receptive_field} x {t.receptive_field} input pixels"
            )
        self.cards["receptive"].show_figure(
            field, f"input {spec.input_shape[1]}×{spec.input_shape[2]}", explained
        )
