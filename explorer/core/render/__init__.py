"""Renderings of core results: text tables, DOT, exported files."""
