def parse_and_sum(text):
    """The sum of the comma-separated integers in `text`; blanks are skipped."""
    total = 0
    for part in text.split(","):
        part = part.strip()
        if part:
            total += int(part)
    return total
