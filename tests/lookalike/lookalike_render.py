"""HTML of the look-alike Wilson site: document pages, listing pages, chrome, the challenge.

Drawn from the site notes (document page in page order, the live striped results table, the
settings JSON, Cloudflare e-mail obfuscation, the bot manager's interstitial) and, where the
notes say nothing, from how a Drupal 9/10 theme draws things: a mega-menu with teasers,
sidebar and footer blocks, views attachments, a pager of its own.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from lookalike_corpus import RIGHTS_1, RIGHTS_2_HEAD, RIGHTS_EMAIL, Doc, Tab

LISTING_MARKUPS = ("table", "grid", "dl", "cards")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def cf_encode(email: str, key: int = 0x5A) -> str:
    """Cloudflare's data-cfemail: the key byte, then every byte of the address XOR the key."""
    return f"{key:02x}" + "".join(f"{ord(c) ^ key:02x}" for c in email)


# --- chrome ------------------------------------------------------------------------------------
def head(title: str, canonical: str, nid: int | None) -> str:
    settings = {"path": {"baseUrl": "/", "scriptPath": None, "pathPrefix": "",
                         "currentPath": f"node/{nid}" if nid else "search",
                         "currentPathIsAdmin": False, "isFront": False, "currentLanguage": "en"},
                "pluralDelimiter": "\u0003", "ajaxTrustedUrl": {"/search": True},
                "gtm": {"tagId": "GTM-XXXX"}, "user": {"uid": 0, "permissionsHash": "ab12"}}
    settings_json = json.dumps(settings, separators=(",", ":")).replace("/", "\\/")
    css = "".join(f'<link rel="stylesheet" media="all" href="/themes/custom/da/css/{n}.css?s4k2x" />\n'
                  for n in ("base", "layout", "components", "mega-menu", "print"))
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr" prefix="og: https://ogp.me/ns#">
<head>
<meta charset="utf-8" />
<link rel="canonical" href="{esc(canonical)}" />
<meta property="og:title" content="{esc(title)}" />
<meta name="Generator" content="Drupal 10 (https://www.drupal.org)" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<title>{esc(title)} | Wilson Center Digital Archive</title>
{css}<script type="application/json" data-drupal-selector="drupal-settings-json">{settings_json}</script>
</head>
"""


def mega_menu(old: Sequence[Doc]) -> str:
    """A header with a mega-menu (~150 links), a news teaser with a date, topic pills."""
    cols = []
    for c, name in enumerate(["Collections", "Topics", "Regions", "Programs", "About"]):
        items = "".join(f'<li class="menu-item"><a href="/{name.lower()}/{name.lower()}-{n}">'
                        f'{name} item {n}</a></li>' for n in range(28))
        cols.append(f'<li class="menu-item menu-item--expanded"><span class="title">{name}</span>'
                    f'<ul class="menu mega-menu__col mega-menu__col--{c}">{items}</ul></li>')
    teasers = "".join(
        f'<div class="mega-menu__teaser"><span class="date">November {3 + n}, 2026</span>'
        f'<a href="{esc(d.path)}">{esc(d.title)}</a></div>' for n, d in enumerate(old[:2]))
    pills = "".join(f'<a class="pill" href="/topics/t{n}"><span class="name">Topic {n}</span></a>'
                    for n in range(6))
    return f"""<body class="path-node page-node-type-document">
<a href="#main-content" class="visually-hidden focusable skip-link">Skip to content</a>
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-XXXX" height="0" width="0">
</iframe></noscript>
<div class="dialog-off-canvas-main-canvas">
<header role="banner" class="site-header">
<div class="site-branding"><a href="/" rel="home" class="title"></a>
<span class="site-name">Wilson Center Digital Archive</span></div>
<nav role="navigation" aria-label="Main navigation" class="mega-menu">
<ul class="menu">{''.join(cols)}</ul>
<div class="mega-menu__featured"><h2>From the blog</h2>{teasers}</div>
<div class="mega-menu__topics"><h2>Popular topics</h2>{pills}</div>
</nav>
<form class="search-block-form" action="/search" method="get">
<input type="search" name="search_api_fulltext" placeholder="Search the archive" /></form>
</header>
"""


def footer(old: Sequence[Doc]) -> str:
    recent = "".join(f'<li><a href="{esc(d.path)}">{esc(d.title)}</a></li>' for d in old[2:5])
    return f"""<footer role="contentinfo" class="site-footer">
<div class="region region-footer">
<div class="block block-recently-viewed"><h2>Recently viewed</h2><ul>{recent}</ul></div>
<div class="block block-about"><div class="text-block"><p>The Digital Archive contains
once-secret documents from governments all across the globe, uncovering new sources on the
history of international relations.</p></div></div>
<div class="block block-newsletter"><h2>Sign up for our newsletter</h2>
<form><input type="email" name="mail" placeholder="Email address" /><button>Subscribe</button></form></div>
<p class="copyright">&copy; 2026 Wilson Center. All rights reserved.</p>
<ul class="share-links"><li><a href="https://twitter.com/share">Share on X</a></li>
<li><a href="https://www.facebook.com/sharer">Share on Facebook</a></li></ul>
</div></footer>
<div id="sliding-popup" class="eu-cookie-compliance-banner" role="alertdialog">
<div class="eu-cookie-compliance-message"><h2>We use cookies on this site to enhance your user experience</h2>
<p>By clicking the Accept button, you agree to us doing so.</p></div>
<button type="button" class="agree-button">Accept</button></div>
</div>
<script src="/core/assets/vendor/jquery/jquery.min.js?v=3.7.1"></script>
</body></html>
"""


# --- document page -------------------------------------------------------------------------------
def _blocks_html(tab: Tab) -> str:
    out = []
    for kind, value in tab.blocks:
        if kind == "p":
            words = value.split(" ")
            if len(words) > 4:  # some inline markup inside a paragraph
                value_html = (esc(" ".join(words[:2])) + " <em>" + esc(words[2]) + "</em> "
                              + esc(" ".join(words[3:])))
            else:
                value_html = esc(value)
            out.append(f"<p>{value_html}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{esc(v)}</li>" for v in value) + "</ul>")
        else:
            rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in value)
            out.append(f'<table class="table"><tbody>{rows}</tbody></table>')
    for data in tab.scans:
        out.append(f'<object class="pdf-preview" data="{esc(data)}" type="application/pdf" '
                   f'width="100%" height="800"><p>Your browser cannot show PDFs.</p></object>')
    return "\n".join(out)


def _pills(names: list[str], span: bool = True, extra: str = "") -> str:
    inner = (lambda n: f"<span>{esc(n)}</span>") if span else esc
    return "".join(f'<div class="pill{extra}"><a class="name" href="/search?f%5B0%5D=x">{inner(n)}</a></div>'
                   for n in names)


def _pill_block(label: str, tag: str, body: str) -> str:
    return (f'<div class="pill-block"><{tag} class="title">{label}</{tag}>'
            f'<div class="pills">{body}</div></div>')


def _info_blocks(doc: Doc) -> str:
    email = (f'<a href="/cdn-cgi/l/email-protection" class="__cf_email__" '
             f'data-cfemail="{cf_encode(RIGHTS_EMAIL)}">[email&#160;protected]</a>')
    parts = {
        "Source": f'<div class="text"><p>{esc(doc.source)}</p></div>' if doc.source else None,
        "Original Archive": _pills(doc.original_archive) if doc.original_archive else None,
        "Rights": (f'<div class="text"><p>{esc(RIGHTS_1)}</p><p>{esc(RIGHTS_2_HEAD)} {email}.</p></div>'
                   if doc.rights else None),
        "Original Uploaded Date": f'<div class="text">{doc.uploaded}</div>' if doc.uploaded else None,
        "Type": f'<div class="text">{esc(doc.type)}</div>' if doc.type else None,
        "Language": _pills(doc.languages, span=False) if doc.languages else None,
        "Record ID": f'<div class="text">{doc.record_id}</div>',
        "Original Classification": (f'<div class="text">{esc(doc.classification_block)}</div>'
                                    if doc.classification_block else None),
        "Donors": _pills(doc.donors) if doc.donors else None,
    }
    return "\n".join(
        f'<div class="information-block"><div class="sub-title">{label}</div>{parts[label]}</div>'
        for label in doc.info_order if parts[label] is not None)


def document_page(doc: Doc, base: str, old: Sequence[Doc]) -> str:
    tabs_nav = "".join(
        f'<li class="nav-item"><a class="nav-link{" active" if n == 0 else ""}" data-bs-toggle="tab" '
        f'href="#tab-{n}" role="tab">{esc(t.label)}</a></li>' for n, t in enumerate(doc.tabs))
    panes = "".join(
        f'<div class="tab-pane fade{" show active" if n == 0 else ""}" id="tab-{n}" role="tabpanel">'
        f'{_blocks_html(t)}</div>' for n, t in enumerate(doc.tabs))
    body = (f'<div id="documentTabs"><ul class="nav nav-tabs" role="tablist">{tabs_nav}</ul>'
            f'<div class="tab-content">{panes}</div></div>') if doc.tabs else ""
    date = f'<div class="date">\n  {esc(doc.date_text)}\n</div>' if doc.date_text else ""
    credits = f'<div class="donated"><p>{esc(doc.credits)}</p></div>' if doc.credits else ""
    summary = f'<div class="text-block"><p>{esc(doc.summary)}</p></div>' if doc.summary else ""
    cls_line = (f'<div class="classification"><p>{esc(doc.classification_line)}</p></div>'
                if doc.classification_line else "")
    authors = (f'<h2 class="title">Author(s):</h2><div class="authors">{_pills(doc.authors)}</div>'
               if doc.authors else "")
    blocks = []
    if doc.places:
        blocks.append(_pill_block("Associated Places", doc.label_tag, _pills(doc.places)))
    if doc.subjects:
        blocks.append(_pill_block("Subjects Discussed", doc.label_tag,
                                  _pills(doc.subjects, span=False, extra=" pill-subject")))
    if doc.people:
        blocks.append(_pill_block("Associated People &amp; Organizations", doc.label_tag,
                                  _pills(doc.people)))
    if doc.contributors:
        blocks.append(_pill_block("Document Contributor", doc.label_tag, _pills(doc.contributors)))
    download = (f'<div class="download"><a class="btn btn-primary" href="/document/{doc.nid}/download">'
                f'Download PDF</a></div>') if doc.download else ""
    return (head(doc.title, base + doc.path, doc.nid) + mega_menu(old) + f"""
<main role="main" id="main-content">
<div class="breadcrumb"><a href="/">Home</a> / <a href="/search">Search</a></div>
<div class="title"></div>
<article class="node node--type-document" data-history-node-id="{doc.nid}">
<div class="content-block">
{date}
<h1 class="title"><span class="field field--name-title">{esc(doc.title)}</span></h1>
</div>
{credits}
{download}
{body}
{summary}
{cls_line}
{authors}
{''.join(blocks)}
<h2 class="document-information">Document Information</h2>
{_info_blocks(doc)}
</article>
<div class="share"><span>Share</span><a href="mailto:?subject=x">Email</a><a href="#print">Print</a></div>
</main>
""" + footer(old))


# --- listing pages -------------------------------------------------------------------------------
def _date_cell(doc: Doc) -> str:
    return esc(doc.date_text) if doc.date_text else "Undated"


def href(doc: Doc, n: int, links: str) -> str:
    """A result's link: its alias, its /node/NID path, or every other one of each ("mixed")."""
    if links == "node" or (links == "mixed" and n % 2):
        return f"/node/{doc.nid}"
    return esc(doc.path)


def _results_table(docs: Sequence[Doc], links: str = "alias") -> str:
    rows = "".join(
        f'<tr><td class="date views-field views-field-field-date">{_date_cell(d)}</td>'
        f'<td class="document contextual-region views-field views-field-title">'
        f'<div data-contextual-id="node:node={d.nid}:changed=1" data-contextual-token="t"></div>'
        f'<a href="{href(d, n, links)}" hreflang="en">{esc(d.title)}</a>'
        f'<div class="summary">{esc(d.summary or "")}</div></td></tr>' for n, d in enumerate(docs))
    return (f'<table class="table table-hover table-striped views-table"><thead><tr><th>Date</th>'
            f'<th>Document</th></tr></thead><tbody>{rows}</tbody></table>')


def _results_grid(docs: Sequence[Doc], links: str = "mixed") -> str:
    """A Drupal views grid (by default every other item linked by its /node/NID path)."""
    cells = "".join(
        f'<div class="views-col col-{n % 4 + 1}"><div class="views-field views-field-field-date">'
        f'<span class="field-content">{_date_cell(d)}</span></div>'
        f'<div class="views-field views-field-title"><span class="field-content">'
        f'<a href="{href(d, n, links)}" hreflang="en">{esc(d.title)}</a>'
        f'</span></div><div class="views-field views-field-body">{esc(d.summary or "")}</div></div>'
        for n, d in enumerate(docs))
    return (f'<div class="views-view-grid horizontal cols-4 clearfix">'
            f'<div class="views-row">{cells}</div></div>')


def _results_dl(docs: Sequence[Doc], links: str = "alias") -> str:
    """A definition list where the link sits on the date, the title is plain text."""
    items = "".join(
        f'<dt class="search-result__date"><a href="{href(d, n, links)}">{_date_cell(d)}</a></dt>'
        f'<dd class="search-result__title">{esc(d.title)}</dd>'
        f'<dd class="search-result__snippet">{esc(d.summary or "")}</dd>' for n, d in enumerate(docs))
    return f'<dl class="search-results node-results">{items}</dl>'


def _results_cards(docs: Sequence[Doc], links: str = "alias") -> str:
    """Cards: each document linked three times (thumbnail, title, read more)."""
    cards = "".join(
        f'<div class="card"><a class="card__thumb" href="{href(d, n, links)}">'
        f'<img src="/thumb/{d.nid}.png" alt="" /></a>'
        f'<div class="card__body"><span class="card__date">{_date_cell(d)}</span>'
        f'<h3 class="card__title"><a href="{href(d, n, links)}">{esc(d.title)}</a></h3>'
        f'<p>{esc(d.summary or "")}</p>'
        f'<a class="card__more" href="{href(d, n, links)}">Read more</a></div></div>'
        for n, d in enumerate(docs))
    return f'<div class="card-deck">{cards}</div>'


def _pager(page: int, pages: int, query: str) -> str:
    links = []
    if page > 0:
        links.append(f'<a class="paginate__prev" href="/search?{query}&amp;page={page - 1}">‹ previous</a>')
    for n in range(max(0, page - 2), min(pages, page + 3)):
        links.append(f'<span class="paginate__current">{n + 1}</span>' if n == page else
                     f'<a href="/search?{query}&amp;page={n}">{n + 1}</a>')
    if page + 1 < pages:
        links.append(f'<a class="paginate__next" href="/search?{query}&amp;page={page + 1}">next ›</a>')
    return f'<div class="paginate" role="navigation">{"".join(links)}</div>'


def listing_page(docs: Sequence[Doc], *, markup: str, page: int, per_page: int, total: int,
                 old: Sequence[Doc], query: str, pager: bool, count: bool, related: bool,
                 script: str = "", links: str = "") -> str:
    """One /search page. `script`: "" (links in the HTML), "body" (rows drawn by script, the
    count in the HTML) or "all" (count and rows drawn by script)."""
    first = page * per_page + 1
    last = page * per_page + len(docs)
    if markup == "table":
        count_html = f'<div class="results-count">Results: {first} - {last} of {total}</div>'
    else:
        count_html = f'<div class="view-header"><p>Showing {first} to {last} of {total} documents</p></div>'
    if not docs:
        count_html = ""
    if script:
        results = ('<div id="search-results" data-source="/api/search"></div>'
                   f'<script>fetch("/api/search?page={page}").then(r => r.json())'
                   '.then(drawResults);</script>')
        if script == "all":
            count_html = '<div class="results-count" data-drawn-by="script"></div>'
    elif not docs:
        results = '<div class="view-empty"><p>No results found.</p></div>'
    else:
        draw = {"table": _results_table, "grid": _results_grid, "dl": _results_dl,
                "cards": _results_cards}[markup]
        results = draw(docs, links) if links else draw(docs)
    featured = "".join(f'<div class="views-row"><a href="{esc(d.path)}">{esc(d.title)}</a></div>'
                       for d in old[5:9])
    sidebar = (f'<aside class="layout-sidebar-first" role="complementary"><div class="block '
               f'block-views block-views-blockfeatured-documents-block-1"><h2>Featured</h2>'
               f'<div class="view-content">{featured}</div></div></aside>')
    attachment = ""
    if related and docs:
        attachment = ('<div class="attachment attachment-after"><div class="view view-related-documents">'
                      f'<h2>Related</h2>{_results_table(old[9:14])}</div></div>')
    pages = (total + per_page - 1) // per_page
    return (head("Search", "/search", None) + mega_menu(old) + f"""
<div class="layout-container">
{sidebar}
<main role="main" id="main-content" class="layout-content">
<h1 class="page-title">Search the Archive</h1>
<div class="view view-search view-id-search view-display-id-page_1">
{count_html if count or script == "body" else ""}
<div class="view-content">
{results}
</div>
{_pager(page, pages, query) if pager and docs else ""}
{attachment}
</div>
</main>
</div>
""" + footer(old))


def challenge_page() -> str:
    pad = "".join(f"<!-- {n:04d} bm-sensor-data-placeholder -->\n" for n in range(40))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8" />
<meta http-equiv="refresh" content="5" />
<title>Wilson Center Digital Archive</title>
<script src="/_sec/cp_challenge/ak-challenge-4-4.js"></script>
</head><body>
<div id="sec-container"><div id="sec-text-container">
<h1 class="title">Checking your browser before accessing the Digital Archive</h1>
<p>This process is automatic. Your browser will redirect to your requested content shortly.</p>
</div><div id="sec-if-container">
<iframe id="sec-cpt-if" data-duration="5" src="about:blank"></iframe></div></div>
<form id="sec-verify" method="POST" action="/_sec/verify?provider=interstitial">
<input type="hidden" name="sensor_data" value="" /></form>
<script>triggerInterstitialChallenge();</script>
{pad}</body></html>
"""


def pdf_bytes(name: str) -> bytes:
    text = f"BT /F1 12 Tf 72 720 Td ({name}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)
