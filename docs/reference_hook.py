"""MkDocs hook: fills the generated reference sections (see core/docs_reference.py)."""

from core.docs_reference import fill


def on_page_markdown(markdown, page, config, files):  # noqa: ANN001, ANN201, ARG001 - MkDocs' hook signature
    return fill(markdown)
