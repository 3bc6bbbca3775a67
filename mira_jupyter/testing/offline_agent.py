"""``mt.offline()``: the offline demo agent for both roles, in one line of a notebook."""

from __future__ import annotations

from typing import Any

ORCHESTRATOR = "scripted:gpt-5"
EXECUTOR = "scripted:deepseek-chat"


def offline(shell: Any = None) -> Any:
    """Run this kernel's cells on the scripted demo agent: no keys, no network, nothing billed.

    Installs the demo agent (it plans, delegates and edits from the real tool results) and
    sets ``Mira.orchestrator_model`` and ``Mira.executor_model`` to the scripted models, as
    ``%config`` would. Returns the installed Script (its ``requests`` show what was sent).
    """
    from .agent_demo import agent_demo_script
    from .transport import use_script

    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    magics = getattr(shell, "_mira_magics", None)
    if magics is None:
        raise RuntimeError("load the extension first: %load_ext mira_jupyter")
    script = use_script(agent_demo_script())
    magics.mira_config.orchestrator_model = ORCHESTRATOR
    magics.mira_config.executor_model = EXECUTOR
    print(f"mira: offline demo agent ({ORCHESTRATOR} orchestrates, {EXECUTOR} executes)")
    return script
