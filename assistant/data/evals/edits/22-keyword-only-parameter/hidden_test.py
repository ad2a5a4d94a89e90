import inspect

from records import sort_records

parameter = inspect.signature(sort_records).parameters.get("reverse")
assert parameter is not None, "sort_records has no reverse parameter"
assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, "reverse is not keyword-only"
assert parameter.default is False
rows = [{"name": "b"}, {"name": "c"}, {"name": "a"}]
assert [r["name"] for r in sort_records(rows)] == ["a", "b", "c"]
assert [r["name"] for r in sort_records(rows, reverse=True)] == ["c", "b", "a"]
