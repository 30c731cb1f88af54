"""`python -m zoo.models.text`: runs `zoo.models.text.main` (the package's own module, imported once,
so nothing registers twice)."""

import sys

from zoo.models.text import main

sys.exit(main())
