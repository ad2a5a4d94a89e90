def error_lines(lines):
    """The lines that mention ERROR, without their line ending."""
    for line in lines:
        if "ERROR" in line:
            yield line.rstrip("\n")
