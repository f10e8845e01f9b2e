"""Backups as README.md's Production section tells operators to take them: sqlite3's
`VACUUM INTO` or `.backup` on the live database while vigild serves writes. The copy is consistent
(a second vigild starts on it and serves every write acknowledged before the backup began) and
the running vigild is not disturbed."""

import shutil
import sqlite3
import subprocess
import threading

import pytest

from vigiltest import VigilServer, node_body

SQLITE3 = shutil.which("sqlite3")


@pytest.mark.skipif(SQLITE3 is None, reason="sqlite3 command not installed")
@pytest.mark.sqlite_only(reason="backs up the SQLite file")
@pytest.mark.parametrize("how", ["vacuum-into", "dot-backup"])
def test_online_backup_while_writing_starts_a_second_vigild(make_server, tmp_path, how):
    srv = make_server()
    c = srv.client()
    before = [c.node()["name"] for _ in range(20)]

    acked, errors, stop = [], [], threading.Event()

    def writer():
        w = srv.client()
        while not stop.is_set():
            body = node_body()
            r = w.post("/nodes", json=body, check_spec=False)
            if r.status_code == 201:
                acked.append(body["name"])
            else:
                errors.append((r.status_code, r.text[:200]))

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        while len(acked) < 20:  # the backup runs among writes, not before them
            stop.wait(0.01)
        backup = tmp_path / "backup" / "vigil.db"
        backup.parent.mkdir()
        sql = f"VACUUM INTO '{backup}'" if how == "vacuum-into" else f".backup '{backup}'"
        p = subprocess.run([SQLITE3, str(srv.db), sql], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0 and not p.stderr, p
        during = len(acked)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    assert len(acked) > during or during > 20  # vigild kept writing around the backup

    check = subprocess.run([SQLITE3, str(backup), "PRAGMA integrity_check"],
                           capture_output=True, text=True, timeout=30)
    assert check.stdout.strip() == "ok", check

    copy = VigilServer(backup.parent, admin_token=srv.admin_token, name="restored")
    copy.start()
    try:
        cc = copy.client()
        names = set()
        href = "/nodes?limit=500"
        while href:
            doc = cc.get(href).json()
            names |= {n["name"] for n in doc["_embedded"]["nodes"]}
            href = doc["_links"].get("next", {}).get("href")
        for n in before:
            assert n in names, f"{n}, written before the backup, is missing from it"
        # Writes acknowledged before sqlite3 started are all there; none is half there.
        assert set(acked[:20]) <= names
        assert cc.node()["name"]  # and the copy takes writes of its own
    finally:
        copy.stop()
    # The original is unharmed and still serving.
    assert c.get(f"/nodes/{acked[-1]}").status_code == 200


@pytest.mark.sqlite_only(reason="a SQLite file of a newer schema")
def test_database_of_a_newer_schema_is_refused(tmp_path):
    """Rolling back an upgrade is restoring the backup: an older vigild on a migrated database
    would misread it, so it refuses to start."""
    srv = VigilServer(tmp_path / "srv", name="newer")
    srv.start()
    srv.stop()
    db = sqlite3.connect(srv.db)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    db.execute(f"PRAGMA user_version = {version + 1}")
    db.commit()
    db.close()
    p = subprocess.run([str(srv.cmd[0]), "--listen", "127.0.0.1:1", "--db", str(srv.db)],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1, p
    assert f"schema {version + 1} is newer" in p.stderr, p.stderr
