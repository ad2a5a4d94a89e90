def count_word(text, word):
    """How often `word` occurs in `text` as a whole word."""
    return text.split().count(word)
