"""The shared MIME-info package that tells a desktop the app's file types: their names, the
globs that recognise them, what they are a kind of and their icon."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from explorer.core.file_kind import FILE_TYPES, FileType
from explorer.desktop.entry import ICON_NAME
from explorer.desktop.icon_files import APP_ID

MIME_PACKAGE = f"{APP_ID}.xml"
MIME_NAMESPACE = "http://www.freedesktop.org/standards/shared-mime-info"


def _mime_type(kind: FileType) -> list[str]:
    lines = [f"  <mime-type type={quoteattr(kind.mime_type)}>", f"    <comment>{kind.description}</comment>"]
    if kind.sub_class_of:
        lines.append(f"    <sub-class-of type={quoteattr(kind.sub_class_of)}/>")
    if kind.saved_by_the_app:
        lines.append(f"    <icon name={quoteattr(ICON_NAME)}/>")
    lines += [f"    <glob pattern={quoteattr(glob)}/>" for glob in kind.globs]
    lines.append("  </mime-type>")
    return lines


def mime_package() -> str:
    """The XML of the package (``mime/packages/resnet-explorer.xml``)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<mime-info xmlns={quoteattr(MIME_NAMESPACE)}>"]
    for kind in FILE_TYPES:
        lines += _mime_type(kind)
    lines.append("</mime-info>")
    return "\n".join(lines) + "\n"
