import inspect
import itertools

from log_lines import error_lines

assert inspect.isgeneratorfunction(error_lines), "error_lines is not a generator"
assert list(error_lines(["a ERROR\n", "ok\n", "ERROR b"])) == ["a ERROR", "ERROR b"]
endless = itertools.cycle(["fine", "ERROR x\n"])
assert next(iter(error_lines(endless))) == "ERROR x"  # only a lazy one gets here
