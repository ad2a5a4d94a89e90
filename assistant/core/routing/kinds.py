"""What kind of turn a chat message is, read from cheap features of its text.

`classify(text, files)` gives every chat turn one of four kinds. It looks only at
the words of the message and at whether the turn carries code, never at a model,
so the same message always gets the same kind, and you can predict it from the
rules below. (`@edit`, `@code`, `@explain` and `@chat` at the start of a message
override them; see core/session/user_input.py.)

How a message is read
    Only its first 2,000 characters are read (`WINDOW`); the rest never changes
    the kind, so a pasted megabyte is read as fast as a line. Case and the
    punctuation around words do not matter. The text inside fenced code blocks
    (between ``` marks) is not read as words: the block only says "this turn
    carries code". The rest is cut into sentences at `.`, `!`, `?`, `;` and line
    breaks, and each sentence is read on its own: the turn takes the highest kind
    any of its sentences has, in the order edit, code, explain, chat.

    A sentence's *request* is its first word after the lead-ins, which are skipped
    (in any order and combination): greetings and fillers ("hey", "hi", "hi
    there", "hello everyone", "good morning", "ok", "so", "now", "please", "pls",
    "just", "also", "thanks", ...), request lead-ins
    ("can you", "could you", "would you", "will you", "i want you to", "i'd like
    you to", "i need you to", "help me", "i need to", "let's", "go ahead and", ...)
    and question lead-ins ("how do i", "how can i", "how to", "is there a way to",
    "what's the best way to", "show me how to", ...). So in "hey, could you
    please fix it" the request is "fix".

The kinds, in priority order (the first that fits wins)

1. edit: a change to code that already exists.
    The request is an edit verb: refactor, rename, fix, change, modify, rewrite,
    update, edit, clean (up), tidy, simplify, optimise/optimize, reformat,
    convert, port, migrate, move, extract, inline, remove, delete, replace,
    split, merge, speed (up), type-annotate, improve, debug, translate, document,
    ... ; "add" only with "to"/"in"/"into" after it or with type hints,
    docstrings, comments or logging as its object ("add logging to it", "add
    type hints"); "make" unless it makes something new ("make it faster" yes,
    "make a script" no). And the turn points at existing code: files are in
    its context (named in the message or pinned), or it holds a fenced code
    block, or it says "this/that/these/those/my/our/your" before a code word
    (function, code, file, class, method, module, script, test, snippet, loop,
    query, bug, line, ...; one other word may come between: "my python script"),
    or "the following"/"the above", or the request acts on "it"/"them" or on
    "this"/"that" alone, as its object or after "to"/"in" ("fix it", "simplify
    this", "clean this up", "add logging to it").
    Examples: "can you simplify this function?", "fix it", "Refactor calc.py to
    use dataclasses" (with calc.py in the turn).
    An edit verb with no existing code in sight is not an edit: "rename a git
    branch" is chat, "how do I rename a git branch?" is explain.

2. code: a request for new code.
    The request is a creation verb (write, implement, create, generate, build,
    make, code, scaffold, draft, add, design, develop, give me, show me, ...) and
    a code word follows within six words (function, class, script, program,
    test, unit test, module, method, regex, query, sql, snippet, endpoint, api,
    cli, parser, decorator, component, dockerfile, makefile, command,
    one-liner, code, implementation, app, a language name, ...). The search
    stops at a word that starts the topic rather than the thing (about, on,
    regarding, for, to, with, of, that, how, what, ...), so "write a poem about
    code" is not code, but "an example of a decorator" is. Asking it as a
    question still makes it code.
    Examples: "write a function that parses dates", "how do I write a regex
    for emails?", "can you give me a bash one-liner".

3. explain: a question about code or anything else.
    A sentence is a question when it ends with "?"; or its first word (after
    greetings) is a question word: what, why, how, when, where, which, who,
    whose, is, are, was, were, am, does, do, did, can, could, should, would,
    will, shall, has, have (an auxiliary needs a word after it; "do it", "will
    do", "have a look", "what a day" are not questions); or it used a question
    lead-in ("how to ..."); or its request is explain, describe, compare,
    summarize, review, define, clarify, understand, "tell me about", "walk me
    through", "teach me", "show me how", "difference between", eli5, "i don't
    understand", ... . Small talk ("how are you?", "what's up", "how's your day
    going?"), after a greeting or not, is not a question.
    Examples: "what does this function do?", "explain decorators", "is Python
    slow", "why does it crash? thanks".

4. chat: anything else: greetings, thanks, statements, commands that do not
    touch code, empty text.
    Examples: "thanks!", "hi, how are you?", "hi there, how are you?", "good
    morning!", "rename a git branch", "".

`batch` is never returned: only `@batch` and the batch refactor command make a
batch turn, and their callers set the kind themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from assistant.core.words import TurnKind

# How much of a message is read: a request says what it is in its first
# sentences, and a fixed bound keeps a pasted megabyte as cheap as a line.
WINDOW = 2000
FENCE = "```"
# How many words after a creation verb may hold the code word ("write me a small
# python function").
OBJECT_SPAN = 6

# Words (letters, digits, _, ' and -; the ' and - trimmed from their ends) and
# sentence ends. No nested repetition, so matching is linear in the window.
_TOKEN = re.compile(r"[\w'-]+|[?!;\n]|\.(?!\w)")
_SENTENCE_ENDS = frozenset({"?", "!", ";", "\n", "."})
_TRIM = "'-"

# -- lead-ins ---------------------------------------------------------------------

GREETINGS = frozenset({
    "hey", "hi", "hello", "yo", "ok", "okay", "alright", "so", "now", "well",
    "please", "pls", "plz", "kindly", "just", "also", "and", "then", "first",
    "next", "finally", "maybe", "quickly", "great", "cool", "thanks", "thank you",
    "thx", "howdy", "hiya", "heya", "greetings",
    # a greeting with whom it greets ("hi there, how are you?" is small talk, not a question)
    "hi there", "hey there", "hello there", "hi again", "hey again", "hello again",
    "hi all", "hey all", "hello all", "hi everyone", "hey everyone", "hello everyone",
    "hi folks", "hey folks", "hello folks", "hi guys", "hey guys", "hello guys",
    "good morning", "good afternoon", "good evening", "good day",
})
REQUEST_LEAD_INS = frozenset({
    "can you", "could you", "would you", "will you", "can u", "could u",
    "i want you to", "i'd like you to", "i would like you to", "i need you to",
    "help me", "i need to", "i want to", "i'd like to", "i would like to",
    "let's", "lets", "let us", "go ahead and", "try to",
})
QUESTION_LEAD_INS = frozenset({
    "how do i", "how can i", "how should i", "how would i", "how could i",
    "how do you", "how do we", "how can we", "how should we", "how would you",
    "how to", "is there a way to", "is it possible to", "what's the best way to",
    "whats the best way to", "what is the best way to", "what's a good way to",
    "what is a good way to", "show me how to", "tell me how to", "teach me how to",
})
SMALL_TALK = frozenset({
    "how are you", "how are u", "how r u", "what's up", "whats up", "sup",
    "how's it going", "hows it going", "how is it going", "how do you do",
    "how have you been", "who are you", "what are you", "are you there",
    "you there", "what's new", "whats new", "what's going on", "whats going on",
    "how are things", "how's everything", "hows everything", "how is everything",
    "how's your day", "hows your day", "how is your day", "how was your day",
    "how's life", "hows life", "how is life", "nice to meet you", "good to see you",
})
# Words that may follow small talk and leave it small talk ("how are you doing today").
SMALL_TALK_TAIL = frozenset({
    "doing", "today", "tonight", "there", "man", "buddy", "friend", "mate", "bro",
    "then", "all", "everyone", "guys", "lately", "going", "so", "far",
})

# -- edit -------------------------------------------------------------------------

EDIT_VERBS = frozenset({
    "refactor", "rename", "fix", "change", "modify", "rewrite", "rework", "update",
    "edit", "clean", "tidy", "simplify", "optimise", "optimize", "reformat",
    "format", "convert", "port", "migrate", "move", "extract", "inline", "remove",
    "delete", "replace", "split", "merge", "speed", "type-annotate", "type annotate",
    "type hint", "annotate", "improve", "debug", "correct", "repair", "patch",
    "tweak", "adjust", "shorten", "restructure", "reorganize", "reorganise",
    "translate", "parallelize", "parallelise", "vectorize", "vectorise",
    "document", "comment", "uncomment", "combine", "deduplicate", "dedupe",
    "upgrade", "swap", "wrap", "turn", "break", "complete", "finish", "harden",
    "add", "make",
})
# "add" edits when it adds to something ("add logging to it") ...
ADD_INTO = frozenset({"to", "in", "into", "inside"})
# ... or adds what only existing code takes ("add type hints", "add docstrings").
ADDITIONS = frozenset({
    "type", "types", "typing", "annotations", "hints", "docstring", "docstrings",
    "comment", "comments", "logging", "handling",
})
ADDITION_SPAN = 3
# "make" followed by these makes something new ("make me a script").
NEW_THING = frozenset({"a", "an", "me", "us", "some", "new", "another"})
# Particles between a verb and its object ("clean up this").
PARTICLES = frozenset({"up", "out", "down", "over"})
# Pronouns that, as the object, always mean something already in the conversation.
OBJECT_PRONOUNS = frozenset({"it", "them"})
DEMONSTRATIVES = frozenset({"this", "that", "these", "those"})
# Words after "this"/"that" that leave it standing for code ("rewrite this in Rust",
# "clean this up"); besides these, any word ending in -er or -ly ("make this faster").
DEMONSTRATIVE_FOLLOWERS = frozenset({
    "to", "into", "in", "so", "for", "with", "using", "by", "as", "from", "and", "or",
    "up", "out", "please", "more", "less", "now", "again", "too", "a", "an", "the",
    "without", "work", "run", "pass", "compile", "one", "code",
})
# Words that point at something existing when a code word follows.
POINTERS = frozenset({"this", "that", "these", "those", "my", "our", "your"})
# Words that point at code in the message on their own.
STANDALONE_POINTERS = frozenset({"the following", "the above"})
# Words between a pointer and its code word that stop it from pointing ("so that the").
NOT_MODIFIERS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "my", "our", "your", "is",
    "are", "was", "to", "and", "or", "of", "in", "it",
})

# -- code -------------------------------------------------------------------------

CREATION_VERBS = frozenset({
    "write", "implement", "create", "generate", "build", "make", "code",
    "scaffold", "draft", "add", "design", "develop", "produce", "give me",
    "show me", "come up with", "put together", "whip up",
})
CODE_NOUNS = frozenset({
    "function", "functions", "class", "classes", "script", "scripts", "program",
    "programs", "test", "tests", "unittest", "unittests", "module", "modules",
    "method", "methods", "regex", "regexes", "regexp", "query", "queries", "sql",
    "snippet", "snippets", "endpoint", "endpoints", "api", "apis", "cli", "parser",
    "parsers", "decorator", "decorators", "component", "components", "dockerfile",
    "makefile", "command", "commands", "one-liner", "one-liners", "oneliner",
    "code", "implementation", "implementations", "app", "library", "plugin",
    "plugins", "bot", "server", "website", "webpage", "game", "algorithm",
    "lambda", "hook", "hooks", "handler", "handlers", "middleware", "migration",
    "migrations", "schema", "struct", "enum", "interface", "macro", "fixture",
    "fixtures", "mock", "mocks", "stub", "stubs", "wrapper", "helper", "helpers",
    "loop", "loops", "python", "javascript", "typescript", "rust", "bash", "shell",
    "html", "css", "yaml", "json",
})
# Where the thing asked for ends and its topic begins ("write a poem about code").
TOPIC_WORDS = frozenset({
    "about", "regarding", "concerning", "on", "for", "to", "with", "of", "that",
    "which", "explaining", "describing", "what", "why", "how", "when", "where",
    "who",
})
# "of" after these keeps looking ("an example of a decorator").
EXAMPLES = frozenset({"example", "examples", "sample", "samples"})

# Code words a pointer may point at: the new-code words and a few more.
EXISTING_CODE_NOUNS = CODE_NOUNS | frozenset({
    "file", "files", "line", "lines", "variable", "variables", "bug", "bugs",
    "error", "errors", "block", "codebase", "diff",
})

# -- explain ----------------------------------------------------------------------

WH_WORDS = frozenset({
    "what", "whats", "what's", "why", "how", "how's", "hows", "when", "when's",
    "where", "where's", "which", "who", "who's", "whose", "whom",
})
AUXILIARIES = frozenset({
    "is", "are", "was", "were", "am", "does", "do", "did", "can", "could",
    "should", "would", "will", "shall", "has", "have",
})
# Openings that look like questions and are not.
NOT_QUESTIONS = frozenset({
    "what a", "what an", "how nice", "how cool", "how great", "how awesome",
    "how lovely", "how funny", "how weird", "how strange", "how interesting",
    "do it", "do this", "do that", "do so", "do both", "do them", "do all",
    "do the same", "do nothing", "do something", "do whatever", "will do",
    "can do", "have a", "have an", "have fun", "have some",
})
EXPLAIN_REQUESTS = frozenset({
    "explain", "describe", "compare", "summarize", "summarise", "review",
    "understand", "define", "clarify", "elaborate", "eli5", "interpret",
    "analyze", "analyse", "critique", "know", "learn", "tell me about",
    "tell me what", "tell me why", "tell me how", "tell me when", "tell me where",
    "tell me which", "tell me who", "tell me if", "tell me whether",
    "walk me through", "teach me", "show me how", "difference between",
    "the difference between", "meaning of", "i don't understand",
    "i dont understand", "i do not understand", "i wonder", "i'm wondering",
    "i am wondering", "wondering", "i'm curious", "curious",
})

_RANK: Mapping[TurnKind, int] = {"chat": 0, "explain": 1, "code": 2, "edit": 3}

# -- reading the text -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sentence:
    words: tuple[str, ...]
    asks: bool  # it ends with "?"


def _phrase_index(phrases: Iterable[str]) -> Mapping[str, tuple[tuple[str, ...], ...]]:
    """Phrases by first word, longest first, so that matching one costs a dict lookup."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        words = tuple(phrase.split())
        index.setdefault(words[0], []).append(words)
    return {first: tuple(sorted(group, key=len, reverse=True)) for first, group in index.items()}


_GREETINGS = _phrase_index(GREETINGS)
_REQUEST_LEAD_INS = _phrase_index(REQUEST_LEAD_INS)
_QUESTION_LEAD_INS = _phrase_index(QUESTION_LEAD_INS)
_SMALL_TALK = _phrase_index(SMALL_TALK)
_EDIT_VERBS = _phrase_index(EDIT_VERBS)
_CREATION_VERBS = _phrase_index(CREATION_VERBS)
_NOT_QUESTIONS = _phrase_index(NOT_QUESTIONS)
_EXPLAIN_REQUESTS = _phrase_index(EXPLAIN_REQUESTS)
_STANDALONE_POINTERS = _phrase_index(STANDALONE_POINTERS)


def _match(words: Sequence[str], at: int, index: Mapping[str, tuple[tuple[str, ...], ...]]) -> int:
    """How many words of a phrase in `index` start at `at` (0: none)."""
    if at >= len(words):
        return 0
    for phrase in index.get(words[at], ()):
        if tuple(words[at : at + len(phrase)]) == phrase:
            return len(phrase)
    return 0


def _prose(window: str) -> list[str]:
    """The parts of the window outside fenced code blocks (an unclosed fence runs to the end)."""
    return window.split(FENCE)[0::2]


def _sentences(prose: Iterable[str]) -> list[Sentence]:
    """Each part's sentences, as lower-case words; a fence also ends a sentence."""
    sentences: list[Sentence] = []
    for part in prose:
        words: list[str] = []
        for match in _TOKEN.finditer(part.casefold().replace("\u2019", "'")):
            token = match.group()
            if token in _SENTENCE_ENDS:
                if words:
                    sentences.append(Sentence(tuple(words), asks=token == "?"))
                words = []
            elif word := token.strip(_TRIM):
                words.append(word)
        if words:
            sentences.append(Sentence(tuple(words), asks=False))
    return sentences


# -- what a sentence asks ---------------------------------------------------------


def _skip_greetings(words: Sequence[str], at: int = 0) -> int:
    while n := _match(words, at, _GREETINGS):
        at += n
    return at


def _skip_lead_ins(words: Sequence[str], at: int) -> tuple[int, bool]:
    """Where the request starts, and whether a question lead-in ("how do i") came before it."""
    asked = False
    while True:
        if n := _match(words, at, _GREETINGS) or _match(words, at, _REQUEST_LEAD_INS):
            at += n
        elif n := _match(words, at, _QUESTION_LEAD_INS):
            at += n
            asked = True
        else:
            return at, asked


def _is_small_talk(words: Sequence[str], at: int) -> bool:
    """The whole sentence is small talk ("how are you doing today"), not a question."""
    n = _match(words, at, _SMALL_TALK)
    return n > 0 and all(word in SMALL_TALK_TAIL for word in words[at + n :])


def _is_edit_verb(words: Sequence[str], at: int) -> int:
    """The length of the edit verb at `at` (0: none); "add" and "make" only as edits."""
    n = _match(words, at, _EDIT_VERBS)
    if not n:
        return 0
    rest = words[at + n :]
    if words[at] == "add":
        adds_into = any(word in ADD_INTO for word in rest)
        adds_to_code = any(word in ADDITIONS for word in rest[:ADDITION_SPAN])
        return n if adds_into or adds_to_code else 0
    if words[at] == "make":
        return n if not rest or rest[0] not in NEW_THING else 0
    return n


def _refers_back(words: Sequence[str], at: int) -> bool:
    """The verb at `at` acts on "it"/"this": as its object ("simplify this") or after
    "to"/"in" ("add logging to it")."""
    if _is_pronoun(words, at):
        return True
    return any(word in ADD_INTO and _is_pronoun(words, i + 1) for i, word in enumerate(words[at:], at))


def _is_pronoun(words: Sequence[str], at: int) -> bool:
    """At `at` (after a particle: "clean up this") stands "it" or "them", or
    "this"/"that" standing alone ("this in Rust", "this faster", not "this branch")."""
    if at < len(words) and words[at] in PARTICLES:
        at += 1
    if at >= len(words):
        return False
    if words[at] in OBJECT_PRONOUNS:
        return True
    if words[at] not in DEMONSTRATIVES:
        return False
    if at + 1 >= len(words):
        return True
    follower = words[at + 1]
    return follower in DEMONSTRATIVE_FOLLOWERS or follower.endswith(("er", "ly"))


def _asks_for_new_code(words: Sequence[str], at: int) -> bool:
    """A creation verb at `at` with a code word among the next few words, before the topic."""
    n = _match(words, at, _CREATION_VERBS)
    if not n:
        return False
    previous = ""
    for word in words[at + n : at + n + OBJECT_SPAN]:
        if word in CODE_NOUNS:
            return True
        if word in TOPIC_WORDS and not (word == "of" and previous in EXAMPLES):
            return False
        previous = word
    return False


def _starts_question(words: Sequence[str], at: int) -> bool:
    if at >= len(words) or _match(words, at, _NOT_QUESTIONS):
        return False
    first = words[at]
    return first in WH_WORDS or (first in AUXILIARIES and at + 1 < len(words))


def _sentence_kind(sentence: Sentence, points_at_code: bool) -> TurnKind:
    """The kind of one sentence; `points_at_code`: the turn shows existing code."""
    words = sentence.words
    start = _skip_greetings(words)
    if _is_small_talk(words, start):
        return "chat"
    request, asked = _skip_lead_ins(words, start)
    verb = _is_edit_verb(words, request)
    if verb and (points_at_code or _refers_back(words, request + verb)):
        return "edit"
    if _asks_for_new_code(words, request):
        return "code"
    if (
        sentence.asks
        or asked
        or _starts_question(words, start)
        or _match(words, request, _EXPLAIN_REQUESTS)
    ):
        return "explain"
    return "chat"


# -- what the turn points at -----------------------------------------------------


def _points_at(words: Sequence[str], at: int) -> bool:
    """A pointer at `at` with a code word next or one word on ("this function", "my python script")."""
    if words[at] not in POINTERS:
        return _match(words, at, _STANDALONE_POINTERS) > 0
    after = words[at + 1 : at + 3]
    if not after:
        return False
    if after[0] in EXISTING_CODE_NOUNS:
        return True
    # "that" is also a conjunction ("a function that parses files"): only "that function" points.
    can_skip = words[at] != "that" and after[0] not in NOT_MODIFIERS
    return can_skip and len(after) > 1 and after[1] in EXISTING_CODE_NOUNS


def _mentions_existing_code(sentences: Iterable[Sentence]) -> bool:
    return any(
        _points_at(sentence.words, at) for sentence in sentences for at in range(len(sentence.words))
    )


def classify(text: str, files: Sequence[str] = ()) -> TurnKind:
    """The kind of a chat turn, by the rules in this module's docstring.

    Pure and bounded: it reads `text[:WINDOW]` only, in time linear in that, so
    any string (a megabyte, NUL bytes, lone surrogates) gets a kind at once.
    `files`: the files in the turn's context (pinned, or named in the text).
    """
    window = text[:WINDOW]
    sentences = _sentences(_prose(window))
    points_at_code = any(files) or FENCE in window or _mentions_existing_code(sentences)
    best: TurnKind = "chat"
    for sentence in sentences:
        kind = _sentence_kind(sentence, points_at_code)
        if _RANK[kind] > _RANK[best]:
            best = kind
        if best == "edit":
            break
    return best
