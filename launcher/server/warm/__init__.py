"""What makes a click instant and light: hosts, server processes with MLflow imported that
serve every project of a Python environment each (one kept warm before any click), and the
tray's own part of a click loaded ahead."""
