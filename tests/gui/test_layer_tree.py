"""The layer tree: its structure, numbers, sorting, filtering and markers."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.gui import icons
from explorer.gui.models.layer_tree import COLUMNS, COPY_ROLE, NUMERIC_COLUMNS, LayerTreeModel, build_tree

from .conftest import expected_layers, table_layers


def _children(model, parent=None):  # type: ignore[no-untyped-def]
    parent = parent if parent is not None else QModelIndex()
    return [model.index(row, 0, parent) for row in range(model.rowCount(parent))]


def test_tree_is_stem_stages_head_with_blocks_and_their_layers(qapp) -> None:  # type: ignore[no-untyped-def]
    analysis = analyze(preset("torchvision/resnet50"))
    model = LayerTreeModel()
    model.set_analysis(analysis)
    top = [index.data() for index in _children(model)]
    assert top == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    layer3 = _children(model)[3]
    blocks = _children(model, layer3)
    assert [b.data() for b in blocks] == [f"layer3.{i}" for i in range(6)]
    assert [i.data() for i in _children(model, blocks[0])] == [
        "conv1", "bn1", "relu", "conv2", "bn2", "relu", "conv3", "bn3",
        "shortcut.0", "shortcut.1", "add", "relu",
    ]  # fmt: skip
    stage = analysis.stages[2]
    assert layer3.siblingAtColumn(3).data() == f"{stage.params:,}"
    assert layer3.siblingAtColumn(4).data() == f"{stage.macs:,}"
    assert blocks[1].siblingAtColumn(3).data(COPY_ROLE) == str(stage.blocks[1].params)


def test_layer_rows_equal_the_analysis(qapp, window) -> None:  # type: ignore[no-untyped-def]
    assert table_layers(window) == expected_layers(analyze(preset("resnet18")))


def test_numbers_have_separators_and_align_right(qapp) -> None:  # type: ignore[no-untyped-def]
    model = LayerTreeModel()
    model.set_analysis(analyze(preset("resnet18")))
    conv1 = model.index(0, 0, model.index(0, 0))
    assert conv1.data() == "conv1"
    assert conv1.siblingAtColumn(3).data() == "1,728"
    assert conv1.siblingAtColumn(4).data() == "1,769,472"
    align = Qt.AlignmentFlag(conv1.siblingAtColumn(3).data(Qt.ItemDataRole.TextAlignmentRole))
    assert align & Qt.AlignmentFlag.AlignRight
    assert "1,728 parameters" in model.tooltip(conv1.siblingAtColumn(3))


def test_sorting_is_numeric(qapp, window) -> None:  # type: ignore[no-untyped-def]
    view = window.layer_view
    view.tree.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    proxy = view.model
    stages = [proxy.index(row, 0) for row in range(proxy.rowCount())]
    params = [int(index.siblingAtColumn(3).data(COPY_ROLE)) for index in stages]
    assert params == sorted(params, reverse=True)
    # Text order would put 525,568 before 2,099,712; numeric order does not.
    assert [index.data() for index in stages][:2] == ["layer4", "layer3"]


def test_filter_keeps_matches_and_their_parents(qapp, window) -> None:  # type: ignore[no-untyped-def]
    view = window.layer_view
    view.filter_edit.setText("shortcut")
    proxy = view.model
    leaves = []
    pending = [QModelIndex()]
    while pending:
        parent = pending.pop()
        for row in range(proxy.rowCount(parent)):
            index = proxy.index(row, 0, parent)
            if proxy.rowCount(index) == 0:
                leaves.append(index.data(COPY_ROLE))
            pending.append(index)
    assert sorted(leaves) == sorted(f"layer{s}.0.shortcut.{i}" for s in (2, 3, 4) for i in (0, 1))
    view.filter_edit.setText("")
    assert view.visible_row_count() == len(expected_layers(analyze(preset("resnet18")))) + 4 + 8 + 2


def test_residual_adds_and_projections_are_marked(qapp) -> None:  # type: ignore[no-untyped-def]
    model = LayerTreeModel()
    model.set_analysis(analyze(preset("resnet18")))
    block = model.index(0, 0, model.index(2, 0))  # layer2.0
    assert block.data() == "layer2.0"
    rows = {model.index(r, 0, block).data(): model.index(r, 0, block) for r in range(model.rowCount(block))}
    assert rows["add"].data(Qt.ItemDataRole.DecorationRole) is not None
    assert rows["shortcut.0"].data(Qt.ItemDataRole.ForegroundRole).color() == icons.PROJECTION_COLOUR
    assert rows["conv1"].data(Qt.ItemDataRole.ForegroundRole) is None
    assert block.data(Qt.ItemDataRole.DecorationRole) is not None
    assert "projection" in block.siblingAtColumn(1).data()


def test_zero_pad_shortcut_is_marked(qapp) -> None:  # type: ignore[no-untyped-def]
    model = LayerTreeModel()
    model.set_analysis(analyze(preset("cifar/resnet20")))
    block = model.index(0, 0, model.index(2, 0))
    rows = {model.index(r, 0, block).data(): model.index(r, 0, block) for r in range(model.rowCount(block))}
    assert rows["shortcut"].data(Qt.ItemDataRole.ForegroundRole).color() == icons.ZERO_PAD_COLOUR


def test_an_avg_down_shortcut_is_marked_as_weighted_including_its_pool(qapp) -> None:  # type: ignore[no-untyped-def]
    model = LayerTreeModel()
    model.set_analysis(analyze(preset("timm/resnet50d")))
    block = model.index(0, 0, model.index(2, 0))  # layer2.0: pool, conv, norm
    assert block.data() == "layer2.0"
    rows = {model.index(r, 0, block).data(): model.index(r, 0, block) for r in range(model.rowCount(block))}
    for name in ("shortcut.0", "shortcut.1", "shortcut.2"):
        assert rows[name].data(Qt.ItemDataRole.ForegroundRole).color() == icons.PROJECTION_COLOUR, name
    assert "avg-down" in block.siblingAtColumn(1).data()


def test_a_filter_that_matches_nothing_says_so(qapp, window) -> None:  # type: ignore[no-untyped-def]
    view = window.layer_view
    view.filter_edit.setText("xyz")
    assert view.visible_row_count() == 0
    assert view.no_match.isVisible() and view.no_match.text() == "No layer matches 'xyz'"
    view.filter_edit.setText("conv")
    assert view.visible_row_count() > 0 and not view.no_match.isVisible()
    view.filter_edit.setText("<b>" + "x" * 200)
    assert len(view.no_match.text()) < 100  # a long filter is cut, never widens the window
    view.filter_edit.setText("")
    assert not view.no_match.isVisible()


def test_in_a_narrow_window_every_figure_stays_in_view(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    view = window.show_tab("Layers")
    view.filter_edit.setText("xyz")  # the columns are fitted while the table is empty
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: view.tree.viewport().width() < 700)
    view.filter_edit.setText("")
    tree = view.tree
    widths = [tree.columnWidth(column) for column in range(len(COLUMNS))]
    assert sum(widths) <= tree.viewport().width()
    for column in NUMERIC_COLUMNS | {2}:
        assert widths[column] >= tree.sizeHintForColumn(column), COLUMNS[column]


def test_attention_steps_drop_path_rates_and_dilations_show_in_their_block() -> None:
    spec = replace(preset("timm/seresnet50"), drop_path=0.1, output_stride=16, input_size=(64, 64))
    root = build_tree(analyze(spec))

    def walk(node):  # type: ignore[no-untyped-def]
        yield node
        for child in node.children:
            yield from walk(child)

    texts = [(node.full_name, node.type_text) for node in walk(root)]
    assert ("layer1.0.se.mean", "mean (functional)") in texts
    assert any(name.endswith("drop_path") and "rate 0.1" in text for name, text in texts)
    assert any(name == "layer4.1" and "dilation 2" in text for name, text in texts)
    assert any(name.startswith("layer4.1.conv2") and "dilation 2" in text for name, text in texts)


def test_resting_the_pointer_on_a_cell_shows_its_tooltip(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """Tooltips are made when asked for, by the delegate that paints the table."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    tree = window.layer_view.tree
    model = window.layer_view.model
    window.show()
    qtbot.waitExposed(window)
    conv1 = model.index(0, 0, model.index(0, 0))
    for column, expected in ((0, "kernel 3, stride 1, padding 1"), (3, "1,728 parameters")):
        cell = conv1.siblingAtColumn(column)
        point = tree.visualRect(cell).center()
        event = QHelpEvent(QEvent.Type.ToolTip, point, tree.viewport().mapToGlobal(point))
        QApplication.sendEvent(tree.viewport(), event)
        assert expected in QToolTip.text()
    QToolTip.hideText()


def test_a_row_after_an_attention_gate_shows_a_global_receptive_field(qapp, qtbot, window) -> None:  # type: ignore[no-untyped-def]
    analysis = analyze(preset("timm/seresnet50"))
    model = LayerTreeModel()
    model.set_analysis(analysis)
    layer1 = _children(model)[1]
    second_block = _children(model, layer1)[1]
    conv1 = _children(model, second_block)[0]
    row = next(r for r in analysis.rows if r.name == "layer1.1.conv1")
    assert conv1.siblingAtColumn(5).data() == f"global ({row.receptive_field:,})"
    assert "depends on the whole input" in model.tooltip(conv1.siblingAtColumn(5))
    stem_conv = _children(model, _children(model)[0])[0]
    assert stem_conv.siblingAtColumn(5).data() == "7"
    window.session.load(analysis.spec)
    qtbot.waitUntil(lambda: window.session.analysis.spec == analysis.spec)
    card = window.totals.cards["receptive"]
    card_figure = analysis.totals.receptive_field
    assert card.value.text() == f"global ({card_figure:,} px)" and "whole input" in card.toolTip()
