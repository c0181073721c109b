"""The last per-layer profile of a window, shared by the tabs that show it.

The Profile tab puts each finished profile here; the Layers tab's time columns and the
Diagram tab's latency colouring read it, and use it only while it is of the spec on show
(``for_spec``): after an edit its figures stand for another network. The Compare tab reads
the last profile of each of its variants' specs (``last_of``), which the store keeps for the
most recent specs profiled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from explorer.core.spec import ArchSpec

if TYPE_CHECKING:  # the profile's module is not on the way to the first picture
    from explorer.core.profile import Profile

STORE_OBJECT = "ProfileStore"
# Profiles of this many specs are kept for the Compare tab; older ones are dropped first.
KEPT_SPECS = 64


class ProfileStore(QObject):
    changed = Signal(object)  # Profile: a new one was stored

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.latest: Profile | None = None
        self._by_spec: dict[ArchSpec, Profile] = {}

    def store(self, result: Profile) -> None:
        self.latest = result
        self._by_spec.pop(result.spec, None)  # to the end: the most recent
        self._by_spec[result.spec] = result
        while len(self._by_spec) > KEPT_SPECS:
            del self._by_spec[next(iter(self._by_spec))]
        self.changed.emit(result)

    def for_spec(self, spec: ArchSpec) -> Profile | None:
        """The last profile, if it is of exactly ``spec``."""
        return self.latest if self.latest is not None and self.latest.spec == spec else None

    def last_of(self, spec: ArchSpec) -> Profile | None:
        """The last profile of exactly ``spec``, whichever spec was profiled since."""
        return self._by_spec.get(spec)


def profile_store(owner: QObject) -> ProfileStore:
    """The store shared by the panels of one window (a child of ``owner``, the session)."""
    found = owner.findChild(ProfileStore, STORE_OBJECT)
    if found is None:
        found = ProfileStore(owner)
        found.setObjectName(STORE_OBJECT)
    return found
