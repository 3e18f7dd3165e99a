"""Errors of the domain that the user should hear about, in their own words.

Raise a `UserError` anywhere below a handler; the error router answers with its template.
"""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """An expected failure with a friendly explanation (rendered from `template`)."""

    template = "errors/generic.j2"

    def __init__(self, template: str | None = None, **context: Any) -> None:
        super().__init__(template or self.template)
        if template:
            self.template = template
        self.context = context


class StaleButton(UserError):
    """The button refers to something that no longer exists or a screen that moved on."""

    template = "errors/stale.j2"
