"""Without a mirror and without network, the run stops with a message that says so."""

from conftest import new_workspace, run_cli


def test_no_network_no_mirror(tmp_path, monkeypatch):
    ws = new_workspace(tmp_path / "ws")
    # Route every request to a closed loopback port: what a machine with no network sees.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    proc = run_cli(ws, "run", "cpts-centre-saone-et-loire", check=False)
    assert proc.returncode == 2
    assert "MIRROR" in proc.stderr and "unpkg.com" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list((ws / "data" / "raw").rglob("*.part"))
