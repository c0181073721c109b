"""The desktop's list of recently used files ($XDG_DATA_HOME/recently-used.xbel), which file
managers' "Recent" places and file dialogs show.

An entry is added or updated in the file the other programs share, as GTK's own
GBookmarkFile writes it: their entries, and anything in the file this module does not know,
are kept as they are. The file is replaced in one step (a temporary file and a rename), and
a file that cannot be read as such a list is left alone, never written over.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, unquote

from explorer.core.files import atomic_write_bytes, read_user_bytes
from explorer.desktop.xdg import recently_used_file

BOOKMARK_NS = "http://www.freedesktop.org/standards/desktop-bookmarks"
MIME_NS = "http://www.freedesktop.org/standards/shared-mime-info"
# The metadata the desktop's programs read: GTK's, which others follow.
METADATA_OWNER = "http://freedesktop.org"
APPLICATION_NAME = "ResNet Explorer"
# How the list says to open the file again with this app (GTK's form: quoted, %f the file).
APPLICATION_EXEC = "'resnet-explorer-gui %f'"
# Each saved list must say its prefixes as the other programs' lists do.
_PREFIXES = {"bookmark": BOOKMARK_NS, "mime": MIME_NS}


def file_uri(path: Path) -> str:
    """``path``'s file URI as GLib writes it (its characters that a path may keep, unescaped),
    so that the list has one entry for a file whichever program added it."""
    return "file://" + quote(os.fsencode(path.resolve()), safe="/!$&'()*+,;=:@~")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _child(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    found = parent.find(tag)
    if found is None:
        found = ET.SubElement(parent, tag, attributes)
    return found


def _freedesktop_metadata(bookmark: ET.Element) -> ET.Element:
    info = _child(bookmark, "info")
    for metadata in info.findall("metadata"):
        if metadata.get("owner") == METADATA_OWNER:
            return metadata
    return ET.SubElement(info, "metadata", {"owner": METADATA_OWNER})


def _note_use(bookmark: ET.Element, mime_type: str, stamp: str) -> None:
    bookmark.set("modified", stamp)
    bookmark.set("visited", stamp)
    metadata = _freedesktop_metadata(bookmark)
    mime = _child(metadata, f"{{{MIME_NS}}}mime-type")
    mime.set("type", mime_type)
    applications = _child(metadata, f"{{{BOOKMARK_NS}}}applications")
    for application in applications.findall(f"{{{BOOKMARK_NS}}}application"):
        if application.get("name") == APPLICATION_NAME:
            try:
                count = int(application.get("count", "0")) + 1
            except ValueError:
                count = 1
            application.set("count", str(count))
            application.set("modified", stamp)
            application.set("exec", APPLICATION_EXEC)
            return
    ET.SubElement(
        applications,
        f"{{{BOOKMARK_NS}}}application",
        {"name": APPLICATION_NAME, "exec": APPLICATION_EXEC, "modified": stamp, "count": "1"},
    )


def _read_list(path: Path) -> ET.Element | None:
    """The list's root element; a new one if there is no list yet; None if the file is there
    but is not a list this module can keep intact."""
    try:
        data = read_user_bytes(path)
    except FileNotFoundError:
        return ET.Element("xbel", {"version": "1.0"})
    except OSError:
        return None
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    return root if root.tag == "xbel" else None


def add_recently_used(
    file: Path, mime_type: str, moment: datetime | None = None, to: Path | None = None
) -> bool:
    """Put ``file`` (of type ``mime_type``) at the top of the desktop's recent files (the list
    ``to``, by default the user's); False when the list cannot be read or written."""
    target = to if to is not None else recently_used_file()
    root = _read_list(target)
    if root is None:
        return False
    href = file_uri(file)
    stamp = _timestamp(moment or datetime.now(timezone.utc))
    bookmark = next(
        (entry for entry in root.findall("bookmark") if unquote(entry.get("href", "")) == unquote(href)), None
    )
    if bookmark is None:
        bookmark = ET.SubElement(root, "bookmark", {"href": href, "added": stamp})
    _note_use(bookmark, mime_type, stamp)
    for prefix, namespace in _PREFIXES.items():
        ET.register_namespace(prefix, namespace)
    ET.indent(root)  # laid out as GTK lays it out, for whoever reads it
    text = ET.tostring(root, encoding="unicode")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, ('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n").encode("utf-8"))
    except OSError:
        return False
    return True
