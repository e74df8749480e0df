"""Runs watched: what is news about them (events), and whose runs are watched."""
