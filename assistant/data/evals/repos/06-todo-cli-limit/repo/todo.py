"""A to-do list kept in a text file, one task a line; a done task starts with "x ".

    python todo.py add "buy milk"        add a task
    python todo.py list [--all]           the open tasks (every task with --all)
    python todo.py done N                 mark task N (as `list` numbers it) done
"""

import argparse
import sys

from store import TaskFile


def parser():
    parser = argparse.ArgumentParser(prog="todo", description="A to-do list in a text file.")
    parser.add_argument("--file", default="todo.txt", help="the list's file (default: todo.txt)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a task")
    add.add_argument("text")
    show = commands.add_parser("list", help="show the tasks")
    show.add_argument("--all", action="store_true", help="done tasks too")
    done = commands.add_parser("done", help="mark a task done")
    done.add_argument("number", type=int)
    return parser


def main(argv=None):
    args = parser().parse_args(argv)
    tasks = TaskFile(args.file)
    if args.command == "add":
        tasks.add(args.text)
    elif args.command == "list":
        for number, (done, text) in enumerate(tasks.read(), 1):
            if args.all or not done:
                print(f"{number}. {'[x] ' if done else ''}{text}")
    elif args.command == "done":
        tasks.mark_done(args.number)
    return 0


if __name__ == "__main__":
    sys.exit(main())
