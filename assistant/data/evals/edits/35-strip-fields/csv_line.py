def parse_line(line):
    """The comma-separated fields of one line."""
    return line.rstrip("\n").split(",")
