def count_word(text, word):
    """How often `word` occurs in `text` as a whole word, ignoring case."""
    return [w.casefold() for w in text.split()].count(word.casefold())
