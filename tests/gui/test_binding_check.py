"""The Qt binding must not drop references to None: on Python 3.11 that aborts a session."""

from __future__ import annotations

import ctypes
import sys

import pytest

from explorer.gui.binding_check import NONE_REFERENCE_RESERVE, drops_none_references, keep_none_alive

before_312 = pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")


@before_312
def test_the_installed_binding_keeps_its_references_to_none() -> None:
    # Fails on PySide6 6.12.0, which pyproject.toml excludes for this reason.
    assert not drops_none_references()


@before_312
def test_a_call_that_drops_a_reference_to_none_is_caught() -> None:
    dropped = 0

    def faulty_void_call() -> None:
        nonlocal dropped
        ctypes.pythonapi.Py_DecRef(ctypes.py_object(None))
        dropped += 1

    try:
        assert drops_none_references(faulty_void_call)
    finally:
        for _ in range(dropped):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    assert not drops_none_references(lambda: None)


@before_312
@pytest.mark.skipif(sys.implementation.name != "cpython", reason="the reserve is CPython's reference count")
def test_the_workaround_gives_none_more_references_than_a_session_drops() -> None:
    before = sys.getrefcount(None)
    keep_none_alive()
    try:
        assert sys.getrefcount(None) - before >= NONE_REFERENCE_RESERVE
    finally:
        ctypes.c_ssize_t.from_address(id(None)).value -= NONE_REFERENCE_RESERVE
