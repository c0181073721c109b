"""Keeps the window's "verified against the built module" check up to date.

A long-lived child process (``explorer.gui.module_check``) imports torch and builds
each spec on the meta device; this side talks to it through a QProcess, so the GUI
thread never imports torch and never waits. Only the newest spec is checked: while
the child is busy, newer specs replace the one waiting.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from explorer.core.spec import ArchSpec
from explorer.gui.latest import Latest

CHECK_DELAY_MS = 250


@dataclass(frozen=True)
class Verification:
    state: str  # "pending", "ok", "mismatch" or "unavailable"
    spec: ArchSpec | None
    message: str
    details: tuple[str, ...] = ()


class Verifier(QObject):
    changed = Signal(object)  # Verification

    def __init__(self, parent: QObject | None = None, child_args: list[str] | None = None) -> None:
        super().__init__(parent)
        self._child_args = child_args or ["-m", "explorer.gui.module_check"]
        self._process: QProcess | None = None
        self._buffer = b""
        self._in_flight: tuple[int, ArchSpec] | None = None
        self._wanted: ArchSpec | None = None
        self._ready = False
        self._stopping = False
        self.last: Verification = Verification("pending", None, "checking against the built module…")
        self._timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._checks: Latest[ArchSpec] = Latest(self._send, one_at_a_time=True, may_start=self._may_send)
        self._timer.timeout.connect(self._checks.resume)

    def start(self) -> None:
        if self._process is not None:
            return
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(self._child_args)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._failed_to_start)
        self._process = process
        process.start()

    def stop(self) -> None:
        """End the child at once: it holds nothing worth waiting for (it may still be
        importing torch, which would delay quitting by seconds)."""
        if self._process is None:
            return
        self._stopping = True
        process, self._process = self._process, None
        process.closeWriteChannel()
        process.terminate()
        if not process.waitForFinished(1000):
            process.kill()
            process.waitForFinished(1000)

    def check(self, spec: ArchSpec) -> None:
        """Check ``spec`` soon (replacing any spec not yet sent)."""
        self._wanted = spec
        self._publish(Verification("pending", spec, "checking against the built module…"))
        self._timer.start()
        self._checks.request(spec)

    def _may_send(self) -> bool:
        return self._process is not None and self._ready and not self._timer.isActive()

    def _send(self, spec: ArchSpec, ticket: int) -> None:
        assert self._process is not None
        self._in_flight = (ticket, spec)
        line = json.dumps({"id": ticket, "spec": spec.to_dict()}) + "\n"
        self._process.write(line.encode())

    def _read(self) -> None:
        if self._process is None:
            return
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line.strip():
                self._reply(json.loads(line))

    def _reply(self, reply: dict[str, object]) -> None:
        if reply.get("ready"):
            self._ready = True
            self._checks.resume()
            return
        flight, self._in_flight = self._in_flight, None
        if flight is not None and self._checks.finished(flight[0]):
            if "error" in reply:
                result = Verification(
                    "unavailable", flight[1], f"could not build the module: {reply['error']}"
                )
            elif reply.get("ok"):
                result = Verification(
                    "ok",
                    flight[1],
                    f"verified against the built module ({reply['params']:,} params, "
                    f"{reply['modules']} modules, torch {reply['torch']})",
                )
            else:
                problems = tuple(str(p) for p in reply.get("problems", ()))  # type: ignore[attr-defined]
                result = Verification(
                    "mismatch", flight[1], "MISMATCH with the built module: " + problems[0], problems
                )
            self._publish(result)

    def _publish(self, result: Verification) -> None:
        self.last = result
        self.changed.emit(result)

    def _finished(self, code: int, _status: object) -> None:
        if self._stopping:
            return
        self._process = None
        error = bytes(self.sender().readAllStandardError().data()).decode(errors="replace").strip()  # type: ignore[attr-defined]
        tail = error.splitlines()[-1] if error else f"exit code {code}"
        self._publish(Verification("unavailable", self._wanted, f"module check stopped: {tail}"))

    def _failed_to_start(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._process = None
            self._publish(Verification("unavailable", self._wanted, "module check could not start"))
