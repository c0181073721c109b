"""One window: a launch while the app runs hands what it was given to the running window.

The first launch listens on a local socket in the user's runtime folder ($XDG_RUNTIME_DIR,
else a private folder in /tmp); a later launch connects, sends the files (or presets) to
open, and ends once the running window has taken them. That window opens them as File ›
Open would and comes to the front; a launch with nothing to open only brings it to the front.
Each display and settings folder has an instance of its own (a window on another X display,
or tests with settings of their own, never receive another's files).

A socket left by an instance that crashed (its file is there, nothing listens) is removed.
The socket folder is locked from the moment a launch looks for a running window until it
listens itself, so that two launches at the same moment never both become the first, and
the lock goes with the process that holds it, however that process ends.

The hand-over uses Python's socket module alone: a later launch never imports Qt, and the
command line can call it; only ``InstanceClaim.serve`` (in the app) uses QLocalServer.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket

    from PySide6.QtCore import QObject
    from PySide6.QtNetwork import QLocalServer

try:
    import fcntl
except ImportError:  # Windows: every launch opens a window of its own
    fcntl = None  # type: ignore[assignment]

FOLDER_NAME = "resnet-explorer"
# The longest path a Unix socket's address holds (sun_path, less its closing NUL byte).
MAX_SOCKET_PATH_BYTES = 107
# How long a launch waits for another that is starting (the lock is held from the look for a
# running window until the new one listens: the app's import and its window's building).
LOCK_WAIT_S = 30.0
LOCK_POLL_S = 0.05
# How long a launch waits for the running window to take what it sent (it answers as soon as
# its event loop reads the request, before it opens anything, so a prompt never holds it).
ANSWER_WAIT_S = 30.0
MAX_REQUEST_BYTES = 1024 * 1024
ANSWER = b"ok\n"
# What a launch passes on so that the desktop lets the running window come to the front
# (Wayland's xdg-activation; Qt reads it when the window asks to be activated).
ACTIVATION_VARIABLES = ("XDG_ACTIVATION_TOKEN",)


class NoAnswer(Exception):
    """A window is running but did not take the files; the message says what to do."""


@dataclass(frozen=True)
class Opening:
    """One thing a launch asks to open: a preset by its name, or a file by its absolute path."""

    preset: str | None = None
    path: Path | None = None

    def to_json(self) -> dict[str, str]:
        return {"preset": self.preset} if self.preset is not None else {"path": str(self.path)}

    @classmethod
    def from_json(cls, value: object) -> Opening | None:
        if isinstance(value, dict):
            if isinstance(value.get("preset"), str):
                return cls(preset=value["preset"])
            if isinstance(value.get("path"), str) and os.path.isabs(value["path"]):
                return cls(path=Path(value["path"]))
        return None


@dataclass(frozen=True)
class Request:
    """What a launch hands to the running window."""

    openings: tuple[Opening, ...] = ()
    activation: Mapping[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        data = {"open": [item.to_json() for item in self.openings], "activation": dict(self.activation)}
        return json.dumps(data).encode("utf-8") + b"\n"

    @classmethod
    def decode(cls, data: bytes) -> Request | None:
        try:
            value = json.loads(data.decode("utf-8"))
        except ValueError:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("open"), list):
            return None
        openings = [Opening.from_json(item) for item in value["open"]]
        activation = value.get("activation") if isinstance(value.get("activation"), dict) else {}
        tokens = {
            name: text
            for name, text in (activation or {}).items()
            if name in ACTIVATION_VARIABLES and isinstance(text, str)
        }
        return cls(tuple(item for item in openings if item is not None), tokens)


def request_from(openings: Sequence[Opening], environ: Mapping[str, str] | None = None) -> Request:
    env = os.environ if environ is None else environ
    tokens = {name: env[name] for name in ACTIVATION_VARIABLES if env.get(name)}
    return Request(tuple(openings), tokens)


# Where the running window listens


def _private_folder(path: Path) -> bool:
    """Whether ``path`` is a real folder of this user that no one else may enter."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def _folder_in(parent: Path, name: str) -> Path | None:
    """The private folder ``name`` in ``parent``, made if need be; None if it cannot be one."""
    folder = parent / name
    with contextlib.suppress(FileExistsError, OSError):
        folder.mkdir(mode=0o700)
    return folder if _private_folder(folder) else None


def _identity(environ: Mapping[str, str]) -> str:
    """What makes two launches the same app: the user's runtime folder, the display they show
    on, and the settings folder (Qt's on this system: $XDG_CONFIG_HOME, else ~/.config)."""
    home = environ.get("HOME", "")
    config = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    parts = [
        environ.get("XDG_RUNTIME_DIR", ""),
        environ.get("WAYLAND_DISPLAY", ""),
        environ.get("DISPLAY", ""),
        environ.get("QT_QPA_PLATFORM", ""),
        os.path.abspath(config),
    ]
    # Two checksums of it name the socket: a name, not a secret (the folder is private), and
    # cheaper to import than hashlib.
    data = "\0".join(parts).encode("utf-8", "surrogateescape")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def socket_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the running window of this user, display and settings listens; None where no
    private folder can hold a socket (every launch then opens a window of its own)."""
    if fcntl is None:
        return None
    env = os.environ if environ is None else environ
    name = _identity(env)
    runtime = env.get("XDG_RUNTIME_DIR", "")
    candidates = []
    if runtime and os.path.isabs(runtime) and _private_folder(Path(runtime)):
        candidates.append((Path(runtime), FOLDER_NAME))
    candidates.append((Path(tempfile.gettempdir()), f"{FOLDER_NAME}-{os.getuid()}"))
    for parent, folder_name in candidates:
        path = parent / folder_name / name
        if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
            continue
        folder = _folder_in(parent, folder_name)
        if folder is not None:
            return folder / name
    return None


# The launch's side


class _FolderLock:
    """An exclusive lock on the socket folder, released when closed or when the process ends."""

    def __init__(self, folder: Path) -> None:
        self._fd: int | None = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))

    def acquire(self, wait_s: float) -> bool:
        assert fcntl is not None and self._fd is not None
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(LOCK_POLL_S)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the lock
            self._fd = None


@dataclass
class InstanceClaim:
    """This launch is the first: it holds the lock until its app listens (``serve``). A launch
    that cannot take part (no private folder for the socket, or another launch holding the lock
    far too long) has a claim on no path, and its app runs as a window of its own."""

    path: Path | None = None
    lock: _FolderLock | None = None

    def serve(self, parent: QObject, on_request: Callable[[Request], None]) -> QLocalServer | None:
        """Listen for later launches (the app's event loop answers them); None if this launch
        takes no part or its path cannot be listened on."""
        try:
            if self.path is None:
                return None
            from PySide6.QtNetwork import QLocalServer

            server = QLocalServer(parent)
            if not server.listen(str(self.path)):
                server.deleteLater()
                return None
            server.newConnection.connect(lambda: _take_connections(server, on_request))
            return server
        finally:
            self.release()

    def release(self) -> None:
        """Let other launches look for a running window (done by ``serve``; else when the
        app does not start, or when the process ends)."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def _connect(path: Path) -> socket.socket | None:
    """A connection to the window listening at ``path``; None if none listens there (a socket
    file nothing listens on, left by a crash, is removed: the caller holds the lock)."""
    if not os.path.lexists(path):
        return None  # the usual first launch, decided without the socket module's import
    import socket

    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(os.fsencode(path))
        return connection
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        connection.close()
        if isinstance(exc, ConnectionRefusedError):
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    path.unlink()
        return None
    except OSError:
        connection.close()
        return None


def _send(connection: socket.socket, request: Request) -> bool:
    with connection:
        connection.settimeout(ANSWER_WAIT_S)
        try:
            connection.sendall(request.encode())
            answer = b""
            while not answer.endswith(b"\n") and len(answer) < len(ANSWER):
                chunk = connection.recv(len(ANSWER))
                if not chunk:
                    break
                answer += chunk
        except OSError:
            return False
    return answer == ANSWER


def hand_over_or_claim(request: Request, environ: Mapping[str, str] | None = None) -> InstanceClaim | None:
    """Give ``request`` to the running window and return None; or, when none runs, return the
    claim with which this launch's app becomes the one (``InstanceClaim.serve``).

    Raises ``NoAnswer`` when a window listens but does not take the request."""
    path = socket_path(environ)
    if path is None:
        return InstanceClaim()
    try:
        lock = _FolderLock(path.parent)
    except OSError:  # the folder went meanwhile: a window of its own
        return InstanceClaim()
    if not lock.acquire(LOCK_WAIT_S):
        lock.release()
        return InstanceClaim()
    connection = _connect(path)
    if connection is None:
        return InstanceClaim(path, lock)
    try:
        if _send(connection, request):
            return None
    finally:
        lock.release()
    raise NoAnswer(
        f"the running ResNet Explorer window did not take the files within {ANSWER_WAIT_S:.0f} s "
        "(it may be busy): try again, or open a window of its own with --new-window"
    )


# The running window's side


def _take_connections(server: QLocalServer, on_request: Callable[[Request], None]) -> None:
    while server.hasPendingConnections():
        connection = server.nextPendingConnection()
        received = bytearray()

        def read(connection: Any = connection, received: bytearray = received) -> None:
            received.extend(bytes(connection.readAll().data()))
            if len(received) > MAX_REQUEST_BYTES:
                connection.abort()
                return
            if not received.endswith(b"\n"):
                return
            request = Request.decode(bytes(received))
            received.clear()
            if request is None:
                connection.abort()
                return
            connection.write(ANSWER)
            connection.flush()
            connection.disconnectFromServer()
            on_request(request)

        connection.readyRead.connect(read)
        connection.disconnected.connect(connection.deleteLater)
        if connection.bytesAvailable():
            read()
