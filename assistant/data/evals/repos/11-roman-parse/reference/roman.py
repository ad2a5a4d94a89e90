"""Roman numerals, 1 to 3999."""

NUMERALS = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)


def to_roman(number):
    if not isinstance(number, int) or not 1 <= number <= 3999:
        raise ValueError(f"no Roman numeral for {number!r}")
    out = []
    for value, letters in NUMERALS:
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def from_roman(text):
    """The number `to_roman` writes as `text`; ValueError for anything it would not write."""
    total, rest = 0, text
    for value, letters in NUMERALS:
        while rest.startswith(letters):
            total += value
            rest = rest[len(letters):]
    if rest or not 1 <= total <= 3999 or to_roman(total) != text:
        raise ValueError(f"not a Roman numeral: {text!r}")
    return total
