"""A throwaway Dovecot IMAP server on 127.0.0.1, for the bounce mailbox tests.

Debian's ``dovecot-imapd`` (``.ci/run`` installs it), started with a config
of our own in a temporary folder: plain login on a free loopback port, one
static password, mail kept under the folder; stopped at the end. As root it
runs its mail processes as ``nobody``, otherwise as the current user.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .smtp_server import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "imap-test-secret"


@contextlib.contextmanager
def dovecot() -> Iterator[int]:
    if not Path(DOVECOT).is_file():
        pytest.skip("the IMAP tests need Debian's dovecot-imapd (.ci/run installs it)")
    root = Path(tempfile.mkdtemp(prefix="dv"))  # short: its sockets live below it
    if os.geteuid() == 0:
        user, group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
        root.chmod(0o777)
    else:
        entry = pwd.getpwuid(os.geteuid())
        user, group = entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
        (root / sub).chmod(0o777)
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:{root}/home/%u/Maildir
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
""",
        encoding="utf-8",
    )
    # output to a file, not a pipe: the daemon it forks would hold a pipe open for good
    with (root / "start.log").open("w") as out:
        started = subprocess.run(
            [DOVECOT, "-c", str(conf)], stdout=out, stderr=out, start_new_session=True
        )
    if started.returncode != 0:
        why = (root / "start.log").read_text(errors="replace").strip()[:300]
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"dovecot did not start: {why}")
    try:
        deadline = time.monotonic() + 10
        while True:  # bounded: ready when it answers a login
            try:
                c = imaplib.IMAP4("127.0.0.1", port, timeout=2)
                c.login("probe", PASSWORD)
                c.logout()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        pid_file = root / "run" / "master.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                pid = int(pid_file.read_text().strip())
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    try:
                        os.kill(pid, 0)
                    except ProcessLookupError:
                        break
                    time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)


def append(port: int, user: str, data: bytes, folder: str = "INBOX") -> None:
    c = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    try:
        c.login(user, PASSWORD)
        status, _ = c.append(folder, "", imaplib.Time2Internaldate(time.time()), data)
        assert status == "OK"
    finally:
        c.logout()


def flags(port: int, user: str, folder: str = "INBOX") -> list[bytes]:
    c = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    try:
        c.login(user, PASSWORD)
        c.select(folder)
        _, data = c.uid("FETCH", "1:*", "(FLAGS)")
        return [d for d in data if isinstance(d, bytes)]
    finally:
        c.logout()
