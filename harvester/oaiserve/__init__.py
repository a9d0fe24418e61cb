"""The store served as an OAI-PMH 2.0 repository (`harvester serve oai`).

    app.py        the WSGI application: /oai (the six verbs, the protocol's errors), /metrics
    index.py      the OAI index in the store (index/oai/...) and the provider's reader of it
    build.py      the index kept up to date by the harvest, or built from the store
    extension.py  the Scrapy extension that updates the index when a run finishes
    tokens.py     stateless, signed resumption tokens
    formats.py    oai_dc (the README's Dublin Core mapping) and raw OAI metadata
    config.py     HARVESTER_OAI_* settings; metrics.py: Prometheus; server.py: waitress
"""
