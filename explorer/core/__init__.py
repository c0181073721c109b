"""The architecture core: pure Python and torch, never Qt."""
