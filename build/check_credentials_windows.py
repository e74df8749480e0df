"""The installer check's credential step (issue 21): passwords in the Windows Credential Manager.

Wine implements CredWriteW/CredReadW/CredDeleteW, which keyring's WinVaultKeyring calls, and
keeps each credential under ``HKCU\\Software\\Wine\\Credential Manager`` with its password
encrypted. With a PostgreSQL role made for this step (CI's server: LAUNCHER_TEST_POSTGRES), the
installed app:

1. ``add NAME postgresql://role:PASSWORD@...``: no fallback message; the credential store holds
   an entry for the URL's key; config.json, and every file under the launcher's folders (config,
   data, logs) and the prefix's registry files, lack the password;
2. ``doctor NAME`` connects with the password taken back from the store (it reads the empty
   database's tables);
3. ``password NAME --forget`` removes the entry, and ``doctor`` is then refused by the server;
4. the same for a config written before the credential store, with the password in its URL: the
   first start (``list``) moves it to the store.

Imported by build/check_installer.py (``credential_checks``).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from check_windows import CLI, Checks, Session, read_user_reg

CRED_KEY = "software\\wine\\credential manager"
CONNECTED = "holds no MLflow tables"  # doctor read the (empty) database's tables: it logged in
REFUSED = ("no password supplied", "password authentication failed")


@contextmanager
def scratch_role(admin_url: str) -> Iterator[tuple[str, str]]:
    """A PostgreSQL role with a random password and an empty database of its own."""
    import psycopg

    name = f"wincred_{secrets.token_hex(4)}"
    password = f"Cred-{secrets.token_hex(12)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        conn.execute(f"CREATE DATABASE {name} OWNER {name}")
    try:
        yield name, password
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {name}")


def stored_usernames(prefix: Path) -> list[str]:
    """The user names of every credential Wine's Credential Manager holds (once saved)."""
    return [
        values.get("UserName", "")
        for key, values in read_user_reg(prefix).items()
        if key.startswith(CRED_KEY + "\\")
    ]


def files_holding(roots: list[Path], secret: str) -> list[Path]:
    """Every file under ``roots`` whose bytes hold ``secret`` (UTF-8 or UTF-16)."""
    needles = (secret.encode("utf-8"), secret.encode("utf-16-le"))
    found = []
    for root in roots:
        for path in root.rglob("*") if root.exists() else ():
            if path.is_file():
                data = path.read_bytes()
                if any(n in data for n in needles):
                    found.append(path)
    return found


def credential_checks(
    session: Session, prefix: Path, config: Path, folders: list[Path], checks: Checks
) -> None:
    """Steps 1-4 above. ``config``: the installed app's config.json; ``folders``: the
    launcher's own folders (config, data, logs), Unix paths in ``prefix``."""
    admin = os.environ.get("LAUNCHER_TEST_POSTGRES")
    if not checks.report(bool(admin), "credentials: a PostgreSQL server (LAUNCHER_TEST_POSTGRES)"):
        return
    assert admin is not None
    host = admin.split("@", 1)[1].split("/", 1)[0]
    registry = [prefix / "user.reg", prefix / "system.reg", prefix / "userdef.reg"]
    with scratch_role(admin) as (role, password):
        bare = f"postgresql://{role}@{host}/{role}"
        url = f"postgresql://{role}:{password}@{host}/{role}"

        def wait_saved() -> None:  # Wine writes the registry to user.reg when its server exits
            session.wine_idle(60)

        def held(tag: str, name: str) -> None:
            wait_saved()
            users = stored_usernames(prefix)
            checks.report(bare in users, f"{tag}: the Credential Manager holds {bare} ({users})")
            text = config.read_text("utf-8")
            checks.report(
                password not in text and bare in text,
                f"{tag}: config.json has {name}'s URL without its password",
            )
            leaks = files_holding([*folders, *registry], password)
            checks.report(
                not leaks, f"{tag}: no file of the launcher or the prefix holds it {leaks}"
            )
            out = session.run(CLI, "doctor", name, timeout=180)
            if not checks.report(CONNECTED in out, f"{tag}: doctor logged in with it"):
                print(out[-2000:])

        def forgotten(tag: str, name: str) -> None:
            out = session.run(CLI, "password", name, "--forget")
            checks.report("Forgot the password" in out, f"{tag}: `password {name} --forget`")
            wait_saved()
            users = stored_usernames(prefix)
            checks.report(bare not in users, f"{tag}: the Credential Manager no longer holds it")
            out = session.run(CLI, "doctor", name, timeout=180)
            checks.report(
                any(r in out for r in REFUSED) and CONNECTED not in out,
                f"{tag}: doctor is then refused by the database",
            )

        out = session.run(CLI, "add", "teamdb", url)
        checks.report(
            f"Added 'teamdb': {bare}" in out and "could not be used" not in out,
            f"credentials: `add teamdb postgresql://{role}:***@...` ({out.strip()[-200:]})",
        )
        held("credentials", "teamdb")
        forgotten("credentials", "teamdb")
        session.run(CLI, "remove", "teamdb")

        # A config from before the credential store: the password in the URL, moved on start.
        wait_saved()
        data = json.loads(config.read_text("utf-8"))
        data["projects"].append({**data["projects"][0], "name": "oldteam", "store": url})
        config.write_text(json.dumps(data, indent=2), "utf-8")
        out = session.run(CLI, "list")
        checks.report("oldteam" in out and password not in out, "old config: `list` shows it")
        held("old config", "oldteam")
        forgotten("old config", "oldteam")
        session.run(CLI, "remove", "oldteam")
