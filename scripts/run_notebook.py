#!/usr/bin/env python3
"""Executes a notebook against a bonemet run directory with nbclient (`just notebooks`).

Usage: scripts/run_notebook.py NOTEBOOK RUN_DIR [EXECUTED_COPY]
The notebook reads BONEMET_RUN_DIR; the executed copy (default target/notebooks/NAME) keeps
its outputs. Exits non-zero when a cell fails. Requirements: notebooks/requirements.txt.
"""
import os, sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

notebook, run_dir = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
root = Path(__file__).resolve().parent.parent
executed = Path(sys.argv[3]) if len(sys.argv) > 3 else root / "target" / "notebooks" / notebook.name
os.environ["BONEMET_RUN_DIR"] = str(run_dir)
nb = nbformat.read(notebook, as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
executed.parent.mkdir(parents=True, exist_ok=True)
nbformat.write(nb, executed)
images = sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
print(f"{notebook} ran against {run_dir}: {images} charts; executed copy in {executed}")
