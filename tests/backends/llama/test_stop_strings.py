from assistant.backends.llama.stop_strings import StopScanner


def feed_all(scanner: StopScanner, pieces: list[str]) -> tuple[str, bool]:
    out = []
    for piece in pieces:
        text, hit = scanner.feed(piece)
        out.append(text)
        if hit:
            return "".join(out), True
    return "".join(out) + scanner.flush(), False


def test_stop_string_split_across_pieces_is_never_shown() -> None:
    assert feed_all(StopScanner(["</s>"]), ["Hello </", "s> junk"]) == ("Hello ", True)


def test_partial_match_that_is_not_a_stop_is_released() -> None:
    assert feed_all(StopScanner(["</s>"]), ["a </", "b> c"]) == ("a </b> c", False)


def test_held_text_comes_out_at_the_end() -> None:
    assert feed_all(StopScanner(["<|end|>"]), ["tail <|e"]) == ("tail <|e", False)


def test_no_stops_passes_through() -> None:
    assert StopScanner([]).feed("anything") == ("anything", False)
