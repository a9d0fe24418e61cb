"""Raw captures of fetched pages and files as WARC 1.1 (warcio), under raw/<site>/.

    exchange.py   Exchange: one fetch as plain values (request line, headers, body, status)
    records.py    warcio request / response / revisit / warcinfo records of an Exchange
    rolling.py    RollingWarcFile: gzip-per-record WARC files in a local folder, rolled by size
    payloads.py   PayloadIndex: payload digests already captured (state/<site>/payloads/)
    extension.py  WarcCapture: the Scrapy extension (response_downloaded -> writer thread)
"""
