"""New releases for installed PCs: read a feed, download, verify, hand over to the installer.

The rules (what is newer, when a check is due, the feed's format) are pure and live in
``launcher.model.updates``; this package does the reading and the running, without Qt, so the
CLI (``mlflow-launcher update``) and the tray share it.
"""
