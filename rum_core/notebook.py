"""What the chapters use to show their results both in the built book and in a plain notebook.

The book's prose cites computed numbers through MyST ``{glue:text}`` roles and places figures with
``{glue:figure}`` directives; Jupyter Book fills them in from values *glued* (myst-nb's ``glue``) in the
code cells. A notebook opened in JupyterLab, Colab or Binder does not render those roles, and a value
glued with ``display=False`` shows nothing there. So every chapter glues through :func:`glue` here, which
glues for the book **and** shows the value to the notebook reader:

* a figure is displayed in place, where the cell made it;
* numbers and strings are collected, and when the cell has finished one small table, "cited in the text",
  lists every value the cell glued (the same mechanism matplotlib's inline backend uses to show figures
  after a cell: an IPython ``post_execute`` callback).

The book must not show those notebook-only displays a second time. Each carries, beside the MIME type a
notebook renders (``text/markdown`` for the table, ``image/png`` for the figure), the marker type
:data:`NOTEBOOK_ONLY_MIME`. JupyterLab, Colab, Binder and nbconvert ignore a type they do not know and
render the other; the book's renderer, myst-nb, ranks the marker first and renders it as nothing, through
:class:`BookRenderer`, which ``pyproject.toml`` registers as a ``myst_nb.mime_renderers`` plugin.
Everything else a chapter displays is unaffected, and the glued copies the book places carry no marker.

Without myst-nb (a bare ``pip install rum_core``) values and figures are still shown; there is simply no
book to glue them into.
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
from collections.abc import Mapping
from typing import Any

__all__ = ["NOTEBOOK_ONLY_MIME", "BookRenderer", "cited_table", "glue", "glue_all"]

#: The MIME type that marks an output as meant for notebook readers only (the book renders it as nothing).
NOTEBOOK_ONLY_MIME = "application/vnd.rum-core.notebook-only"


class BookRenderer:
    """myst-nb MIME render plugin: outputs marked :data:`NOTEBOOK_ONLY_MIME` render as nothing in the book.

    Registered in ``pyproject.toml`` (``[project.entry-points."myst_nb.mime_renderers"]``). The priority
    override makes the marker the type myst-nb picks whenever an output has it.
    """

    mime_priority_overrides = (("*", NOTEBOOK_ONLY_MIME, 1),)

    @staticmethod
    def handle_mime(renderer, data, inline: bool):
        """A comment node (no visible output) for a notebook-only output; ``None`` (not mine) otherwise.

        Not an empty list: myst-nb's Sphinx transform drops a MIME type that rendered to no nodes and
        would fall back to the next one, the visible copy.
        """
        if data.mime_type != NOTEBOOK_ONLY_MIME:
            return None
        from docutils import nodes

        return [nodes.comment("", "notebook-only output (rum_core.notebook)")]


def _glue(name: str, value: Any) -> None:
    try:
        from myst_nb import glue
    except ImportError:  # a plain install without the [book] extra: nothing to glue into
        return
    glue(name, value, display=False)


def _display_notebook_only(mime: str, content: str) -> None:
    from IPython.display import display

    display({mime: content, NOTEBOOK_ONLY_MIME: ""}, raw=True)


def _format(value: Any) -> str:
    if isinstance(value, bool) or isinstance(value, numbers.Integral):
        return str(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        return f"{v:.4g}" if math.isfinite(v) else str(v)
    return str(value)


def _cell(text: str) -> str:
    # One markdown table cell: no line breaks, no column separators, no raw HTML.
    return html.escape(" ".join(text.split())).replace("|", "\\|")


def cited_table(values: dict[str, Any]) -> str:
    """The markdown table :func:`glue` displays after a cell: one row per name, values to 4 significant digits."""
    if not isinstance(values, Mapping) or not values:
        raise (ValueError if isinstance(values, Mapping) else TypeError)(
            f"values must be a non-empty mapping name → cited value, got {values!r}")
    rows = "\n".join(f"| `{name}` | {_cell(_format(v))} |" for name, v in values.items())
    return f"**Cited in the text**\n\n| name | value |\n| --- | --- |\n{rows}\n"


_pending: dict[str, Any] = {}
_hooked_shells: set[int] = set()


def _show_pending(*_args) -> None:
    """IPython ``post_execute`` callback: show the values the finished cell glued, then forget them."""
    if _pending:
        values = dict(_pending)
        _pending.clear()
        _display_notebook_only("text/markdown", cited_table(values))


def glue(name: str, value: Any) -> None:
    """Glue ``value`` as ``name`` for the book and show it to the notebook reader.

    Args:
        name: the key the prose uses (``{glue:text}`name``` or ``{glue:figure} name``).
        value: a number or a string (shown, with everything else the cell glues, in one "cited in the
            text" table after the cell), or a matplotlib ``Figure`` (shown in place, and closed so the
            inline backend does not draw it again).

    Raises:
        TypeError: ``name`` is not a string, or ``value`` is none of the above (its text in the prose would
            be a repr, not a result).
    """
    from matplotlib.figure import Figure

    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"glue(name, value): name must be a non-empty string, got {name!r}")
    if isinstance(value, Figure):
        _glue(name, value)
        _show_figure(value)
        return
    if not isinstance(value, str | numbers.Real):
        raise TypeError(f"glue({name!r}, value): value must be a number, a string or a matplotlib Figure, "
                        f"got {type(value).__name__}")
    _glue(name, value)
    shell = _shell()
    if shell is None:  # not in IPython (a script): nothing runs after the cell, so show it now
        _display_notebook_only("text/markdown", cited_table({name: value}))
        return
    if id(shell) not in _hooked_shells:
        shell.events.register("post_execute", _show_pending)
        _hooked_shells.add(id(shell))
    _pending[name] = value


def glue_all(values: Mapping[str, Any]) -> None:
    """:func:`glue` every ``name → value`` of ``values``, in order: how a chapter cites the findings that a
    :mod:`rum_core.findings` function computed for it (one call instead of one line per number).

    Raises:
        TypeError: ``values`` is not a mapping (or one of its names or values is refused by :func:`glue`).
        ValueError: ``values`` is empty (a chapter that meant to cite something cited nothing).
    """
    if not isinstance(values, Mapping):
        raise TypeError(f"glue_all(values): values must be a mapping name → value, got {type(values).__name__}")
    if not values:
        raise ValueError("glue_all(values): values is empty, so nothing would be cited")
    for name, value in values.items():
        glue(name, value)


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _show_figure(fig) -> None:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    _display_notebook_only("image/png", base64.b64encode(buffer.getvalue()).decode("ascii"))
