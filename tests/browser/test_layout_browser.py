"""Layout rules of the operation card in JupyterLab, at 600, 900 and 1,400 px, light and dark.

Measured in the page, not eyeballed: the live widget at its final state lays out like the
static card that replaces it (no jump at the end); nothing overlaps or sticks out (the
tool-call table overlapped at 900 px); model names never break; every piece of text has at
least 4.5:1 contrast against what is behind it; tasks that never started read "not
started", not failed; the stop reason appears once; the costs chart follows the theme and
its x labels do not collide.

With ``UPDATE_DOCS_SCREENSHOTS=1`` the screenshots are also copied to ``docs/layout/``
(one per width and theme: the live widget and the card of a failed and of a stopped
operation, one above the other, and the costs chart).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lab_harness import REPO_ROOT, use_theme, write_notebook

pytestmark = pytest.mark.browser

WIDTHS = (600, 900, 1400)
THEMES = ("JupyterLab Light", "JupyterLab Dark")
MIN_CONTRAST = 4.5
SAME_PLACE_PX = 3  # how far a part of the live widget may sit from its place in the card

SETUP = """\
import pandas as pd
from IPython.display import HTML, display
from mira_jupyter.notebook.costs_chart import chart_html
from mira_jupyter.ui import OperationWidget
from mira_jupyter.ui.demo import planned_operation, stopped_operation
from mira_jupyter.ui.static import render_static

def final_but_live(events):
    # the live widget at the operation's end, kept live to compare it with the card
    widget = OperationWidget(schedule=None)
    widget.close_and_render_static = widget.flush
    for event in events:
        widget(event)
    return widget
"""
LIVE_DONE = "done = final_but_live(planned_operation(4, fail_task=3))"
CARD_DONE = "display(render_static(done.state), raw=True)"
LIVE_STOPPED = "stopped = final_but_live(stopped_operation(4, operation_id='op_0000000000demo02'))"
CARD_STOPPED = "display(render_static(stopped.state), raw=True)"
CHART = """\
frame = pd.DataFrame({
    "provider": ["compatible", "compatible", "openai"],
    "model": ["deepseek-chat", "deepseek-reasoner", "gpt-5-mini"],
    "cost_usd": [0.0123, 0.2040, 0.0561],
    "routing_savings_usd": [0.0031, 0.0, 0.0],
})
frame.attrs.update(by="model", totals={"cost_usd": 0.2724})
display(HTML(chart_html(frame, "model")))
"""
CELLS = [SETUP, LIVE_DONE, CARD_DONE, LIVE_STOPPED, CARD_STOPPED, CHART]

# the positions of the parts of a card, relative to its top-left corner
PLACES_JS = """(root) => {
    const top = root.getBoundingClientRect().top;
    const at = (sel) => [...root.querySelectorAll(sel)].map(
        (e) => Math.round(e.getBoundingClientRect().top - top));
    return {
        height: Math.round(root.getBoundingClientRect().height),
        width: Math.round(root.getBoundingClientRect().width),
        badge: at('[data-mira-status]'),
        tasks: at('[data-mira-task-status]'),
        answer: at('.mira-answer'),
        footer: at('.mira-footer'),
    };
}"""

# every text-bearing element whose contrast is under the bar, and things that overlap
CHECKS_JS = """([root, minimum]) => {
    const parse = (c) => {
        // rgb()/rgba(), or color(srgb r g b / a) as Chrome gives a color-mix() result
        const srgb = c.match(/color\\(srgb ([^)]+)\\)/);
        if (srgb) {
            const p = srgb[1].split(/[ \\/]+/).filter(Boolean).map(Number);
            return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
        }
        const m = c.match(/rgba?\\(([^)]+)\\)/);
        if (!m) throw new Error('unknown colour ' + c);
        const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
        return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (fg, bg) => fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const lum = (rgb) => {
        const [r, g, b] = rgb.map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = (el) => {
        const layers = [];
        for (let e = el; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
        }
        let bg = [255, 255, 255];
        for (const layer of layers.reverse()) bg = over(layer, bg);
        return bg;
    };
    const opacity = (el) => {
        let o = 1;
        for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
        return o;
    };
    const low = [];
    const seen = new Set();
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!n.textContent.trim() || seen.has(el) || el.closest('svg')) continue;
        seen.add(el);
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;  // folded away
        const fg = parse(getComputedStyle(el).color);
        const bg = background(el);
        const shown = over([fg[0], fg[1], fg[2], fg[3] * opacity(el)], bg);
        const [a, b] = [lum(shown), lum(bg)];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < minimum) low.push(`${ratio.toFixed(2)}: ${n.textContent.trim().slice(0, 40)}`);
    }
    const overlaps = [];
    const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    for (const row of root.querySelectorAll('[data-mira-tools] [data-mira-tool-status]')) {
        const edge = row.getBoundingClientRect();
        const parts = [...row.children].map((c) => c.getBoundingClientRect());
        for (let i = 0; i < parts.length; i++) {
            for (let j = i + 1; j < parts.length; j++) {
                if (meet(parts[i], parts[j])) overlaps.push(`parts ${i} and ${j}: ` + row.innerText.slice(0, 60));
            }
            if (parts[i].right > edge.right + 1) overlaps.push('sticks out: ' + row.children[i].innerText.slice(0, 40));
        }
    }
    const inside = root.getBoundingClientRect().right + 1;
    for (const el of root.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 || el.closest('pre, svg')) continue;  // a <pre> scrolls inside itself
        if (box.right > inside && ![...el.children].some((c) => c.getBoundingClientRect().right > inside)) {
            overlaps.push(`sticks out of the card: <${el.tagName.toLowerCase()}> ${(el.textContent || '').trim().slice(0, 50)}`);
        }
    }
    const broken = [...root.querySelectorAll('code[data-mira-model]')]
        .filter((c) => c.getClientRects().length !== 1).map((c) => c.textContent);
    return {low, overlaps, broken};
}"""

CHART_JS = """([root, minimum]) => {
    // labels turned by an angle collide when the gap between two neighbours, measured
    // across the text, is less than a line; unturned ones when their boxes meet
    const texts = [...root.querySelectorAll('g[id^="xtick"] text')];
    const boxes = texts.map((t) => t.getBoundingClientRect());
    const turn = (t) => {
        const m = (t.getAttribute('transform') || '').match(/rotate\\((-?[\\d.]+)/);
        return m ? Math.abs(Number(m[1])) * Math.PI / 180 : 0;
    };
    let collisions = 0;
    for (let i = 1; i < texts.length; i++) {
        const [a, b] = [boxes[i - 1], boxes[i]];
        const angle = turn(texts[i]);
        const line = parseFloat(getComputedStyle(texts[i]).fontSize) * 1.1;
        if (angle > 0) {
            if ((b.right - a.right) * Math.sin(angle) < line) collisions++;
        } else if (a.right > b.left + 1) {
            collisions++;
        }
    }
    const fills = [...root.querySelectorAll('text')].map((t) => getComputedStyle(t).fill);
    // the figure's and the axes' backgrounds are transparent, not a white (or black) box
    const painted = [...root.querySelectorAll('g[id="patch_1"] path, g[id="patch_2"] path')]
        .map((p) => getComputedStyle(p).fill)
        .filter((f) => f !== 'none' && !/rgba\\(.*, 0\\)$/.test(f)).length;
    return {labels: texts.length, collisions, fills: [...new Set(fills)], painted,
            text: getComputedStyle(root).color};
}"""


def _open_all_tool_tables(nb) -> None:
    for index in (1, 2):
        output = nb.cell_output(index)
        details = output.locator("details", has_text="Tool calls")
        if details.count():
            details.first.evaluate("d => d.open = true")
        header = output.locator(".jupyter-widget-Collapse-header", has_text="Tool calls")
        if header.count() and not output.locator("[data-mira-tools]").first.is_visible():
            header.first.click()


def test_the_card_holds_its_layout_at_every_width_and_theme(open_notebook, lab_root: Path, tmp_path):
    write_notebook(lab_root / "layout.ipynb", CELLS)
    nb = open_notebook("layout.ipynb")
    nb.run_all()
    page = nb.page
    live_done = nb.cell_output(1).locator(".mira-operation-widget")
    card_done = nb.cell_output(2).locator(".mira-operation")
    live_stopped = nb.cell_output(3).locator(".mira-operation-widget")
    card_stopped = nb.cell_output(4).locator(".mira-operation")
    chart = nb.cell_output(5).locator(".mira-costs-chart")
    for part in (live_done, card_done, live_stopped, card_stopped, chart):
        part.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.mira-operation-widget [data-mira-task-status]').length === 8",
        timeout=30_000,
    )

    # tasks that never started are not failures; the stop reason is said once
    problems = []
    statuses = card_stopped.locator("[data-mira-task-status]").evaluate_all(
        "(tasks) => tasks.map((t) => t.dataset.miraTaskStatus)"
    )
    if statuses != ["completed", "stopped", "not_started", "not_started"]:
        problems.append(f"stopped tasks read {statuses}")
    for stopped in (live_stopped, card_stopped):
        text = stopped.inner_text()
        if text.count("not started") != 2 or "✗" in text:
            problems.append(f"tasks that never started are not shown as such: {text}")
        if text.count("stopped with the Stop button") != 1 or "cancelled by user" in text:
            problems.append(f"the stop reason is not said once: {text}")

    folder = tmp_path / "layout"
    for theme in THEMES:
        use_theme(page, theme)
        tone = "light" if theme.endswith("Light") else "dark"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 4200})  # the chart in view too
            page.wait_for_timeout(300)  # the notebook re-flows
            where = f"{width} px {tone}"
            # no jump at the end: the live widget's parts sit where the card's do
            for live, card in ((live_done, card_done), (live_stopped, card_stopped)):
                a, b = live.evaluate(PLACES_JS), card.evaluate(PLACES_JS)
                for key in a:
                    left, right = a[key], b[key]
                    pairs = zip(left, right, strict=True) if isinstance(left, list) else [(left, right)]
                    if isinstance(left, list) and len(left) != len(right):
                        problems.append(f"{where}: {key} live {left} card {right}")
                        continue
                    if any(abs(x - y) > SAME_PLACE_PX for x, y in pairs):
                        problems.append(f"{where}: {key} live {left} card {right}")
            _open_all_tool_tables(nb)
            for card in (live_done, card_done, live_stopped, card_stopped):
                found = card.evaluate(f"(root) => ({CHECKS_JS})([root, {MIN_CONTRAST}])")
                problems += [f"{where}: contrast {line}" for line in found["low"]]
                problems += [f"{where}: overlap {line}" for line in found["overlaps"]]
                problems += [f"{where}: model name broken: {name}" for name in found["broken"]]
            drawn = chart.evaluate(f"(root) => ({CHART_JS})([root, {MIN_CONTRAST}])")
            if drawn["labels"] != 3 or drawn["collisions"]:
                problems.append(f"{where}: chart x labels {drawn}")
            if drawn["fills"] != [drawn["text"]] or drawn["painted"]:
                problems.append(f"{where}: chart does not follow the theme {drawn}")
            shot = folder / f"layout_{width}_{tone}.png"
            nb.screenshot(page.locator(".jp-NotebookPanel").first, shot)
    use_theme(page, "JupyterLab Light")
    assert not problems, "\n".join(problems)
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        _publish(sorted(folder.glob("*.png")), REPO_ROOT / "docs" / "layout")


def _publish(shots: list[Path], target: Path) -> None:
    """Copy the screenshots to docs/, as 64-colour PNGs (a third of the size, same look)."""
    from PIL import Image

    target.mkdir(exist_ok=True)
    for shot in shots:
        with Image.open(shot) as image:
            image.convert("RGB").quantize(colors=64).save(target / shot.name, optimize=True)
