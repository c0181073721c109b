"""The desktop's recent files ($XDG_DATA_HOME/recently-used.xbel): entries added and updated
in the list other programs share, theirs kept, written in one step, a broken list left alone."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from explorer.desktop.recent import (
    APPLICATION_NAME,
    BOOKMARK_NS,
    MIME_NS,
    add_recently_used,
    file_uri,
)
from explorer.desktop.xdg import recently_used_file

SPEC_TYPE = "application/x-resnet-explorer-spec"
# What GTK's GBookmarkFile writes, with another program's entry and a title of its own.
GTK_LIST = """<?xml version="1.0" encoding="UTF-8"?>
<xbel version="1.0"
      xmlns:bookmark="http://www.freedesktop.org/standards/desktop-bookmarks"
      xmlns:mime="http://www.freedesktop.org/standards/shared-mime-info"
>
  <bookmark href="file:///home/u/notes(1).txt" added="2024-05-01T10:00:00.000000Z" modified="2024-05-01T10:00:00.000000Z" visited="2024-05-01T10:00:00.000000Z">
    <title>My notes</title>
    <info>
      <metadata owner="http://freedesktop.org">
        <mime:mime-type type="text/plain"/>
        <bookmark:groups>
          <bookmark:group>gedit</bookmark:group>
        </bookmark:groups>
        <bookmark:applications>
          <bookmark:application name="gedit" exec="&apos;gedit %u&apos;" modified="2024-05-01T10:00:00.000000Z" count="3"/>
        </bookmark:applications>
      </metadata>
    </info>
  </bookmark>
</xbel>
"""  # noqa: E501
MOMENT = datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=timezone.utc)


def _entries(path: Path) -> dict[str, ET.Element]:
    return {entry.get("href", ""): entry for entry in ET.parse(path).getroot().findall("bookmark")}


def _application(entry: ET.Element, name: str) -> ET.Element:
    found = entry.find(
        f"info/metadata/{{{BOOKMARK_NS}}}applications/{{{BOOKMARK_NS}}}application[@name='{name}']"
    )
    assert found is not None
    return found


def test_a_file_joins_the_list_beside_the_other_programs_entries(tmp_path: Path) -> None:
    target = tmp_path / "recently-used.xbel"
    target.write_text(GTK_LIST)
    spec = tmp_path / "net work.resnet.json"
    spec.write_text("{}")
    assert add_recently_used(spec, SPEC_TYPE, MOMENT, to=target)
    entries = _entries(target)
    assert set(entries) == {"file:///home/u/notes(1).txt", file_uri(spec)}
    theirs = entries["file:///home/u/notes(1).txt"]
    assert theirs.findtext("title") == "My notes"
    assert _application(theirs, "gedit").get("count") == "3"
    assert theirs.find(f"info/metadata/{{{BOOKMARK_NS}}}groups/{{{BOOKMARK_NS}}}group") is not None
    ours = entries[file_uri(spec)]
    assert ours.get("added") == ours.get("modified") == ours.get("visited") == "2025-01-02T03:04:05.600000Z"
    assert ours.find(f"info/metadata/{{{MIME_NS}}}mime-type").get("type") == SPEC_TYPE  # type: ignore[union-attr]
    mine = _application(ours, APPLICATION_NAME)
    assert mine.get("count") == "1" and mine.get("exec") == "'resnet-explorer-gui %f'"
    # The prefixes other programs' readers expect.
    text = target.read_text()
    assert 'xmlns:bookmark="http://www.freedesktop.org/standards/desktop-bookmarks"' in text
    assert "<bookmark:application " in text and "<mime:mime-type " in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_opening_it_again_updates_its_entry(tmp_path: Path) -> None:
    target = tmp_path / "recently-used.xbel"
    spec = tmp_path / "net.resnet.json"
    spec.write_text("{}")
    assert add_recently_used(spec, SPEC_TYPE, MOMENT, to=target)
    later = datetime(2025, 2, 1, tzinfo=timezone.utc)
    assert add_recently_used(spec, SPEC_TYPE, later, to=target)
    entries = _entries(target)
    assert list(entries) == [file_uri(spec)]
    entry = entries[file_uri(spec)]
    assert entry.get("added") == "2025-01-02T03:04:05.600000Z"
    assert entry.get("modified") == entry.get("visited") == "2025-02-01T00:00:00.000000Z"
    assert _application(entry, APPLICATION_NAME).get("count") == "2"


def test_a_uri_is_written_as_glib_writes_it_and_matched_however_it_is_escaped(tmp_path: Path) -> None:
    odd = tmp_path / "a (b) & c;d=é.resnet.json"
    odd.write_text("{}")
    uri = file_uri(odd)
    assert uri.startswith("file:///") and "(b)" in uri and "&" in uri and "%C3%A9" in uri and "%20" in uri
    target = tmp_path / "recently-used.xbel"
    escaped_otherwise = uri.replace("(", "%28").replace(")", "%29")
    target.write_text(GTK_LIST.replace("file:///home/u/notes(1).txt", escape(escaped_otherwise)))
    assert add_recently_used(odd, SPEC_TYPE, MOMENT, to=target)
    assert len(_entries(target)) == 1  # the entry GLib wrote, updated


def test_a_list_that_cannot_be_read_as_one_is_left_alone(tmp_path: Path) -> None:
    spec = tmp_path / "net.resnet.json"
    spec.write_text("{}")
    for content in (b"<xbel><bookmark", b"<html/>", b"\x00\xff"):
        target = tmp_path / "recently-used.xbel"
        target.write_bytes(content)
        assert not add_recently_used(spec, SPEC_TYPE, MOMENT, to=target)
        assert target.read_bytes() == content
    folder = tmp_path / "a folder.xbel"
    folder.mkdir()
    assert not add_recently_used(spec, SPEC_TYPE, MOMENT, to=folder)


def test_the_list_lives_in_xdg_data_home() -> None:
    assert recently_used_file({"XDG_DATA_HOME": "/d", "HOME": "/h"}) == Path("/d/recently-used.xbel")
    assert recently_used_file({"HOME": "/h"}) == Path("/h/.local/share/recently-used.xbel")
    assert recently_used_file() == Path(os.environ["XDG_DATA_HOME"]) / "recently-used.xbel"
