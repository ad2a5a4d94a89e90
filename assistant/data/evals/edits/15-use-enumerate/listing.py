def numbered(lines):
    out = []
    for i in range(len(lines)):
        out.append(f"{i + 1}. {lines[i]}")
    return out
