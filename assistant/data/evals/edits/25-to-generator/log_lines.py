def error_lines(lines):
    """The lines that mention ERROR, without their line ending."""
    found = []
    for line in lines:
        if "ERROR" in line:
            found.append(line.rstrip("\n"))
    return found
