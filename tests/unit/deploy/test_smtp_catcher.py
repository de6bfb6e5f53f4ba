"""Saving caught mail: atomic, unique, sortable file names."""

from __future__ import annotations

from pathlib import Path

from deploy.local.smtp_catcher import save_message


def test_saved_messages_sort_in_arrival_order_and_leave_no_temporaries(tmp_path: Path) -> None:
    paths = [
        save_message(tmp_path, f"Subject: {n}\r\n\r\nbody".encode(), sequence=n) for n in range(50)
    ]
    assert sorted(tmp_path.iterdir()) == sorted(paths) == paths
    assert all(path.suffix == ".eml" for path in paths)
    assert paths[7].read_bytes() == b"Subject: 7\r\n\r\nbody"


def test_the_mail_dir_is_created(tmp_path: Path) -> None:
    target = tmp_path / "var" / "mail"
    saved = save_message(target, b"x", sequence=1)
    assert saved.parent == target and saved.read_bytes() == b"x"
