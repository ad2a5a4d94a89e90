"""A to-do list kept in a text file, one task a line; a done task starts with "x ".

    python todo.py add "buy milk"        add a task
    python todo.py list [--all] [--limit N]  the open tasks (every task with --all; N at most)
    python todo.py done N                 mark task N (as `list` numbers it) done
"""

import argparse
import sys

from store import TaskFile


def non_negative(text):
    """An argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text}")
    return value


def parser():
    parser = argparse.ArgumentParser(prog="todo", description="A to-do list in a text file.")
    parser.add_argument("--file", default="todo.txt", help="the list's file (default: todo.txt)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a task")
    add.add_argument("text")
    show = commands.add_parser("list", help="show the tasks")
    show.add_argument("--all", action="store_true", help="done tasks too")
    show.add_argument("--limit", type=non_negative, metavar="N", help="print at most N tasks")
    done = commands.add_parser("done", help="mark a task done")
    done.add_argument("number", type=int)
    return parser


def main(argv=None):
    args = parser().parse_args(argv)
    tasks = TaskFile(args.file)
    if args.command == "add":
        tasks.add(args.text)
    elif args.command == "list":
        shown = [(number, done, text) for number, (done, text) in enumerate(tasks.read(), 1) if args.all or not done]
        if args.limit is not None:
            shown = shown[: args.limit]
        for number, done, text in shown:
            print(f"{number}. {'[x] ' if done else ''}{text}")
    elif args.command == "done":
        tasks.mark_done(args.number)
    return 0


if __name__ == "__main__":
    sys.exit(main())
