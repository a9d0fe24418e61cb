"""Scrapy commands of the project (COMMANDS_MODULE): `scrapy crawl` with the harvest's exit status."""
