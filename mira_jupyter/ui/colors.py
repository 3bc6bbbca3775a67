"""Text colours that keep 4.5:1 contrast on JupyterLab's light and dark themes.

A fixed colour cannot: GitHub's amber #9a6700 is 4.9:1 on white but 3.6:1 on the dark
theme's #111. So each colour is mixed with the theme's own text colour
(``--jp-content-font-color1``): towards black in the light theme, towards white in the dark
one, which moves it away from the background in both. Outside JupyterLab (VS Code, an
nbconvert page) the variable is missing and the colour is mixed with the surrounding text's
own colour instead (``currentColor``), to the same effect. The plain colour comes first in
the style, as the fallback where ``color-mix`` is missing (GitHub drops styles altogether, so
there the text is simply the page's colour).
"""

from __future__ import annotations

ERROR = "#cf222e"
WARNING = "#9a6700"
OK = "#1a7f37"
ACTIVE = "#1f6feb"
# how much of the colour is kept; the rest is the theme's text colour
_KEEP = "65%"


def tone(color: str) -> str:
    """An inline ``color:`` declaration for `color` that follows the JupyterLab theme."""
    if color in ("inherit", ""):
        return "color:inherit"
    return (
        f"color:{color};"
        f"color:color-mix(in srgb,{color} {_KEEP},var(--jp-content-font-color1,currentColor))"
    )
