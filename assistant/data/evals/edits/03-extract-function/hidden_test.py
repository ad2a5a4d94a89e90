import stats

assert hasattr(stats, "mean"), "mean is missing"
assert stats.mean([1, 2, 3, 4]) == 2.5
assert stats.report([1, 2, 6]) == "average 3.0, spread 5"

real, calls = stats.mean, []


def spy(values):
    calls.append(list(values))
    return real(values)


stats.mean = spy
assert stats.report([4, 8]) == "average 6.0, spread 4"
assert calls == [[4, 8]], "report does not call mean"
