"""Human units for counts, MACs, bytes and shapes."""

from __future__ import annotations


def format_count(value: float) -> str:
    """1234567 -> '1.23M' (parameters and other plain counts)."""
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.2f}{suffix}"
    return f"{value:g}"


def format_macs(value: float) -> str:
    """4089184256 -> '4.09 GMACs'."""
    for limit, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.2f} {prefix}MACs"
    return f"{value:g} MACs"


_BYTE_UNITS = ((1024**4, "TiB"), (1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"))


def byte_unit(value: float) -> tuple[int, str]:
    """The unit ``format_bytes`` gives ``value`` in, as its size in bytes and its name
    (1073741824 -> (1073741824, 'GiB')): a chart's axis takes its largest value's."""
    for size, name in _BYTE_UNITS:
        if abs(value) >= size:
            return size, name
    return 1, "B"


def format_bytes(value: float) -> str:
    """1536 -> '1.50 KiB': the unit scales with the size, KiB to TiB."""
    size, name = byte_unit(value)
    return f"{value:g} B" if size == 1 else f"{value / size:.2f} {name}"


def format_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(side) for side in shape)


def format_receptive_field(pixels: int, sees_whole_input: bool, grouped: bool = True) -> str:
    """'1,643', or 'global (1,643)' where each output sees the whole input through an attention
    gate's global pooling (the figure is then the convolution path's)."""
    figure = f"{pixels:,}" if grouped else str(pixels)
    return f"global ({figure})" if sees_whole_input else figure
