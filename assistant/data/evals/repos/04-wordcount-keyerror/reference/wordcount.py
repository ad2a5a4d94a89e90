"""Counts the words of a text file: `python wordcount.py FILE` prints each word and its count,
the most common first."""

import re
import sys


def count_words(text):
    """How many times each word occurs, case ignored."""
    counts = {}
    for word in re.findall(r"[a-z']+", text.lower()):
        counts[word] = counts.get(word, 0) + 1
    return counts


def most_common(counts, n=None):
    """(word, count) pairs, the most common first, ties in alphabetical order."""
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return ranked if n is None else ranked[:n]


def main(argv):
    with open(argv[0], encoding="utf-8") as file:
        counts = count_words(file.read())
    for word, count in most_common(counts):
        print(f"{word} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
