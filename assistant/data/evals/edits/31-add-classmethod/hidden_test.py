from durations import Duration

assert isinstance(Duration.__dict__.get("parse"), classmethod), "Duration.parse is not a classmethod"
assert Duration.parse("02:30").seconds == 150
assert Duration.parse("0:05").seconds == 5
assert Duration.parse("10:00").minutes() == 10
