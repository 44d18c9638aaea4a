"""pyproject.toml is the one place for the project's home and version; the book's copies follow it."""

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book_meta  # noqa: E402


def test_the_committed_book_is_in_step_with_pyproject():
    assert book_meta.out_of_step() == [], "run `make sync`"


@pytest.fixture
def copy(tmp_path):
    for name in ("pyproject.toml", "_config.yml", "CITATION.cff"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book")
    return tmp_path


def _first_code_cell(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])


def test_a_new_home_and_version_reach_the_config_and_every_install_cell(copy):
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text().replace('version = "0.1.0"', 'version = "9.8.7"')
    text = text.replace('Repository = "https://github.com/rum-core/rum_core"', 'Repository = "https://example.org/me/rum"')
    pyproject.write_text(text)
    chapters = sorted(p.relative_to(copy).as_posix() for p in (copy / "book").glob("*.ipynb"))
    assert book_meta.out_of_step(copy) == ["_config.yml", "CITATION.cff", *chapters]
    book_meta.out_of_step(copy, write=True)
    assert book_meta.out_of_step(copy) == []
    assert "repository:\n  url: https://example.org/me/rum\n" in (copy / "_config.yml").read_text()
    citation = (copy / "CITATION.cff").read_text()
    assert "\nversion: 9.8.7\n" in citation and '\nrepository-code: "https://example.org/me/rum"\n' in citation
    for chapter in chapters:
        cell = _first_code_cell(copy / chapter)
        assert 'glob("rum_core-9.8.7-*.whl")' in cell
        assert ("https://example.org/me/rum/releases/download/v9.8.7/rum_core-9.8.7-py3-none-any.whl" in cell)
        assert '%pip install --quiet "rum_core[book] @ {wheel}"' in cell


def test_a_chapter_without_the_install_cell_is_refused(copy):
    path = copy / "book" / "01_first_unlearning.ipynb"
    nb = json.loads(path.read_text())
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    first["source"] = ["import sys\n"]
    path.write_text(json.dumps(nb))
    with pytest.raises(ValueError, match="01_first_unlearning.ipynb: its first code cell must be the Colab"):
        book_meta.out_of_step(copy)


def test_the_config_reads_the_home_from_pyproject_too():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == book_meta.metadata()["repository"]


def test_citation_cff_names_the_package_version_home_and_the_paper():
    import yaml

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    meta = book_meta.metadata()
    assert cff["cff-version"] == "1.2.0" and cff["version"] == meta["version"]
    assert cff["repository-code"] == meta["repository"] and cff["license"] == "MIT"
    paper = cff["preferred-citation"]
    assert paper["title"] == "What makes unlearning hard and what to do about it" and paper["year"] == 2024
    assert [a["family-names"] for a in paper["authors"]] == ["Zhao", "Kurmanji", "Bărbulescu", "Triantafillou",
                                                             "Triantafillou"]
