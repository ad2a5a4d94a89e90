from word_count import count_word

assert count_word("The cat and the hat", "the") == 2
assert count_word("a A a", "A") == 3
assert count_word("", "x") == 0
assert count_word("cats cat", "cat") == 1
