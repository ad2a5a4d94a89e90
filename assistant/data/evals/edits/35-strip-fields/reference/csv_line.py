def parse_line(line):
    """The comma-separated fields of one line, without the spaces around them."""
    return [field.strip() for field in line.rstrip("\n").split(",")]
