def repeat(text, n, sep=""):
    """`text` written `n` times, with `sep` between."""
    return sep.join([text] * n)


def banner(text):
    return repeat("=", len(text)) + "\n" + text
