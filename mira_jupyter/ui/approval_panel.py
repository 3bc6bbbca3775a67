"""The live widget's approval panel: the waiting change's diff (or command), Approve and Reject.

The buttons' clicks reach the kernel as the Stop button's do: the cell awaits its operation,
so the kernel's event loop handles widget messages, and the click handler runs there and
answers the question on the session's `Approvals` board, which the operation's thread waits
on. The first click disables both buttons (a double click answers once); an answer that
arrives after the question ended (stopped, timed out) is refused and said in the panel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape

from .colors import WARNING, tone
from .diff_view import approval_body_html, approval_summary
from .markdown import CODE_STYLE
from .state import ApprovalState

log = logging.getLogger(__name__)

Decide = Callable[[str, bool], bool]


class ApprovalPanel:
    """One widget area showing the question that waits now (hidden when none does)."""

    def __init__(self, on_decide: Decide | None) -> None:
        import ipywidgets as w

        self.on_decide = on_decide
        self.approval_id: str | None = None
        self.title = w.HTML()
        # the diff scrolls inside the panel rather than widening it past a narrow notebook
        self.body = w.HTML(layout=w.Layout(width="100%", max_width="100%", overflow="hidden"))
        self.approve = w.Button(description="Approve", icon="check", button_style="success", tooltip="Apply this change")
        self.reject = w.Button(description="Reject", icon="times", button_style="danger", tooltip="Do not apply it; the model is told")
        for button in (self.approve, self.reject):
            button.layout = w.Layout(width="auto", min_width="fit-content", flex="0 0 auto", margin="2px 6px 2px 0")
        self.approve.add_class("mira-approve")
        self.reject.add_class("mira-reject")
        self.approve.on_click(lambda _b: self._clicked(True))
        self.reject.on_click(lambda _b: self._clicked(False))
        self.buttons = w.HBox([self.approve, self.reject], layout=w.Layout(flex_flow="row wrap"))
        self.root = w.VBox(
            [self.title, self.body, self.buttons],
            layout=w.Layout(
                border="1px solid rgba(154,103,0,0.6)", padding="4px 8px", margin="6px 0", display="none"
            ),
        )
        self.root.add_class("mira-approval")

    def show(self, approval: ApprovalState | None) -> None:
        """Show `approval` (waiting), or hide the panel."""
        if approval is None:
            self.approval_id = None
            self.root.layout.display = "none"
            return
        if approval.request.approval_id != self.approval_id:
            self.approval_id = approval.request.approval_id
            self.approve.disabled = self.reject.disabled = False
            self.approve.description, self.reject.description = "Approve", "Reject"
            self.body.value = approval_body_html(approval)
        request = approval.request
        self.title.value = (
            '<div style="font-size:13px;line-height:1.45"><b>Waiting for your approval:</b> '
            f'<code style="{CODE_STYLE}">{escape(approval_summary(approval))}</code> '
            f'<span style="opacity:0.75;font-size:12px">({escape(request.why)}; rejected after '
            f"{request.timeout_seconds:g} s without an answer)</span></div>"
        )
        self.buttons.layout.display = "" if self.on_decide is not None else "none"
        self.root.layout.display = ""

    def _clicked(self, approved: bool) -> None:
        if self.approval_id is None or self.approve.disabled or self.on_decide is None:
            return
        self.approve.disabled = self.reject.disabled = True
        (self.approve if approved else self.reject).description = "Approving…" if approved else "Rejecting…"
        try:
            reached = self.on_decide(self.approval_id, approved)
        except Exception as exc:  # a broken board must not break the view
            log.exception("mira: the approval answer failed")
            reached, note = False, f"the answer failed: {exc}"
        else:
            note = "this change no longer waits (stopped or timed out): nothing was done"
        if not reached:
            self.title.value += f'<div style="{tone(WARNING)};font-size:12px">{escape(note)}</div>'

    def close(self) -> None:
        """Close every widget of the panel."""
        for part in (self.approve, self.reject, self.buttons, self.title, self.body, self.root):
            part.close()
