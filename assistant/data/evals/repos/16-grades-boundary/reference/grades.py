"""Letter grades from exam scores (0 to 100; halves allowed)."""

BOUNDARIES = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))


def letter(score):
    if not 0 <= score <= 100:
        raise ValueError(f"a score is from 0 to 100, not {score}")
    for lowest, grade in BOUNDARIES:
        if score >= lowest:
            return grade
    return "F"


def distribution(scores):
    """How many of `scores` got each grade, every grade listed."""
    counts = {grade: 0 for _, grade in BOUNDARIES}
    counts["F"] = 0
    for score in scores:
        counts[letter(score)] += 1
    return counts
