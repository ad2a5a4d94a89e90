def repeat(text, times, sep=""):
    """`text` written `times` times, with `sep` between."""
    return sep.join([text] * times)


def banner(text):
    return repeat("=", len(text)) + "\n" + text
