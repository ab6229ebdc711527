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


def test_status_lists_sources_and_exits_zero(built_workspace):
    """`diagnostic status` says what is held for each source, including those never obtained, and exits 0."""
    proc = run_cli(built_workspace, "status")
    out = proc.stdout
    for sid in ("cog", "contours", "apl_mg", "rpps", "ameli_effectifs"):
        assert sid in out
    assert "2026" in out and "4/4" in out  # COG 2026, every file held
    assert "absent" in out  # sources the mirror does not have
