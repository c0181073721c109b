"""The app's words for the command line's: a core message that names a flag is shown in
the app with the control that sets the same thing, as the person sees it there."""

from __future__ import annotations

# (the command line's wording, the app's): each is a phrase the core says in full.
FLAG_PHRASES = (
    ("export it with --weights random or zero-init", "choose Weights “random” or “zero-init”"),
    ("(--classes N, N above 0)", "(Classes above 0 in the Architecture dock)"),
)


def in_app_words(message: str) -> str:
    """``message`` with every flag it names said as the app's control."""
    for flag, control in FLAG_PHRASES:
        message = message.replace(flag, control)
    return message
