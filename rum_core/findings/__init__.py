"""The values each chapter of the book cites in its prose, computed from its experiments.

One module per chapter: ``algorithms`` (chapter 2), ``measuring`` (3), ``entanglement`` (4), ``memorization``
(5) and ``rum_table`` (6). Each function takes the runs, summaries, scores or models a chapter computed and
returns an ordered ``dict`` name → value (numbers, short verdict strings) that the chapter passes to
:func:`rum_core.notebook.glue_all`, the names being the keys of the chapter's ``{glue:text}`` roles; where a
chapter also shows a table built from the same numbers, the function returns ``(values, table)``; a few
(in ``entanglement``) return only the frame a chapter shows. Keeping these computations here, tested, leaves
the chapters thin (they call the package and show results) and puts every verdict the prose states, such as
"RUM^F beats vanilla for 4 of 6 methods", where a test can check it.

This layer sits above :mod:`rum_core.experiments` (it may call it) and below nothing but the chapters.
"""
