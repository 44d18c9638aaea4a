"""rum_core.notebook: what the chapters glue is shown to plain-notebook readers and skipped by the book."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from rum_core import notebook

ROOT = Path(__file__).resolve().parents[1]


def test_the_book_picks_the_notebook_only_marker_and_renders_it_as_nothing():
    # Fails if the entry point in pyproject.toml is lost (the book would show every glued value twice) or if
    # the plugin swallowed other types (the book would lose its tables and figures).
    from myst_nb.core.render import MimeData, get_mime_priority, load_mime_renders

    assert notebook.BookRenderer in load_mime_renders()
    priority = get_mime_priority("html", [])
    others = [m for m in priority if m not in (notebook.NOTEBOOK_ONLY_MIME, "custommimetype")]  # myst-nb's demo
    assert {"text/markdown", "image/png", "text/html"} <= set(others)
    assert priority.index(notebook.NOTEBOOK_ONLY_MIME) < min(priority.index(m) for m in others)
    rendered = notebook.BookRenderer.handle_mime(None, MimeData(notebook.NOTEBOOK_ONLY_MIME, ""), False)
    assert [type(node).__name__ for node in rendered] == ["comment"]
    for mime in ("text/markdown", "image/png", "text/html", "text/plain"):
        assert notebook.BookRenderer.handle_mime(None, MimeData(mime, "x"), False) is None


def test_cited_table_lists_each_value_to_four_significant_digits():
    table = notebook.cited_table({"tow": 0.912345, "n": 1437, "who": "l1_sparse | salun", "ok": True})
    assert table.splitlines()[4:] == ["| `tow` | 0.9123 |", "| `n` | 1437 |",
                                      "| `who` | l1_sparse \\| salun |", "| `ok` | True |"]


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, None, object()])
def test_glue_refuses_values_the_prose_cannot_print(value):
    with pytest.raises(TypeError, match="must be a number, a string or a matplotlib Figure"):
        notebook.glue("x", value)


def test_glue_refuses_a_name_that_is_not_a_string():
    with pytest.raises(TypeError, match="name must be a non-empty string"):
        notebook.glue(3, 1.0)


def _outputs(cell):
    visible = [o for o in cell.outputs if "scrapbook" not in o.get("metadata", {})]
    glued = {o.metadata["scrapbook"]["name"]: o for o in cell.outputs if "scrapbook" in o.get("metadata", {})}
    return visible, glued


def test_glue_all_glues_every_value_in_order(monkeypatch):
    seen = []
    monkeypatch.setattr(notebook, "glue", lambda name, value: seen.append((name, value)))
    notebook.glue_all({"b": 2, "a": "x", "c": 0.5})
    assert seen == [("b", 2), ("a", "x"), ("c", 0.5)]
    with pytest.raises(ValueError, match="empty"):
        notebook.glue_all({})
    with pytest.raises(TypeError, match="mapping"):
        notebook.glue_all([("a", 1)])


def test_in_a_kernel_figures_show_in_place_and_values_in_one_table_after_the_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "from rum_core.notebook import glue\n"
            "glue('acc', 0.98765)\n"
            "fig, ax = plt.subplots()\n"
            "ax.plot([0, 1], [1, 0])\n"
            "glue('fig_a', fig)\n"
            "glue('verdict', 'holds')\n"
            "print('last line')"),
        nbformat.v4.new_code_cell("x = 1"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    visible, glued = _outputs(nb.cells[0])
    # the book's copies: a PNG figure and plain-text values, under myst-nb's glue prefix
    assert set(glued) == {"acc", "fig_a", "verdict"}
    assert "application/papermill.record/image/png" in glued["fig_a"].data
    assert glued["acc"].data["application/papermill.record/text/plain"] == "0.98765"
    # the reader's copies, in order: the figure where it was made, the printout, then the cited table,
    # each marked notebook-only so that the book skips it
    kinds = [next(iter(o.data)) if "data" in o else o.output_type for o in visible]
    assert kinds == ["image/png", "stream", "text/markdown"]
    assert all(notebook.NOTEBOOK_ONLY_MIME in o.data for o in (visible[0], visible[2]))
    table = visible[2].data["text/markdown"]
    assert "| `acc` | 0.9877 |" in table and "| `verdict` | holds |" in table and "fig_a" not in table
    # the inline backend does not draw the closed figure a second time, and the next cell shows no stale table
    assert len([o for o in nb.cells[0].outputs if "image/png" in o.get("data", {})]) == 1
    assert nb.cells[1].outputs == []


def test_a_built_page_shows_each_glued_value_and_figure_once(tmp_path):
    """Sphinx + myst-nb on an executed notebook: the prose gets the glued number and figure, and the
    notebook-only copies (the cited table, the in-place figure) render as nothing. Fails if the book
    would show a figure twice or print the cited table."""
    from sphinx.application import Sphinx

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Page"),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "from rum_core.notebook import glue\n"
            "glue('acc', 0.98765)\n"
            "fig, ax = plt.subplots()\n"
            "ax.plot([0, 1], [1, 0])\n"
            "glue('fig_a', fig)"),
        nbformat.v4.new_markdown_cell("Accuracy {glue:text}`acc:.3f` here.\n\n```{glue:figure} fig_a\n"
                                      ":name: fig-a\n\nThe caption.\n```"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    nbformat.write(nb, src / "index.ipynb")
    (src / "conf.py").write_text("extensions = ['myst_nb']\nnb_execution_mode = 'off'\n")
    app = Sphinx(str(src), str(src), str(out), str(tmp_path / "doctrees"), "html", status=None,
                 warning=None, freshenv=True, warningiserror=True)
    app.build()
    page = (out / "index.html").read_text()
    text = re.sub(r"<[^>]+>", "", page)
    assert "Accuracy 0.988 here." in text and "The caption." in text
    assert page.count("<img") == 1  # the glued figure, not the in-place copy too
    assert "Cited in the text" not in text and "0.9877" not in text
