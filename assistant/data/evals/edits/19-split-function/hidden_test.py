import totals

assert totals.parse_numbers(" 1, 2,,3") == [1, 2, 3]
assert totals.parse_numbers("") == []
assert totals.parse_and_sum("1, 2") == 3

real, calls = totals.parse_numbers, []


def spy(text):
    calls.append(text)
    return real(text)


totals.parse_numbers = spy
assert totals.parse_and_sum("4,5") == 9
assert calls == ["4,5"], "parse_and_sum does not call parse_numbers"
