"""archive-harvester: harvests digital archives of historical documents into object storage."""

__version__ = "0.1.0"
