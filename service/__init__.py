"""Entente: the export-licensing dialogue service."""

__version__ = "0.1.0"
