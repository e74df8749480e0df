"""The AppUserModelID: one constant for the tray and the installer's Start-menu shortcut."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.app import appid

REPO = Path(__file__).resolve().parents[2]


def test_the_id_follows_microsofts_rules() -> None:
    assert re.fullmatch(r"[A-Za-z0-9]+(\.[A-Za-z0-9]+){1,3}", appid.APP_USER_MODEL_ID)
    assert len(appid.APP_USER_MODEL_ID) <= 128


@pytest.mark.skipif(sys.platform == "win32", reason="elsewhere the call is a no-op")
def test_setting_it_is_a_no_op_off_windows() -> None:
    assert appid.set_for_this_process() is False


def test_the_installer_gets_the_same_id_from_the_build_script() -> None:
    """build/windows.sh reads appid.py and passes it to makensis; the script uses that define."""
    out = subprocess.run(
        ["bash", "-c", f"source <(sed -n '/^app_user_model_id()/p' {REPO}/build/windows.sh)"
         f" && REPO={REPO} app_user_model_id"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == appid.APP_USER_MODEL_ID
    nsi = (REPO / "build" / "windows" / "installer.nsi").read_text("utf-8")
    assert '"${APP_USER_MODEL_ID}"' in nsi and "PKEY_AppUserModel_ID" in nsi
    assert appid.APP_USER_MODEL_ID not in nsi  # passed in, never copied
