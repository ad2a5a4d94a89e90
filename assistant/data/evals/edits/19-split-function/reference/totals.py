def parse_numbers(text):
    """The comma-separated integers in `text`; blanks are skipped."""
    return [int(part) for part in (p.strip() for p in text.split(",")) if part]


def parse_and_sum(text):
    """The sum of the comma-separated integers in `text`; blanks are skipped."""
    return sum(parse_numbers(text))
