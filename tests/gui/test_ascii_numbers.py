"""The app's number fields show and take ASCII digits whatever the user's locale, as the command
line and spec files do."""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QSpinBox

from explorer.gui.app import application


def test_number_fields_use_ascii_digits_under_an_arabic_locale() -> None:
    QLocale.setDefault(QLocale(QLocale.Language.Arabic, QLocale.Country.Egypt))
    try:
        application()
        box = QSpinBox(maximum=100)
        box.setValue(16)
        assert box.text() == "16"
        box.lineEdit().setText("١٢")  # Arabic-Indic twelve
        box.interpretText()
        assert box.value() == 16
        box.lineEdit().setText("12")
        box.interpretText()
        assert box.value() == 12
    finally:
        QLocale.setDefault(QLocale.c())
