from vowels import count_vowels

assert count_vowels("AEIOU") == 5
assert count_vowels("Hello World") == 3
assert count_vowels("xyz") == 0
