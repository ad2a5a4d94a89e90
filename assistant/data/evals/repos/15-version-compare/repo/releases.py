"""`python releases.py 1.2 1.10 1.9` prints the newest version given."""

import sys

from versions import latest

if __name__ == "__main__":
    print(latest(sys.argv[1:]) or "no versions given")
