"""`python -m zoo.text`: runs `zoo.text.main` (the package's own module, imported once,
so nothing registers twice)."""

import sys

from zoo.text import main

sys.exit(main())
