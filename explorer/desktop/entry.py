"""The application's desktop entry (``resnet-explorer.desktop``), as the Desktop Entry
Specification writes it: what the menu shows, the program it runs and the files it opens."""

from __future__ import annotations

from collections.abc import Sequence

from explorer.core.file_kind import FILE_TYPES
from explorer.desktop.icon_files import APP_ID

# The entry's name is the application's id: Qt gives it to the desktop as the window's
# (QGuiApplication.setDesktopFileName), which is how a dock matches the window to the entry.
DESKTOP_FILE = f"{APP_ID}.desktop"
ICON_NAME = APP_ID
CATEGORIES = ("Development", "Science", "Education")
KEYWORDS = ("ResNet", "residual network", "neural network", "deep learning", "PyTorch", "CNN")
NEW_WINDOW_FLAG = "--new-window"

# Characters that make an Exec argument need quotes (the specification's list).
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
# Inside double quotes these four need a backslash before them.
_ESCAPED_IN_QUOTES = set('"`$\\')


class EntryError(ValueError):
    """A program path that no desktop entry can name."""


def exec_argument(argument: str) -> str:
    """``argument`` as one argument of an Exec key: quoted when it must be, ``%`` doubled
    (a lone one starts a field code), before the string escapes of the whole value."""
    if any(ord(char) < 0x20 or char == "\x7f" for char in argument):
        raise EntryError(f"{argument!r} holds a control character, which an Exec key cannot carry")
    text = argument.replace("%", "%%")
    if not text or any(char in _RESERVED for char in text):
        text = '"' + "".join("\\" + char if char in _ESCAPED_IN_QUOTES else char for char in text) + '"'
    return text


def string_value(text: str) -> str:
    """``text`` as a desktop entry's string value: backslashes and white space escaped."""
    if any(ord(char) < 0x20 and char not in "\t\n\r" for char in text):
        raise EntryError(f"{text!r} holds a control character, which a desktop entry cannot carry")
    escapes = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return "".join(escapes.get(char, char) for char in text)


def exec_line(command: Sequence[str], *extra: str) -> str:
    """The value of an Exec key that runs ``command`` with ``extra`` (field codes, kept as they are)."""
    return string_value(" ".join([*(exec_argument(part) for part in command), *extra]))


def desktop_entry(command: Sequence[str]) -> str:
    """The text of the application's desktop entry; ``command`` starts the app (its first
    item an absolute path to the program), and opens the files it is given."""
    mime_types = "".join(f"{kind.mime_type};" for kind in FILE_TYPES)
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # nothing of 1.5 is used, and validators before 0.27 refuse it
        "Name=ResNet Explorer",
        "GenericName=Neural Network Architecture Explorer",
        "Comment=See what a residual network really is: layers, shapes, parameters, MACs and timings",
        f"Icon={ICON_NAME}",
        # %F: the files chosen in a file manager, all in one launch (the running window opens them).
        f"Exec={exec_line(command, '%F')}",
        # Without the program (the package uninstalled) the desktop hides the entry.
        f"TryExec={string_value(command[0])}",
        "Terminal=false",
        f"Categories={''.join(f'{name};' for name in CATEGORIES)}",
        f"Keywords={''.join(f'{word};' for word in KEYWORDS)}",
        f"MimeType={mime_types}",
        "StartupNotify=true",
        f"StartupWMClass={APP_ID}",
        "Actions=new-window;",
        "",
        "[Desktop Action new-window]",
        "Name=New Window",
        f"Exec={exec_line(command, NEW_WINDOW_FLAG)}",
        "",
    ]
    return "\n".join(lines)
