import inspect

import text_tools

names = list(inspect.signature(text_tools.repeat).parameters)
assert names == ["text", "times", "sep"], f"repeat's parameters are {names}"
assert text_tools.repeat("ab", times=3) == "ababab"
assert text_tools.repeat("a", 2, sep="-") == "a-a"
assert text_tools.banner("hi") == "==\nhi"
