"""The settings dialog and the dialogs it opens: edit a project, add from a folder, move a store.

``settings_dialog`` is the list; ``project_editor`` edits one project with its fields
(``python_picker``, ``store_browse``) and its Check (``doctor_check``); ``discover_dialog`` with
``found_stores`` adds the stores under a folder; ``move_dialog`` ("Move to…") moves a store
to SQLite or a team database (``move_target``: its database fields).
"""
