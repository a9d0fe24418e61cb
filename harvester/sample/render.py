"""HTML of the sample archive's pages, in the DOM of docs/wilson-dom.md."""

from __future__ import annotations

from html import escape

from harvester.sample import chrome
from harvester.sample import words as W
from harvester.sample.model import LIVE_BASE, Block, Document, Pill, Tab


def esc(text: str) -> str:
    return escape(text, quote=False)


def attr(text: str) -> str:
    return escape(text, quote=True)


def cf_encode(email: str, key: int) -> str:
    """Cloudflare email obfuscation: key byte then every byte XOR key, in hex."""
    return f"{key:02x}" + "".join(f"{b ^ key:02x}" for b in email.encode())


def _wrap(text: str, every: int = 9) -> str:
    """Escaped text with a line break (source whitespace) every few words, as CMS output has."""
    parts = esc(text).split(" ")
    if len(parts) <= every:
        return " ".join(parts)
    lines = [" ".join(parts[n:n + every]) for n in range(0, len(parts), every)]
    return "\n            ".join(lines)


def _block(block: Block) -> str:
    if block.kind == "p":
        inner = "".join(f"<{tag}>{esc(t)}</{tag}>" if tag else _wrap(t) for t, tag in block.runs)
        return f"          <p>{inner}</p>\n"
    if block.kind == "blank":
        return "          <p>&nbsp;</p>\n"
    if block.kind in ("ol", "ul"):
        items = "".join(f"\n            <li>{esc(item)}</li>" for item in block.items)
        return f"          <{block.kind}>{items}\n          </{block.kind}>\n"
    rows = []
    for n, row in enumerate(block.rows):
        cell = "th" if block.header and n == 0 else "td"
        rows.append("<tr>" + "".join(f"<{cell}>{esc(c)}</{cell}>" for c in row) + "</tr>")
    return '          <table class="table"><tbody>\n            ' + "\n            ".join(rows) + (
        "\n          </tbody></table>\n"
    )


def _pane(doc: Document, tab: Tab, n: int, pane_id: str) -> str:
    active = " show active" if n == 0 else ""
    parts = [f'        <div class="tab-pane fade{active}" id="{pane_id}" role="tabpanel">\n']
    parts.extend(_block(b) for b in tab.blocks)
    if tab.scan:
        parts.append(
            f'          <object class="pdf-preview" data="{doc.scan_path}" type="application/pdf"'
            ' width="100%" height="800"><p>Your browser cannot display this PDF.</p></object>\n'
        )
    if tab.download:
        parts.append(
            f'          <div class="download"><a href="{doc.download_path}" class="button">'
            "Download PDF</a></div>\n"
        )
    parts.append("        </div>\n")
    return "".join(parts)


def _tabs(doc: Document) -> str:
    if not doc.tabs:
        return ""
    nav, panes = [], []
    for n, tab in enumerate(doc.tabs):
        target = f"tab-{n + 1}"
        pane_id = target if doc.tab_ids_match else f"document-pane-{n + 1}"
        active = " active" if n == 0 else ""
        if doc.tab_style == "a":
            link = (
                f'<a class="nav-link{active}" href="#{target}" data-toggle="tab">'
                f"{esc(tab.label)}</a>"
            )
        else:
            link = (
                f'<button class="nav-link{active}" data-bs-toggle="tab" data-bs-target="#{target}"'
                f' type="button" role="tab" aria-selected="{"true" if n == 0 else "false"}">'
                f"{esc(tab.label)}</button>"
            )
        nav.append(f'          <li class="nav-item" role="presentation">{link}</li>\n')
        panes.append(_pane(doc, tab, n, pane_id))
    return (
        '    <div id="documentTabs" class="document-tabs">\n'
        '      <ul class="nav nav-tabs" role="tablist">\n' + "".join(nav) + "      </ul>\n"
        '      <div class="tab-content">\n' + "".join(panes) + "      </div>\n    </div>\n"
    )


def _pill(pill: Pill | str, extra_class: str = "", href: str = "") -> str:
    text, span = (pill.text, pill.span) if isinstance(pill, Pill) else (pill, True)
    inner = f"<span>{esc(text)}</span>" if span else esc(text)
    link = f' href="{attr(href)}"' if href else ""
    return f'<div class="pill{extra_class}"><a class="name"{link}>{inner}</a></div>'


def _facet_href(kind: str, text: str) -> str:
    key = sum(text.encode()) * 7 % 9000 + 1000
    return f"/search?f%5B0%5D={kind}%3A{key}&fo%5B0%5D={key}"


def _rights(doc: Document) -> str:
    code = cf_encode(W.RIGHTS_EMAIL, doc.cf_key)
    return (
        f"<p>{esc(W.RIGHTS_P1)}</p>\n          <p>{esc(W.RIGHTS_P2_PREFIX)}"
        f' <a href="/cdn-cgi/l/email-protection#{code}"><span class="__cf_email__"'
        f' data-cfemail="{code}">[email&#160;protected]</span></a>.</p>'
    )


def _info_blocks(doc: Document) -> str:
    out = []
    colon = ":" if doc.label_colon else ""
    for block in doc.info:
        if block.kind == "rights":
            value = _rights(doc)
        elif block.kind == "pills":
            facet = "languages" if block.label == "Language" else "original_repositories"
            value = "".join(_pill(p, href=_facet_href(facet, p)) for p in block.pills)
        elif block.label == "Source":
            value = f"<p>{_wrap(block.text)}</p>"
        else:
            value = esc(block.text)
        out.append(
            f'    <div class="information-block"><div class="sub-title">{esc(block.label)}{colon}'
            f'</div>\n      <div class="text">{value}</div></div>\n'
        )
    return "".join(out)


def _sections(doc: Document) -> str:
    out = []
    facets = {"Associated Places": "places", "Subjects Discussed": "topics"}
    for sec in doc.sections:
        extra = " pill-subject" if sec.subject_class else ""
        facet = facets.get(sec.label, "people")
        pills = "".join(_pill(p, extra, _facet_href(facet, p.text)) for p in sec.pills)
        out.append(
            f'    <div class="pill-block">\n      <{sec.heading} class="title">{esc(sec.label)}'
            f'</{sec.heading}>\n      <div class="pills">{pills}</div>\n    </div>\n'
        )
    return "".join(out)


def document_main(doc: Document) -> str:
    parts = ['    <div class="content-block">\n']
    if doc.date_text:
        parts.append(f'      <div class="date">{esc(doc.date_text)}</div>\n')
    parts.append(f'      <h1 class="title">{esc(doc.title)}</h1>\n    </div>\n')
    if doc.credits:
        parts.append(f'    <div class="donated">{esc(doc.credits)}</div>\n')
    parts.append(_tabs(doc))
    if doc.summary:
        parts.append(f'    <div class="text-block"><p>{_wrap(doc.summary)}</p></div>\n')
    if doc.classification_line:
        parts.append(f'    <div class="classification">{esc(doc.classification_line)}</div>\n')
    if doc.authors:
        pills = "".join(_pill(p, href=_facet_href("people", p.text)) for p in doc.authors)
        parts.append(
            f'    <h2 class="title">Author(s):</h2>\n    <div class="pills">{pills}</div>\n'
        )
    parts.append(_sections(doc))
    parts.append('    <h2 class="title">Document Information</h2>\n')
    parts.append(_info_blocks(doc))
    parts.append(chrome.share_links(doc.path, doc.title))
    return "".join(parts)


def document_page(doc: Document) -> str:
    head = (
        f'  <link rel="canonical" href="{LIVE_BASE}/document/{doc.slug}">\n'
        f'  <link rel="shortlink" href="{LIVE_BASE}/node/{doc.nid}">\n'
        f'  <meta property="og:title" content="{attr(doc.title)}">\n'
        f'  <meta property="og:url" content="{LIVE_BASE}/document/{doc.slug}">\n'
        + chrome.drupal_settings(f"node/{doc.nid}")
    )
    return chrome.page(
        doc.title, "path-node page-node-type-document", head, document_main(doc)
    )


def not_found_page(path: str) -> str:
    main = (
        '    <div class="error-page"><h1 class="page-title">Page not found</h1>\n'
        f"    <p>The requested page &quot;{esc(path)}&quot; could not be found.</p></div>\n"
    )
    head = chrome.drupal_settings("system/404")
    return chrome.page("Page not found", "path-system-404", head, main)


def error_page(status: int, reason: str) -> str:
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status} {esc(reason)}</title></head>\n<body>"
        f"<h1>{esc(reason)}</h1><p>The server could not serve your request ({status}). "
        "Please try again later.</p></body></html>\n"
    )


def access_denied_page() -> str:
    main = '    <div class="error-page"><h1 class="page-title">Access denied</h1></div>\n'
    return chrome.page("Access denied", "path-system-403", "", main)


def challenge_page(path: str) -> str:
    """The bot manager's interstitial: HTTP 200, a few KB, meta refresh, a challenge script."""
    token = "".join(f"{(ord(c) * 31 + n) % 256:02x}" for n, c in enumerate(path[:40] * 2))
    script = (
        "(function(){var c=document.getElementById('sec-cpt');"
        "function triggerInterstitialChallenge(){var x=new XMLHttpRequest();"
        "x.open('POST','/_sec/verify?provider=interstitial',true);"
        "x.setRequestHeader('Content-Type','application/json');"
        f"x.send(JSON.stringify({{token:'{token}',path:location.pathname}}));"
        "x.onload=function(){location.reload();};}"
        "window.addEventListener('load',function(){setTimeout(triggerInterstitialChallenge,"
        "5000);});})();"
    )
    filler = "".join(
        f'<div class="sec-bar" style="width:{n * 7 % 100}%"></div>' for n in range(40)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta http-equiv="refresh" content="5">\n<title>Please wait...</title>\n'
        "<style>body{font-family:sans-serif;text-align:center;margin-top:10%}"
        ".sec-bar{height:2px;background:#ccc;margin:2px auto}</style></head>\n"
        '<body><div id="sec-container"><h1>Checking your browser before accessing the site.</h1>'
        "<p>This process is automatic. Your browser will redirect to your requested content"
        " shortly.</p>\n"
        f'<div id="sec-cpt" data-token="{token}">{filler}</div>\n'
        '<form id="challenge-form" action="/_sec/verify?provider=interstitial" method="POST">'
        f'<input type="hidden" name="token" value="{token}"></form>\n'
        f"<script>{script}</script>\n<script>triggerInterstitialChallenge();</script>\n"
        "</div></body></html>\n"
    )


def robots_txt(crawl_delay: float | None) -> str:
    lines = ["#", "# robots.txt", "#", "User-agent: *"]
    if crawl_delay is not None:
        lines.append(f"Crawl-delay: {crawl_delay:g}")
    lines += [
        "# Directories", "Disallow: /core/", "Disallow: /profiles/", "Disallow: /_sec/",
        "# Paths (clean URLs)", "Disallow: /admin/", "Disallow: /user/login",
        "Disallow: /user/register", "Disallow: /user/password", "Disallow: /node/add/",
    ]
    return "\n".join(lines) + "\n"


def home_page(total: int) -> str:
    main = (
        '    <h1 class="page-title">Wilson Center Digital Archive</h1>\n'
        f'    <p>International History Declassified: {total:,} documents.</p>\n'
        '    <p><a href="/search">Browse the archive</a></p>\n'
    )
    return chrome.page("Home", "path-frontpage", chrome.drupal_settings("node"), main)
