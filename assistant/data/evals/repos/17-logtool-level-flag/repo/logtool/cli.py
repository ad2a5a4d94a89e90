"""The command line: `python -m logtool FILE [--grep TEXT]`."""

import argparse

from logtool.records import read


def parser():
    parser = argparse.ArgumentParser(prog="logtool", description="Print the records of a log file.")
    parser.add_argument("file")
    parser.add_argument("--grep", metavar="TEXT", help="only records whose message holds TEXT")
    return parser


def main(argv=None):
    args = parser().parse_args(argv)
    with open(args.file, encoding="utf-8") as file:
        records = read(file)
    for record in records:
        if args.grep and args.grep not in record.message:
            continue
        print(f"{record.when} {record.level} {record.message}")
    return 0
