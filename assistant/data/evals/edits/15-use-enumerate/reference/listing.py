def numbered(lines):
    out = []
    for i, line in enumerate(lines, start=1):
        out.append(f"{i}. {line}")
    return out
