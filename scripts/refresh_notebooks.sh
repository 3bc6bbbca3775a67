#!/usr/bin/env bash
# Re-execute the example notebooks offline (text view, no API keys) to refresh their saved
# outputs, then merge stream chunks as Jupyter shows them and drop per-run metadata
# (execution timestamps, closed widgets' state).
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a kernel <<<"$(bash scripts/kernel_ipc.sh)"
trap 'rm -rf "$(dirname "${kernel[1]#--KernelManager.ip=}")"' EXIT
env -u OPENAI_API_KEY -u DEEPSEEK_API_KEY MIRA_VIEW=text \
  .venv/bin/jupyter nbconvert --to notebook --execute --inplace notebooks/0*.ipynb "${kernel[@]}"
.venv/bin/python - <<'PY'
import json, pathlib
for path in sorted(pathlib.Path("notebooks").glob("0*.ipynb")):
    nb = json.loads(path.read_text())
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
        merged = []
        for out in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if out["output_type"] == "stream" and last and last["output_type"] == "stream" and last["name"] == out["name"]:
                text = "".join(last["text"]) + "".join(out["text"])
                last["text"] = text.splitlines(keepends=True)
            else:
                merged.append(out)
        if "outputs" in cell:
            cell["outputs"] = merged
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
PY
