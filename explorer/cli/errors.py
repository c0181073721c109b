from __future__ import annotations


class CliError(Exception):
    """A user mistake: printed as one line on stderr, exit code 2."""
