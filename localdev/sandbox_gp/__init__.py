"""Sandbox GP: a SmartConnect ``RunMapDataTable`` double writing into SQLite GP company tables."""
