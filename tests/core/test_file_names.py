"""The names the app gives its files, so that a desktop recognises them, and what a name says."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.core.file_kind import (
    COMPARISON_SUFFIX,
    FILE_TYPES,
    SPEC_SUFFIX,
    checkpoint_type,
    mime_type_by_name,
    named_as,
    suggested_name,
)


@pytest.mark.parametrize(
    ("typed", "suffix", "saved"),
    [
        ("mine", SPEC_SUFFIX, "mine.resnet.json"),
        ("mine.resnet", SPEC_SUFFIX, "mine.resnet.json"),
        ("mine.resnet.json", SPEC_SUFFIX, "mine.resnet.json"),
        ("old.json", SPEC_SUFFIX, "old.json"),  # a name chosen with .json is kept
        ("v1.5-wide", SPEC_SUFFIX, "v1.5-wide.resnet.json"),
        ("pair", COMPARISON_SUFFIX, "pair.resnet-compare.json"),
        ("pair.resnet-compare", COMPARISON_SUFFIX, "pair.resnet-compare.json"),
    ],
)
def test_a_typed_name_gets_the_suffix_the_desktop_recognises(typed: str, suffix: str, saved: str) -> None:
    assert named_as(Path("/x") / typed, suffix) == Path("/x") / saved


def test_save_as_suggests_the_current_name_renamed_to_the_apps_own_suffix() -> None:
    assert suggested_name(None, SPEC_SUFFIX, "architecture") == "architecture.resnet.json"
    assert suggested_name(Path("/a/net.json"), SPEC_SUFFIX, "x") == "net.resnet.json"
    assert suggested_name(Path("/a/net.resnet.json"), SPEC_SUFFIX, "x") == "net.resnet.json"
    assert suggested_name(None, COMPARISON_SUFFIX, "comparison") == "comparison.resnet-compare.json"


def test_what_a_name_says_the_file_is() -> None:
    assert mime_type_by_name("a.resnet.json") == "application/x-resnet-explorer-spec"
    assert mime_type_by_name("A.RESNET.JSON") == "application/x-resnet-explorer-spec"
    assert mime_type_by_name("a.resnet-compare.json") == "application/x-resnet-explorer-comparison"
    assert mime_type_by_name("old.json") == "application/json"
    assert mime_type_by_name("notes.txt") is None
    assert mime_type_by_name(".resnet.json") == "application/json"  # a hidden file named only by its suffix
    for name, description in (("w.pth", "PyTorch"), ("w.safetensors", "safetensors"), ("m.onnx", "ONNX")):
        found = checkpoint_type(name)
        assert found is not None and found.description.startswith(description)
    assert checkpoint_type("w.pt2") is None and checkpoint_type("net.resnet.json") is None


def test_every_type_is_declared_once_with_globs_from_its_suffixes() -> None:
    names = [kind.mime_type for kind in FILE_TYPES]
    assert len(names) == len(set(names))
    globs = [glob for kind in FILE_TYPES for glob in kind.globs]
    assert len(globs) == len(set(globs))
    assert {"*.resnet.json", "*.resnet-compare.json", "*.pth", "*.safetensors", "*.onnx"} == set(globs)
