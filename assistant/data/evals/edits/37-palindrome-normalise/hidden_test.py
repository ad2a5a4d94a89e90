from palindromes import is_palindrome

assert is_palindrome("A man, a plan, a canal: Panama")
assert is_palindrome("No 'x' in Nixon")
assert is_palindrome("")
assert not is_palindrome("abc")
assert is_palindrome("abba")
