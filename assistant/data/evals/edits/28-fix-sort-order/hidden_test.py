from leaderboard import top_scores

assert top_scores([5, 1, 9, 7], 2) == [9, 7]
assert top_scores([5, 1, 9, 7]) == [9, 7, 5]
assert top_scores([1]) == [1]
assert top_scores([]) == []
