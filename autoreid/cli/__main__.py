import sys

from autoreid.cli import main

sys.exit(main())
