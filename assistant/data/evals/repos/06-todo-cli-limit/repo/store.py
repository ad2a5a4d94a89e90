"""The to-do list's file: one task a line, a done one starting with "x "."""

import os


class TaskFile:
    def __init__(self, path):
        self.path = path

    def read(self):
        """(done, text) of every task, in the file's order."""
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as file:
            lines = [line.rstrip("\n") for line in file if line.strip()]
        return [(True, line[2:]) if line.startswith("x ") else (False, line) for line in lines]

    def write(self, tasks):
        with open(self.path, "w", encoding="utf-8") as file:
            file.writelines(f"{'x ' if done else ''}{text}\n" for done, text in tasks)

    def add(self, text):
        self.write([*self.read(), (False, text)])

    def mark_done(self, number):
        tasks = self.read()
        if not 1 <= number <= len(tasks):
            raise SystemExit(f"no task {number}")
        tasks[number - 1] = (True, tasks[number - 1][1])
        self.write(tasks)
