"""The full signatures and argument lists of the zoo cells and layers, written once.

A zoo cell's `__init__` names only its own arguments and passes the rest to its base
through `**kwargs` (`GRUCell(units, recurrent_activation, reset_after, **kwargs)`, then
`RecurrentCell`'s); a zoo layer names only its cell (`GRU.cell_class = GRUCell`). So that
`help()` and `inspect.signature` still show every argument with its default and its
description, `parameters` merges the `__init__` signatures along the class hierarchy and
`arguments_section` takes each argument's description from the first class whose
docstring has one (an entry may describe several: `tt_rank, tt_cores: ...`).
"""

import inspect
import re

import keras

_ENTRY = re.compile(r"    (\*{0,2}\w+(?:, \w+)*): ")
_PASSED_ON = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def parameters(klass, stop=keras.layers.Layer):
    """`klass.__init__`'s arguments after `self`, then those of each base class it passes
    `**kwargs` on to, before `stop` (whose arguments are Keras's: `name`, `dtype`, ...)."""
    found = {}
    for base in klass.__mro__:
        if base is stop:
            break
        if "__init__" not in vars(base):
            continue
        own = list(inspect.signature(vars(base)["__init__"]).parameters.values())[1:]
        for parameter in own:
            if parameter.kind not in _PASSED_ON:
                found.setdefault(parameter.name, parameter)
        if not any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in own):
            break
    return list(found.values())


def signature(named, keyword_only_after=1):
    """A signature of `named` (parameters), every one after the first
    `keyword_only_after` keyword-only (they reach their class through `**kwargs`), ending
    in `**kwargs` for Keras's own."""
    named = [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD if i < keyword_only_after
                       else inspect.Parameter.KEYWORD_ONLY) for i, p in enumerate(named)]
    return inspect.Signature([*named, inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)])


def sections(doc):
    """`{title: [line, ...]}` of a docstring's Google-style sections (`Args:`, ...), the
    lines unindented by four spaces, one entry per described name."""
    found, lines = {}, inspect.cleandoc(doc or "").splitlines()
    for i, line in enumerate(lines):
        if line.endswith(":") and not line.startswith(" ") and i + 1 < len(lines) \
                and lines[i + 1].startswith("    "):
            body = []
            for following in lines[i + 1:]:
                if not following.startswith("    "):
                    break
                body.append(following)
            found[line[:-1]] = body
    return found


def entries(doc, section="Args"):
    """`{(name, ...): lines}` of one section: each entry's first line and its continuation."""
    found, key = {}, None
    for line in sections(doc).get(section, []):
        match = _ENTRY.match(line)
        if match:
            key = tuple(match.group(1).split(", "))
            found[key] = [line]
        elif key is not None and line.startswith("        "):
            found[key].append(line)
    return found


def arguments_section(names, sources, tail=()):
    """The lines of an `Args:` section for `names` in order, each described by the first of
    `sources` (docstrings) that describes it, then the entries `tail` names (from the
    same sources). An argument none describes is left out (a user's class still imports;
    tests/layers/test_signatures.py holds the zoo's own to describing all)."""
    described = [entries(doc) for doc in sources]
    chosen = []
    for name in [*names, *tail]:
        entry = next((lines for found in described for key, lines in found.items()
                      if name in key), None)
        if entry is not None and entry not in chosen:
            chosen.append(entry)
    return ["Args:", *(line for entry in chosen for line in entry)]


def replace_section(doc, title, lines):
    """`doc` cleaned of its indentation, its section `title` (or the line `{title}`)
    replaced by `lines`, or `lines` appended where it has neither."""
    text = inspect.cleandoc(doc or "").splitlines()
    placeholder = "{" + title + "}"
    if placeholder in text:
        at = text.index(placeholder)
        return "\n".join([*text[:at], *lines, *text[at + 1:]])
    if f"{title}:" not in text:
        return "\n".join([*text, "", *lines])
    start = text.index(f"{title}:")
    end = start + 1
    while end < len(text) and text[end].startswith("    "):
        end += 1
    return "\n".join([*text[:start], *lines, *text[end:]])


def example(doc):
    """The lines of a docstring's `Example:` section, the title and its code block
    included, up to the next section; empty where it has none."""
    text = inspect.cleandoc(doc or "").splitlines()
    if "Example:" not in text:
        return []
    start = text.index("Example:")
    end, fenced = start + 1, False
    while end < len(text):
        line = text[end]
        fenced ^= line.strip().startswith("```")
        if not fenced and line and not line.startswith(" ") and line.endswith(":"):
            break
        end += 1
    while end > start and not text[end - 1].strip():
        end -= 1
    return text[start:end]
