def parse_pair(text):
    key, _, value = text.partition("=")
    return key.strip(), value.strip()


def _old_parse_pair(text):
    parts = text.split("=")
    return parts[0], parts[1]


def parse_pairs(lines):
    return dict(parse_pair(line) for line in lines if line.strip())
