"""Every chapter, executed top to bottom as a plain notebook (nbclient, as JupyterLab or ``jupyter nbconvert
--execute`` would run it), shows its reader what the built book shows: every glued figure, and every value
its prose cites. Runs at the profile of the environment (``make test``: ``smoke``)."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))
# {glue:text}`key:.2f`, {glue}`key`, {glue:md}`key` roles and ```{glue:figure} key directives
_ROLE = re.compile(r"\{glue(?::(?:text|md|any))?\}`([^`:]+)(?::[^`]*)?`")
_FIGURE = re.compile(r"\{glue:figure\}\s+(\S+)")


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _is_figure(data) -> bool:
    return any(mime.startswith("image/") for mime in data)


@pytest.fixture(scope="module", params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def executed(request):
    nb = nbformat.read(request.param, as_version=4)
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(BOOK)}}).execute()
    return nb


def test_chapters_are_committed_without_outputs():
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


def test_chapters_are_valid_nbformat_with_an_id_on_every_cell():
    """nbformat 4.5 requires a unique id per cell; a cell pasted in without one makes every reader's
    nbformat warn (and future nbformat versions refuse the notebook). Read the raw JSON: nbformat.read
    would quietly fill the ids in."""
    import json

    for path in CHAPTERS:
        raw = json.loads(path.read_text(encoding="utf-8"))
        ids = [c.get("id") for c in raw["cells"]]
        missing = [i for i, cell_id in enumerate(ids) if not cell_id]
        assert not missing, f"{path.name}: cells {missing} have no id"
        assert len(set(ids)) == len(ids), f"{path.name}: cell ids repeat"
        nbformat.validate(nbformat.from_dict(raw))


def test_a_plain_run_shows_at_least_every_figure_the_book_glues(executed):
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if "data" in o]
    glued = {o.metadata["scrapbook"]["name"] for o in outputs
             if "scrapbook" in o.metadata and _is_figure({k.rsplit("record/", 1)[-1]: v for k, v in o.data.items()})}
    shown = [o for o in outputs if "scrapbook" not in o.metadata and _is_figure(o.data)]
    placed = set(_FIGURE.findall(_markdown(executed)))
    assert placed <= glued, f"the prose places figures nobody glued: {sorted(placed - glued)}"
    assert len(shown) >= len(glued) >= 1


def test_every_value_the_prose_cites_is_visible_as_cell_output(executed):
    cited = set(_ROLE.findall(_markdown(executed)))
    tables = "\n".join(o.data["text/markdown"] for c in executed.cells if c.cell_type == "code"
                       for o in c.outputs if "text/markdown" in o.get("data", {}))
    missing = sorted(k for k in cited if f"| `{k}` |" not in tables)
    assert not missing, f"cited in the prose but never shown to a notebook reader: {missing}"
