"""The window's panels: each wraps the session and listens to its signals."""
