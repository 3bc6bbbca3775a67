#!/usr/bin/env bash
# Install mira_jupyter and run the quickstart notebook headless, offline, against the scripted
# model. Leaves out/01_quickstart.ipynb and out/01_quickstart.html to open.
set -euo pipefail
cd "$(dirname "$0")/.."
# test: nbconvert and ipykernel to run the notebook; lab: the JupyterLab printed at the end
bash scripts/setup.sh test,lab
mkdir -p out
# IPC transport in a private directory (scripts/kernel_ipc.sh says why)
read -r -a kernel <<<"$(bash scripts/kernel_ipc.sh)"
trap 'rm -rf "$(dirname "${kernel[1]#--KernelManager.ip=}")"' EXIT
.venv/bin/python -m jupyter nbconvert --to notebook --execute notebooks/01_quickstart.ipynb \
  --output-dir out --output 01_quickstart.ipynb --ExecutePreprocessor.timeout=300 "${kernel[@]}"
.venv/bin/python -m jupyter nbconvert --to html out/01_quickstart.ipynb --output-dir out
.venv/bin/jupyter lab --version >/dev/null  # what the command below needs is installed
echo "Done: out/01_quickstart.ipynb and out/01_quickstart.html"
echo "Open it in JupyterLab with: .venv/bin/jupyter lab out/01_quickstart.ipynb"
