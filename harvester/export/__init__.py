"""Exports of a store's records for downstream archives (`harvester export`).

    order.py    record ids in byte order, streamed from the store's key order
    since.py    --since RUN_ID_OR_DATE: the record ids the changes feeds name
    source.py   the records to export, streamed; the archive's name for a site
    jsonl.py    JSON Lines, one record per line
    bag.py      a BagIt 1.0 bag of records and files (sha256 + sha512)
    dc.py       Dublin Core (oai_dc) XML, one file per record
"""
