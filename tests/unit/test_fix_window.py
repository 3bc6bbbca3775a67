"""%mira fix on long cells (issue 11 L5): the cell is cut to a window around the line the
traceback names, with markers for what was left out (it was cut from the top, so a failing
line near the end of a long cell never reached the model); a long traceback keeps both ends."""

from __future__ import annotations

from mira_jupyter.llm.tokens import count_tokens
from mira_jupyter.notebook.fix_window import cap_both_ends, cell_window, failing_line

IPYTHON8 = """---------------------------------------------------------------------------
NameError                                 Traceback (most recent call last)
Cell In[12], line 7001
   6999 x = 1
-> 7001 helper()

Cell In[12], line 3, in helper()
      2 def helper():
----> 3     return missing
NameError: name 'missing' is not defined"""
IPYTHON7 = """NameError                                 Traceback (most recent call last)
<ipython-input-4-0f1e2d3c4b5a> in <module>
      1 a = 1
----> 2 b = nothere
NameError: name 'nothere' is not defined"""


def test_the_failing_line_is_the_innermost_frame_in_that_cell():
    assert failing_line(IPYTHON8, 12) == 3
    assert failing_line(IPYTHON8, 1) is None  # another cell's frames are not this cell's
    assert failing_line(IPYTHON7, 4) == 2
    assert failing_line("ZeroDivisionError: division by zero", 4) is None


def test_a_long_cell_is_cut_around_the_failing_line_with_markers():
    lines = [f"row_{i:05d} = compute({i}, scale=0.5)" for i in range(1, 15_001)]
    lines[13_999] = "broken = row_00001 / zero  # line 14000"
    window = cell_window("\n".join(lines), 14_000, 400)
    assert window.partial and "broken = row_00001 / zero" in window.text
    kept = window.text.split("\n")
    first, last = window.shown
    assert kept[0] == f"[… lines 1-{first - 1:,} of 15,000 left out]"
    assert kept[-1] == f"[… lines {last + 1:,}-15,000 of 15,000 left out]"
    assert kept[1:-1] == lines[first - 1 : last]  # the window is the cell's lines as written
    assert first < 14_000 < last and (14_000 - first) > (last - 14_000)  # more context above
    assert count_tokens("\n".join(kept[1:-1])) <= 400
    assert window.label(14_000, 15_000) == f"lines {first:,}-{last:,} of 15,000, around line 14,000 where it failed"


def test_windows_at_the_edges_of_the_cell_and_without_a_line():
    lines = [f"item_{i} = {i} * factor" for i in range(3_000)]
    source = "\n".join(lines)
    top = cell_window(source, 1, 200)
    assert top.text.startswith("item_0 = 0 * factor\n") and "left out]" in top.text.split("\n")[-1]
    assert top.shown[0] == 1
    end = cell_window(source, 3_000, 200)
    assert end.text.endswith("item_2999 = 2999 * factor") and end.shown[1] == 3_000
    assert end.text.startswith("[… lines 1-")
    unknown = cell_window(source, None, 200)  # no line to centre on: the top, as before
    assert unknown.partial and unknown.text.startswith("item_0 = 0") and unknown.shown is None
    assert cell_window(source, 99_999, 200).shown is None  # a line past the end: same
    short = cell_window("x = 1\ny = x / 0", 2, 200)
    assert (short.text, short.partial, short.shown) == ("x = 1\ny = x / 0", False, None)


def test_a_huge_failing_line_is_capped_itself():
    blob = "data = '" + "q" * 400_000 + "'"
    window = cell_window("import os\n" + blob + "\nprint(data)", 2, 300)
    assert window.partial and window.text.count("q") < 5_000 and "data = 'qqq" in window.text


def test_a_long_traceback_keeps_its_start_and_the_exception_at_its_end():
    frames = "\n".join(f"  File 'lib/deep.py', line {n}, in level_{n}" for n in range(5_000))
    text = f"Traceback (most recent call last)\nCell In[3], line 9\n{frames}\nValueError: the real reason"
    capped = cap_both_ends(text, 300)
    assert capped.startswith("Traceback (most recent call last)\nCell In[3], line 9")
    assert capped.endswith("ValueError: the real reason") and "lines left out]" in capped
    assert count_tokens(capped) < 340
    assert cap_both_ends("short\ntrace", 300) == "short\ntrace"
