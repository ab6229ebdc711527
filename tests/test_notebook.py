"""The exploration notebook runs top to bottom against a built workspace."""

import nbformat
from nbclient import NotebookClient

from conftest import PROJECT


def test_notebook_executes(built_workspace, mirror_url, monkeypatch):
    monkeypatch.setenv("DIAGNOSTIC_HOME", str(built_workspace))
    monkeypatch.setenv("DIAGNOSTIC_MIRROR", mirror_url)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(PROJECT / "notebooks" / "explorer_diagnostic.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(built_workspace)}}).execute()
    outputs = "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "")
        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert "CPTS Centre Saône-et-Loire - 34 communes" in outputs
    assert "90346" in outputs
