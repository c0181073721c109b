import pytest

from explorer.core.quoting import MAX_QUOTED_CHARS, quote_value


def test_short_values_are_their_repr():
    assert quote_value("abc") == "'abc'"
    assert quote_value(12) == "12"
    assert quote_value(True) == "True"


@pytest.mark.parametrize("value", ["x" * 10_000_000, list(range(100_000)), "a\nb" * 1000])
def test_long_values_are_cut_to_one_short_line(value):
    text = quote_value(value)
    assert len(text) <= MAX_QUOTED_CHARS + 1
    assert "\n" not in text
    assert "…" in text


def test_huge_integers_are_described_not_converted():
    text = quote_value(10**50_000)
    assert "50,001 digits" in text or "50,000 digits" in text
    assert quote_value(-(10**5000)).startswith("-<")
