"""Tray tests run offscreen (the Xvfb end-to-end test gives its child its own display)."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
