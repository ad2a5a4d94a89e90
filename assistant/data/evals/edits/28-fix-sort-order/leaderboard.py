def top_scores(scores, n=3):
    """The `n` highest scores, highest first."""
    return sorted(scores)[:n]
