from __future__ import annotations


class CliError(Exception):
    """A user mistake: printed as one line on stderr, exit code 2."""


class RunFailed(Exception):
    """A run that was set up right but failed (a device error, a full disk): one line, exit code 1."""
