"""What makes a click instant: warm spare servers (MLflow imported, no store opened) kept in a
pool and handed to the project clicked, and the tray's own part of a click loaded ahead."""
