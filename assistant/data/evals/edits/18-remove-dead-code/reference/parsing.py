def parse_pair(text):
    key, _, value = text.partition("=")
    return key.strip(), value.strip()


def parse_pairs(lines):
    return dict(parse_pair(line) for line in lines if line.strip())
