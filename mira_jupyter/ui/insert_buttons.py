"""The live widget's "Insert as cell" buttons: one per code block of the finished answer.

A click puts the block into a new cell below (ipylab), never runs it. Where the frontend
cannot be reached the buttons are not offered, and the reason is said once in the card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from typing import Any

from .insert import insert_unavailable
from .state import OperationState

log = logging.getLogger(__name__)


class InsertButtons:
    """The box of Insert-as-cell rows, filled when the operation has finished."""

    def __init__(
        self,
        on_insert: Callable[[str], Any] | None,
        report: Callable[[str, BaseException], None],
        say_once: Callable[[str], None],
    ) -> None:
        """`on_insert(code)` backs each button; `report` and `say_once` write in the card."""
        import ipywidgets as w

        self.on_insert = on_insert
        self.inserted: list[str] = []
        self._report = report
        self._say_once = say_once
        self.box = w.VBox()
        self.box.add_class("mira-insert-cells")
        self.box.layout.display = "none"

    def blocks(self, state: OperationState) -> list[str]:
        """The finished answer's code blocks (none while it runs, or without `on_insert`)."""
        from ..core.codeblocks import code_blocks

        return code_blocks(state.answer) if self.on_insert and state.finished else []

    def render(self, state: OperationState) -> None:
        """One "Insert as cell" button per code block of the finished answer."""
        import ipywidgets as w

        blocks = self.blocks(state)
        rows = []
        for number, code in enumerate(blocks, 1):
            button = w.Button(
                description="Insert as cell",
                icon="plus",
                tooltip="Put this code in a new cell below (it is not run)",
                # the label stays whole in a narrow notebook
                layout=w.Layout(width="auto", min_width="fit-content", flex="0 0 auto"),
            )
            button.add_class("mira-insert-cell")
            button.on_click(lambda _b, code=code, button=button: self.clicked(code, button))
            first = code.strip().splitlines()[0] if code.strip() else ""
            label = w.HTML(f'<code style="opacity:0.75">{escape(first[:80])}</code>' + (f" <small>(block {number})</small>" if len(blocks) > 1 else ""))
            rows.append(w.HBox([button, label], layout=w.Layout(flex_flow="row wrap", align_items="center")))
        self.box.children = rows
        self.box.layout.display = "" if rows else "none"
        prepare = getattr(self.on_insert, "prepare", None)
        if rows and prepare is not None:
            try:  # the frontend connection is made now, so it is ready when a button is clicked
                prepare()
            except Exception as exc:
                # buttons that cannot work are not offered; the reason is said once, in the card
                log.debug("mira: the Insert as cell buttons cannot reach JupyterLab", exc_info=True)
                self.box.children = []
                self.box.layout.display = "none"
                self._say_once(insert_unavailable(exc))

    def clicked(self, code: str, button: Any) -> None:
        """Insert `code` as a new cell below; the button then says so."""
        if self.on_insert is None:
            return
        try:
            self.on_insert(code)
        except Exception as exc:  # e.g. a frontend without the ipylab extension
            self._report("Insert as cell", exc)
            return
        self.inserted.append(code)
        button.description = "Inserted below"
        button.icon = "check"

    def close(self) -> None:
        """Close the box and its rows."""
        for row in self.box.children:
            for part in row.children:
                part.close()
            row.close()
        self.box.close()
