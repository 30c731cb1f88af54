"""What redirected output must not hold (issue 27, item 3): terminal escapes and carriage
returns (progress bars), TensorFlow's Python warnings (retracing) and Keras's "ran out of
data"."""

import re

DIRT = re.compile(r"\x1b\[|\r(?!\n)|WARNING:tensorflow|UserWarning|PaddingWarning|"
                  r"ran out of data")


def check_clean(text, where):
    """Fails naming `where` and the first offending line when `text` holds `DIRT`."""
    found = DIRT.search(text)
    if found:
        start = text.rfind("\n", 0, found.start()) + 1
        end = text.find("\n", found.end())
        raise AssertionError(f"{where} wrote {found.group()!r} into redirected output: "
                             f"{text[start:end if end > 0 else None][:300]!r}")
