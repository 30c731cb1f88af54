"""The house rules of `zoo/` (issue 13), checked on the source: short modules, imports
that all point one way, no module reaching for the top-level package, a small top level."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "zoo"
MAX_LINES = 400
#: The cross-cutting modules allowed directly in `zoo/`; everything else lives in a package.
TOP_LEVEL = {"__init__.py", "catalog.py", "registry.py", "losses.py", "metrics.py", "saving.py",
             "validation.py", "files.py", "hub.py", "plots.py", "_lazy.py"}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


MODULES = dict(_modules())


def _imports(name, path):
    """The zoo modules `name` imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "zoo")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if base.split(".")[0] != "zoo":
                continue
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
    return found - {name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_400_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines"


def test_no_module_inside_the_package_imports_the_top_level_package():
    offenders = {name for name, imports in GRAPH.items() if name != "zoo" and "zoo" in imports}
    assert not offenders, f"`import zoo` or `from zoo import <not a module>` in {offenders}"


def test_there_is_no_import_cycle():
    # Imports of a package's own children from its __init__ are how a package exposes its
    # parts; every other arrow must point one way.
    def edges(name):
        return {m for m in GRAPH[name] if m in GRAPH and not name.startswith(m + ".")}

    state, path = {}, []

    def visit(name):
        state[name] = "open"
        path.append(name)
        for target in sorted(edges(name)):
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


def test_the_top_level_holds_packages_and_a_few_cross_cutting_modules():
    modules = {p.name for p in ROOT.glob("*.py")}
    assert modules <= TOP_LEVEL, f"modules that belong in a package: {modules - TOP_LEVEL}"


def test_the_registry_knows_no_weights():
    assert not any(m.startswith("zoo.pretrained") for m in GRAPH["zoo.registry"])


def test_every_public_layer_and_model_documents_its_arguments_and_an_example():
    import inspect

    import keras

    import zoo

    missing = []
    for module in (zoo.layers, zoo.models, zoo.hub):
        for name in getattr(module, "__all__", dir(module)):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and issubclass(obj, keras.layers.Layer):
                doc = inspect.getdoc(obj) or ""
                missing += [f"{name}: {k}" for k in ("Args:", "Example") if k not in doc]
    assert not missing, missing


def test_no_file_of_the_package_names_a_file_outside_the_repository():
    """Papers are cited by author and title, not by the planning folder's file names."""
    import re

    outside = re.compile(r"\.\./shared|\bseeds?/|\b00[0-9]_\*|\b(FACTS|DESIGN|STYLE)\.md")
    found = [f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()}"
             for path in sorted(ROOT.rglob("*")) if path.suffix in (".py", ".json", ".md")
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if outside.search(line)]
    assert not found, "\n".join(found)


def test_no_module_imports_keras_private_code():
    """`keras.src` moves between Keras releases; zoo uses the public API only."""
    private = [name for name, path in MODULES.items()
               for node in ast.walk(ast.parse(path.read_text()))
               if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras.src"))
               or (isinstance(node, ast.Import)
                   and any(a.name.startswith("keras.src") for a in node.names))]
    assert not private, private


def test_package_init_files_hold_exports_not_code():
    long = {str(path): n for path in ROOT.rglob("__init__.py")
            if (n := len(path.read_text().splitlines())) > 60}
    assert not long, long
