"""Routers of the web pages (each module one area)."""
