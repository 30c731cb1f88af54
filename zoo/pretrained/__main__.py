"""`python -m zoo.pretrained`: runs `zoo.pretrained.main` (the package's own module, imported once,
so nothing registers twice)."""

from zoo.pretrained import main

main()
