"""Small text helpers for the blog's page titles."""


def title_case(text):
    """Each word capitalised, the small words after the first left in lower case."""
    small = {"a", "an", "and", "of", "the", "in", "on", "to"}
    words = text.split()
    return " ".join(
        word.capitalize() if index == 0 or word.lower() not in small else word.lower()
        for index, word in enumerate(words)
    )


def truncate(text, width):
    """`text` cut to at most `width` characters, ending with "…" when it was cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + "…"


def slugify(text):
    """`text` as a URL slug: lower case ASCII letters and digits, runs of anything else one hyphen."""
    slug = []
    for char in text.lower():
        if char.isascii() and char.isalnum():
            slug.append(char)
        elif slug and slug[-1] != "-":
            slug.append("-")
    return "".join(slug).strip("-")
