"""Text a client sends in a document: refused when it holds control characters, and no
schema hints in production errors.

Variables are checked where requests are read (:func:`core.http.json_guard.check_text`);
string literals in the document are checked here, as a validation rule, so both spellings of
an input meet the same refusal: ``KERNEL_INVALID_INPUT``, before anything runs.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule

from core.http.json_guard import forbidden_character


class NoControlCharacters(ValidationRule):
    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        bad = forbidden_character(node.value)
        if bad is not None:
            self.report_error(
                GraphQLError(
                    f"Text may not contain the control character U+{ord(bad):04X}.",
                    node,
                    extensions={"code": "KERNEL_INVALID_INPUT"},
                )
            )


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    """graphql-core's "Did you mean 'members'?" names fields of a schema whose introspection
    is off in production: a misspelling oracle. The rest of the message stays."""
    return _SUGGESTION.sub("", message)
