import sys

from logtool.cli import main

sys.exit(main())
