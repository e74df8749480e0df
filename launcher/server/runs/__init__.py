"""The runs of the projects a user works with, read straight from their stores (read-only)."""
