"""Spiders, one per archive. A spider decides what to fetch next; extraction lives in harvester.sites."""
