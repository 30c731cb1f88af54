import pytest


@pytest.fixture(scope="session")
def minilm_module(tmp_path_factory):
    """all-MiniLM-L6-v2 exported once (16 tokens, tutorial 04's fast setting)."""
    from zoo.models.text import export_minilm

    path = str(tmp_path_factory.mktemp("minilm") / "module")
    return export_minilm(path, sequence_length=16)
