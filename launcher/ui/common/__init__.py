"""Small pieces every window of the UI uses: icons, notes under fields, message dialogs, widget
helpers, slow calls off the GUI thread, and the GUI-thread garbage collector."""
