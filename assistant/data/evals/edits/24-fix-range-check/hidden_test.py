from months import is_valid_month, month_name

assert month_name(12) == "December"
assert month_name(1) == "January"
assert is_valid_month(12) and not is_valid_month(0) and not is_valid_month(13)
for bad in (0, 13):
    try:
        month_name(bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"month_name({bad}) raised nothing")
