"""Release versions ("1.10.3") compared as a person reads them."""


def parse(version):
    """The version's parts, checked: dot-separated whole numbers."""
    parts = version.strip().split(".")
    if not all(part.isdigit() for part in parts):
        raise ValueError(f"not a version: {version!r}")
    return [int(part) for part in parts]


def compare(a, b):
    """-1 when `a` is older than `b`, 0 when they are the same version, 1 when newer."""
    left, right = parse(a), parse(b)
    size = max(len(left), len(right))
    left, right = left + [0] * (size - len(left)), right + [0] * (size - len(right))
    return (left > right) - (left < right)


def latest(versions):
    """The newest of `versions` (the first of equal ones)."""
    best = None
    for version in versions:
        if best is None or compare(version, best) > 0:
            best = version
    return best
