"""cutout: privacy-first background removal (engine, domain and data access)."""

__version__ = "0.1.0"
