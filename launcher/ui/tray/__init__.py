"""The tray: the icon, its menu (and the window that stands in for it), what the menu lists.

Everything a user sees without opening a dialog: ``tray_app`` composes it, ``tray_icon`` and
``fallback`` show it, ``menu``/``menu_groups``/``project_finder``/``experiments_menu`` build the
menu from live state, ``team`` and ``fast_view`` add what catalogs and fast views contribute,
and ``instance`` keeps one tray per user.
"""
