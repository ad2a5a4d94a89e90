"""The command line: `python -m logtool FILE [--grep TEXT] [--level LEVEL]`."""

import argparse

from logtool.records import LEVELS, read


def parser():
    parser = argparse.ArgumentParser(prog="logtool", description="Print the records of a log file.")
    parser.add_argument("file")
    parser.add_argument("--grep", metavar="TEXT", help="only records whose message holds TEXT")
    parser.add_argument("--level", type=str.upper, choices=LEVELS,
                        help="only records at this level or a more severe one")
    return parser


def main(argv=None):
    args = parser().parse_args(argv)
    with open(args.file, encoding="utf-8") as file:
        records = read(file)
    lowest = LEVELS.index(args.level) if args.level else 0
    for record in records:
        if args.grep and args.grep not in record.message:
            continue
        if LEVELS.index(record.level) < lowest:
            continue
        print(f"{record.when} {record.level} {record.message}")
    return 0
