#!/usr/bin/env bash
# Install mira_jupyter and run the quickstart notebook headless, offline, against the scripted
# model. Leaves out/01_quickstart.ipynb and out/01_quickstart.html to open.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
mkdir -p out
.venv/bin/python -m jupyter nbconvert --to notebook --execute notebooks/01_quickstart.ipynb \
  --output-dir out --output 01_quickstart.ipynb --ExecutePreprocessor.timeout=300
.venv/bin/python -m jupyter nbconvert --to html out/01_quickstart.ipynb --output-dir out
echo "Done: out/01_quickstart.ipynb and out/01_quickstart.html"
echo "Open it in JupyterLab with: .venv/bin/jupyter lab out/01_quickstart.ipynb"
