"""A throwaway X display with a system tray (Debian's Xvfb and trayer), for real-tray runs.

Used by the end-to-end test, bench/tray_startup.py and the README screenshots. Nothing here
is needed on Windows, where the smoke test runs the real desktop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from types import TracebackType

TRAYER = [
    "trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32",
    "--transparent", "false", "--tint", "0x2b2b2b", "--SetDockType", "true",
]  # fmt: skip


def available(tray: bool = True) -> str | None:
    """None when an X session can be made here, else what is missing (for skip messages)."""
    missing = [tool for tool in ("Xvfb", "xwininfo") if shutil.which(tool) is None]
    if tray and shutil.which("trayer") is None:
        missing.append("trayer")
    if os.name == "nt" or missing:
        return f"needs {', '.join(missing) or 'Linux'} (apt-get install xvfb x11-utils trayer)"
    return None


class XSession:
    """``with XSession() as x:`` gives ``x.env`` with DISPLAY set and, if asked, a tray host."""

    def __init__(self, *, tray: bool = True, size: str = "1280x800") -> None:
        self.tray = tray
        self.size = size
        self.display = ""
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("QT_QPA_PLATFORM", None)
        env.pop("WAYLAND_DISPLAY", None)
        env["DISPLAY"] = self.display
        return env

    def __enter__(self) -> XSession:
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{self.size}x24",
             "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._procs.append(xvfb)
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.__exit__(None, None, None)
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        if self.tray:
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            self._procs.append(subprocess.Popen(TRAYER, env=self.env, **quiet))  # type: ignore[call-overload]
            self._wait_for_window('("panel" "trayer")')
        return self

    def _wait_for_window(self, needle: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(["xwininfo", "-root", "-tree"], env=self.env,
                                 capture_output=True, text=True, check=False).stdout  # fmt: skip
            if needle in out:
                time.sleep(0.2)  # trayer owns the tray selection once its panel is up
                return
            time.sleep(0.05)
        raise RuntimeError("the tray host did not come up")

    def screenshot(self, path: str, *, crop: str | None = None) -> None:
        """The whole screen (ImageMagick's ``import``), optionally cropped (WxH+X+Y)."""
        cmd = ["import", "-window", "root"]
        if crop:
            cmd += ["-crop", crop, "+repage"]
        subprocess.run([*cmd, path], env=self.env, check=True, timeout=30)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for proc in reversed(self._procs):
            with contextlib.suppress(OSError):
                proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()
