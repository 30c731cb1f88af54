"""`python -m zoo.pretrained`: runs `zoo.pretrained.main` (the package's own module, imported once,
so nothing registers twice)."""

import sys

from zoo.pretrained import main

sys.exit(main())
