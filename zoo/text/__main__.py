"""`python -m zoo.text`: runs `zoo.text.main` (the package's own module, imported once,
so nothing registers twice)."""

from zoo.text import main

main()
