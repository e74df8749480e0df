"""The Python environments that serve projects, and the command and environment each server gets."""
