#!/usr/bin/env bash
# Install mira_jupyter and run the quickstart notebook headless, offline, against the scripted
# model. Leaves out/01_quickstart.ipynb and out/01_quickstart.html to open.
set -euo pipefail
cd "$(dirname "$0")/.."
# test: nbconvert and ipykernel to run the notebook; lab: the JupyterLab printed at the end
bash scripts/setup.sh test,lab
mkdir -p out
# IPC transport: a local kernel needs no TCP ports (and ipykernel then has no plaintext-TCP
# warning to print into the demo)
.venv/bin/python -m jupyter nbconvert --to notebook --execute notebooks/01_quickstart.ipynb \
  --output-dir out --output 01_quickstart.ipynb --ExecutePreprocessor.timeout=300 \
  --KernelManager.transport=ipc
.venv/bin/python -m jupyter nbconvert --to html out/01_quickstart.ipynb --output-dir out
.venv/bin/jupyter lab --version >/dev/null  # what the command below needs is installed
echo "Done: out/01_quickstart.ipynb and out/01_quickstart.html"
echo "Open it in JupyterLab with: .venv/bin/jupyter lab out/01_quickstart.ipynb"
