"""Document pages drawn to differ from the sample archive's own, with their expected fields.

    python bench/unlike_pages.py --out DIR [--pages 300] [--seed 17]

writes DIR/pages/<record_id>.html and DIR/expected/<record_id>.json (every record field
the extractor returns; `files` compared by URL), the layout bench/extraction.py reads.

The sample archive (harvester/sample) draws ~44 KB pages with one chrome and one markup
of each block. These pages are drawn from the live site's facts
(../shared/notes/wilson-digital-archive.md, tests/fixtures/wilson) with what the sample
does not have, each page choosing at random (a fixed seed: the same pages every run):
- heavy chrome: a mega-menu of ~170 links whose column titles read like the document's
  sections ("Subjects Discussed", "Author(s):"), topic chips drawn as pills, a teaser
  carrying its own .content-block / h1.title / .date / .text-block / .donated; breadcrumbs,
  a search form, a footer with newsletter, share links and the cookie banner;
- wrappers around the "Document Information" blocks (a wrapper that carries the class
  itself, Drupal field wrappers, a grid of columns), in a shuffled order;
- the rights' e-mail address obfuscated (Cloudflare's data-cfemail, in the two markups the
  site uses), and now and then an obfuscated address inside a body text;
- long texts (up to ~250 paragraphs, lists, tables, editorial marks, footnotes), one to
  three text tabs and scan tabs, several PDFs (the download link and up to three previews);
- many pills (up to ~40 subjects and ~40 people), labels with a trailing colon or not.
Expected values are written from the model, never from the extractor.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIVE = "https://digitalarchive.wilsoncenter.org"
RIGHTS_1 = ("The History and Public Policy Program welcomes reuse of Digital Archive materials "
            "for research and educational purposes. Some documents may be subject to copyright, "
            "which is retained by the rights holders in accordance with US and international "
            "copyright laws. When possible, rights holders have been contacted for permission "
            "to reproduce their materials.")
RIGHTS_2 = ("To enquire about this document's rights status or request permission for commercial "
            "use, please contact the History and Public Policy Program at {email}.")
RIGHTS_EMAIL = "HAPP@wilsoncenter.org"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")

WORDS = ("the", "delegation", "comrade", "situation", "question", "government", "party",
         "committee", "military", "assistance", "economic", "negotiations", "border", "treaty",
         "conference", "proposal", "ambassador", "minister", "report", "meeting", "position",
         "agreement", "support", "united", "nations", "forces", "security", "peace", "trade",
         "credits", "industry", "workers", "congress", "policy", "frontier", "embassy", "aid",
         "of", "and", "to", "in", "on", "with", "for", "that", "was", "were", "is", "by")
RUSSIAN = ("товарищ", "правительство", "делегация", "вопрос", "положение", "помощь", "договор",
           "совещание", "посол", "министр", "и", "в", "на", "с", "по", "что")
CHINESE = ("中国", "政府", "代表团", "问题", "会议", "同志", "援助", "条约", "大使", "关于")
PEOPLE = ("Stalin, Joseph, 1878-1953", "Mao, Zedong, 1893-1976", "Zhou, Enlai, 1898-1976",
          "Khrushchev, Nikita Sergeevich, 1894-1971", "Kim, Il-song, 1912-1994",
          "Gromyko, Andrei Andreevich, 1909-1989", "Ulbricht, Walter, 1893-1973",
          "Rákosi, Mátyás, 1892-1971", "Gomułka, Władysław, 1905-1982", "Nagy, Imre, 1896-1958",
          "Ho, Chi Minh, 1890-1969", "Castro, Fidel, 1926-2016", "Tito, Josip Broz, 1892-1980",
          "Ceaușescu, Nicolae, 1918-1989", "Kissinger, Henry, 1923-2023", "Nehru, Jawaharlal",
          "Brezhnev, Leonid Ilʹich, 1906-1982", "Deng, Xiaoping, 1904-1997",
          "Communist Party of the Soviet Union", "Korean Workers' Party",
          "Warsaw Treaty Organization", "United Nations. Security Council",
          "Socialist Unity Party of Germany", "Chinese Communist Party", "Politburo",
          "Soviet Union. Ministerstvo inostrannykh del", "North Atlantic Treaty Organization")
PLACES = ("China", "Russia (Federation)", "Korea (North)", "Korea (South)", "Germany (East)",
          "Germany (West)", "Hungary", "Poland", "Czechoslovakia", "Romania", "Bulgaria",
          "Yugoslavia", "Albania", "Cuba", "Vietnam (Democratic Republic)", "India", "Pakistan",
          "Japan", "Mongolia", "United States", "France", "Great Britain", "Iran", "Egypt",
          "Indonesia", "Afghanistan", "Israel", "Angola", "Ethiopia", "Brazil", "Argentina")
SUBJECTS = ("Korean War, 1950-1953", "Sino-Soviet Relations", "De-Stalinization",
            "Nuclear Weapons", "Arms Control", "Economic Assistance", "Military Assistance",
            "Propaganda", "Intelligence", "Decolonization", "Cuban Missile Crisis, 1962",
            "Hungarian Revolution, 1956", "Berlin Crisis, 1958-1962", "Taiwan Strait Crises",
            "Border Disputes", "Trade & Credits", "Cultural Exchange", "Prisoners of War",
            "Espionage", "Human Rights", "Non-Aligned Movement", "Warsaw Pact", "Space Race",
            "Energy", "Refugees", "Disarmament", "Summits", "Diplomacy", "Education", "Media",
            "Religion", "Science and Technology", "Labor", "Borders", "Health", "Migration",
            "Chemical Weapons", "Biological Weapons", "Détente", "Helsinki Final Act")
ARCHIVES = ("Archive of Foreign Policy of the Russian Federation (AVP RF)",
            "Russian State Archive of Contemporary History (RGANI)",
            "Chinese Foreign Ministry Archive", "Hungarian National Archives (MOL)",
            "Polish Central Archives of Modern Records (AAN)", "National Archives of India")
DONORS = ("Leon Levy Foundation", "MacArthur Foundation", "Carnegie Corporation of New York",
          "Korea Foundation", "Henry Luce Foundation", "Smith Richardson Foundation")
TYPES = ("Telegram", "Memorandum of Conversation", "Letter", "Report", "Minutes", "Cable",
         "Speech", "Diary Entry", "Intelligence Report", "Note")
LANGUAGES = ("Russian", "Chinese", "English", "German", "Hungarian", "Korean", "Polish")
TRANSLATORS = ("Gary Goldberg", "Sergey Radchenko", "Mark H. Doctoroff", "David Wolff")
CLASSIFICATIONS = ("Top Secret", "Secret", "Confidential", "Strictly Confidential")


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def cf_encode(email: str, key: int) -> str:
    return f"{key:02x}" + "".join(f"{b ^ key:02x}" for b in email.encode("utf-8"))


def slug(title: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", title.lower()) if w not in {"of", "the", "to"}]
    return "-".join(words)[:90].rstrip("-")


@dataclass
class Page:
    """One page's model: what is drawn and what the extractor must return."""

    rid: str
    nid: str
    title: str
    expected: dict[str, Any] = field(default_factory=dict)


# --- chrome ---------------------------------------------------------------------------------
def mega_menu(rng: random.Random) -> str:
    """~170 links in six dropdowns; column titles named like the document's sections."""
    columns = [("Collections", "Collections A-L"), ("Collections", "Collections M-Z"),
               ("Themes", "Subjects Discussed"), ("Themes", "Associated People & Organizations"),
               ("Regions", "Associated Places"), ("Regions", "Author(s):"),
               ("Resources", "Document Information"), ("About", "Source")]
    out = ['<nav class="tbm tbm-main" id="tbm-main" aria-label="Main navigation" '
           'role="navigation"><ul class="tbm-nav level-0">']
    pools = [SUBJECTS, PEOPLE, PLACES, ARCHIVES, DONORS, TYPES]
    for top in ("Collections", "Themes", "Regions", "Resources", "About"):
        out.append(f'<li class="tbm-item level-1 tbm-item--has-dropdown"><div class="tbm-link-'
                   f'container"><a href="/{top.lower()}" class="tbm-link level-1">{top}</a>'
                   '<button class="tbm-submenu-toggle" aria-expanded="false"><span class="'
                   'visually-hidden">Toggle submenu</span></button></div>'
                   '<div class="tbm-submenu"><div class="tbm-row">')
        for group, name in columns:
            if group != top:
                continue
            pool = pools[len(name) % len(pools)]
            links = "".join(
                f'<li class="tbm-item level-2"><div class="tbm-link-container"><a href="/'
                f'{group.lower()}/{slug(pool[i % len(pool)])}-{i}" class="tbm-link level-2">'
                f'{esc(pool[i % len(pool)])}</a></div></li>' for i in range(rng.randint(19, 23)))
            out.append(f'<div class="tbm-column span3"><div class="tbm-column-inner">'
                       f'<h2 class="title tbm-column-title">{esc(name)}</h2>'
                       f'<ul class="tbm-subnav level-1">{links}</ul></div></div>')
        if top == "Themes":  # topic chips drawn like the document's pills
            chips = "".join(f'<div class="pill pill-subject"><a class="name" href="/topics/'
                            f'{slug(s)}">{esc(s)}</a></div>' for s in SUBJECTS[:12])
            out.append(f'<div class="tbm-column"><h3 class="title">Subjects Discussed</h3>'
                       f'<div class="pill-block"><h3 class="title">Subjects</h3><div class="pills">'
                       f'{chips}</div></div></div>')
        if top == "Resources":  # a teaser drawn like the content block
            out.append('<div class="tbm-column teaser"><div class="content-block"><div class="date">'
                       'May 9, 1955</div><h1 class="title">Featured: The Warsaw Pact at 70</h1>'
                       '</div><div class="donated">This collection was made possible with support '
                       'from the Teaser Foundation.</div><div class="text-block"><p>A teaser.</p>'
                       '</div><div class="classification">Unclassified</div></div>')
        out.append("</div></div></li>")
    out.append("</ul></nav>")
    return "".join(out)


def header(rng: random.Random) -> str:
    return ('<header class="header" role="banner"><div class="site-branding"><a href="/" '
            'rel="home"><img src="/themes/custom/wilson/logo.svg" alt="Home"></a><div class="'
            'title"></div></div>' + mega_menu(rng) +
            '<form class="search-form" action="/search" method="get" role="search"><label for="'
            'q">Search</label><input id="q" name="search_api_fulltext" type="text"><button '
            'type="submit">Search</button></form></header>'
            '<div class="breadcrumb" aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li>'
            '<li><a href="/search">Documents</a></li></ol></div>')


def footer(rng: random.Random) -> str:
    key = rng.randint(16, 250)
    email = "digitalarchive@wilsoncenter.org"
    links = "".join(f'<li><a href="/about/{n}">{n.title()}</a></li>'
                    for n in ("about", "contact", "privacy", "terms", "staff", "donate",
                              "newsletter", "rss", "accessibility", "faq"))
    return (f'<footer class="footer" role="contentinfo"><div class="footer__top"><h2 class="title">'
            f'Subjects Discussed</h2><ul class="menu">{links}</ul></div><div class="newsletter">'
            f'<h3 class="title">Stay informed</h3><form action="/newsletter"><input name="email" '
            f'type="email"><button>Subscribe</button></form><p>Write to <a href="/cdn-cgi/l/email-'
            f'protection#{cf_encode(email, key)}"><span class="__cf_email__" data-cfemail="'
            f'{cf_encode(email, key)}">[email&#160;protected]</span></a></p></div>'
            '<div class="footer__bottom"><p>Wilson Center, One Woodrow Wilson Plaza, 1300 '
            'Pennsylvania Ave NW, Washington, DC 20004</p></div></footer>'
            '<div class="eu-cookie-compliance-banner cookie-banner" role="dialog"><p>We use '
            'cookies to improve your experience.</p><button>Accept</button></div>')


def head(page: Page, rng: random.Random, canonical: str) -> str:
    path = f"node\\/{page.nid}" if rng.random() < 0.8 else f"node/{page.nid}"
    settings = ('{"path":{"baseUrl":"\\/","pathPrefix":"","currentPath":"' + path + '",'
                '"currentPathIsAdmin":false,"isFront":false,"currentLanguage":"en"},'
                '"pluralDelimiter":"\\u0003","ajaxPageState":{"libraries":"' + "eJx9kF1u" * 40 +
                '","theme":"wilson"},"user":{"uid":0,"permissionsHash":"7b1e3c9f0a"}}')
    css = "".join(f'<link rel="stylesheet" media="all" href="/sites/default/files/css/css_{i}'
                  f'.css?delta={i}">' for i in range(rng.randint(6, 14)))
    shortlink = (f'<link rel="shortlink" href="{LIVE}/node/{page.nid}">'
                 if rng.random() < 0.5 else "")
    return (f'<!DOCTYPE html><html lang="en" dir="ltr"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f'<title>{esc(page.title)} | Wilson Center Digital Archive</title>'
            f'<link rel="canonical" href="{attr(canonical)}">{shortlink}'
            f'<meta property="og:title" content="{attr(page.title)}">{css}'
            '<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({"gtm.start":1});})'
            '(window,document,"script","dataLayer","GTM-WXYZ");</script>'
            '<style>.skip-link{position:absolute}.tbm-submenu{display:none}</style>'
            f'<script type="application/json" data-drupal-selector="drupal-settings-json">'
            f'{settings}</script></head>')


# --- texts ----------------------------------------------------------------------------------
def sentence(rng: random.Random, pool: tuple[str, ...], words: int) -> str:
    text = " ".join(rng.choice(pool) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, pool: tuple[str, ...], note: list[int]) -> tuple[str, str]:
    """(HTML, expected line) of one paragraph, inline markup and editorial marks included."""
    parts_html, parts_text = [], []
    for _ in range(rng.randint(1, 5)):
        s = sentence(rng, pool, rng.randint(5, 22))
        roll = rng.random()
        if roll < 0.1:
            words = s.split(" ")
            k = rng.randint(1, len(words) - 1)
            parts_html.append(" ".join(words[:k]) + " <em>" + " ".join(words[k:]) + "</em>")
            parts_text.append(s)
        elif roll < 0.18:
            parts_html.append(s + " [...]")
            parts_text.append(s + " [...]")
        elif roll < 0.24:
            parts_html.append(s + " [sic]")
            parts_text.append(s + " [sic]")
        elif roll < 0.3:
            note[0] += 1
            parts_html.append(f"{s}<sup>[{note[0]}]</sup>")
            parts_text.append(f"{s}[{note[0]}]")
        elif roll < 0.35:
            parts_html.append(f"(p. {rng.randint(1, 40)}) {s}")
            parts_text.append(parts_html[-1])
        else:
            parts_html.append(s)
            parts_text.append(s)
    # the page source wraps long paragraphs over lines and uses &nbsp; now and then
    text = " ".join(parts_text)
    source = " ".join(parts_html)
    if rng.random() < 0.3 and " " in source:
        i = source.index(" ")
        source = source[:i] + "\n      " + source[i + 1:]
    if rng.random() < 0.2 and ". " in source:
        source = source.replace(". ", ".&nbsp; ", 1)
    return source, text


def body_text(rng: random.Random, pool: tuple[str, ...], long: bool) -> tuple[str, list[str]]:
    """(HTML, expected lines) of one tab's text."""
    html_parts: list[str] = []
    lines: list[str] = []
    note = [0]
    count = rng.randint(60, 250) if long else rng.randint(3, 25)
    for i in range(count):
        roll = rng.random()
        if roll < 0.05:
            items = [sentence(rng, pool, rng.randint(3, 10)) for _ in range(rng.randint(2, 6))]
            html_parts.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in items) + "</ul>")
            lines += items
        elif roll < 0.08:
            rows = [[sentence(rng, pool, 2)[:-1] for _ in range(3)] for _ in range(rng.randint(2, 5))]
            html_parts.append('<table class="table"><tbody>' + "".join(
                "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
                + "</tbody></table>")
            lines += [" | ".join(row) for row in rows]
        elif roll < 0.1 and i:
            a, b = sentence(rng, pool, 4), sentence(rng, pool, 3)
            html_parts.append(f"<p>{esc(a)}<br>{esc(b)}</p>")
            lines += [a, b]
        else:
            source, text = paragraph(rng, pool, note)
            html_parts.append(f"<p>{source}</p>")
            lines.append(text)
    if pool is WORDS and rng.random() < 0.2:  # an obfuscated address in the text
        key = rng.randint(16, 250)
        email = "archives@mid.ru"
        html_parts.append(f'<p>Copies were requested from <a href="/cdn-cgi/l/email-protection#'
                          f'{cf_encode(email, key)}">[email&#160;protected]</a> in 2004.</p>')
        lines.append(f"Copies were requested from {email} in 2004.")
    for n in range(1, note[0] + 1):
        text = f"[{n}] {sentence(rng, WORDS, rng.randint(4, 12))}"
        html_parts.append(f'<p class="footnote">{text}</p>')
        lines.append(text)
    return "\n".join(html_parts), lines


# --- blocks ---------------------------------------------------------------------------------
def pills(names: list[str], subject: bool, rng: random.Random) -> str:
    out = []
    for name in names:
        cls = "pill pill-subject" if subject else "pill"
        if subject:
            out.append(f'<div class="{cls}"><a class="name" href="/search?f%5B0%5D=topics%3A'
                       f'{rng.randint(1000, 9999)}">{esc(name)}</a></div>')
        else:
            out.append(f'<div class="{cls}"><a class="name" href="/search?f%5B0%5D=people%3A'
                       f'{rng.randint(1000, 9999)}"><span>{esc(name)}</span></a></div>')
    return '<div class="pills">' + "".join(out) + "</div>"


def info_block(label: str, value_html: str, rng: random.Random) -> str:
    colon = ":" if rng.random() < 0.2 else ""
    return (f'<div class="information-block"><div class="sub-title">{esc(label)}{colon}</div>'
            f'<div class="text">{value_html}</div></div>')


def wrap_blocks(blocks: list[str], rng: random.Random) -> str:
    """The information blocks in one of four wrappings (the live site's is the first)."""
    style = rng.randrange(4)
    if style == 0:
        return "".join(blocks)
    if style == 1:  # a wrapper carrying the block class itself, with no label of its own
        return '<div class="information-block information-wrapper">' + "".join(blocks) + "</div>"
    if style == 2:  # Drupal field wrappers around each block
        return "".join(f'<div class="field field--name-field-info"><div class="field__items">'
                       f'<div class="field__item">{b}</div></div></div>' for b in blocks)
    half = (len(blocks) + 1) // 2  # a grid of two columns
    return ('<section class="document-information"><div class="row"><div class="col-md-6">'
            + "".join(blocks[:half]) + '</div><div class="col-md-6">' + "".join(blocks[half:])
            + "</div></div></section>")


def build(rng: random.Random, rid: int, nid: int) -> tuple[str, dict[str, Any]]:
    """One page: its HTML and its expected fields."""
    title = (f"{rng.choice(TYPES)} from {rng.choice(PEOPLE).split(',')[0]} to "
             f"{rng.choice(PEOPLE).split(',')[0]} on {rng.choice(SUBJECTS)}")
    page = Page(str(rid), str(nid), title)
    canonical = f"{LIVE}/document/{slug(title)}-{rid}"
    year = rng.randint(1945, 1991)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    roll = rng.random()
    if roll < 0.6:
        date_text, date = f"{MONTHS[month - 1]} {day}, {year}", f"{year}-{month:02d}-{day:02d}"
    elif roll < 0.8:
        date_text, date = f"{MONTHS[month - 1]} {year}", f"{year}-{month:02d}"
    elif roll < 0.92:
        date_text, date = str(year), str(year)
    else:
        date_text, date = None, None
    credits = (f"This document was made possible with support from {rng.choice(DONORS)}."
               if rng.random() < 0.5 else None)

    # texts: 1-3 text tabs, 0-2 scan tabs with previews
    text_tabs = []
    languages_pool = [("English", WORDS), ("Russian", RUSSIAN), ("Chinese", CHINESE)]
    for i in range(rng.choice((1, 1, 2, 2, 3))):
        language, pool = languages_pool[i]
        kind = "translation" if i == 0 else rng.choice(("transcript", "original"))
        text_tabs.append((f"{kind.title()} - {language}", kind, language, pool))
    scans = rng.choice((0, 1, 1, 2, 3))
    long = rng.random() < 0.35
    panes, labels, texts = [], [], []
    files = [f"{LIVE}/document/{nid}/download"]
    for i, (label, kind, language, pool) in enumerate(text_tabs):
        content, lines = body_text(rng, pool, long and i == 0)
        download = (f'<div class="download"><a href="/document/{nid}/download" class="button">'
                    'Download PDF</a></div>' if i == 0 else "")
        active = " active" if i == 0 else ""
        labels.append(f'<li class="nav-item"><button class="nav-link{active}" data-bs-toggle="tab" '
                      f'data-bs-target="#tab-{i + 1}" type="button" role="tab">{label}</button></li>')
        panes.append(f'<div class="tab-pane fade{" show active" if i == 0 else ""}" id="tab-{i + 1}" '
                     f'role="tabpanel">{content}{download}</div>')
        texts.append({"kind": kind, "language": language, "text": "\n".join(lines)})
    for s in range(scans):
        n = len(labels) + 1
        path = (f"/sites/default/files/shared-media/imported_document_original_file/"
                f"{rid}_{s + 1}.pdf")
        files.append(LIVE + path)
        labels.append(f'<li class="nav-item"><button class="nav-link" data-bs-toggle="tab" '
                      f'data-bs-target="#tab-{n}" type="button" role="tab">Original Scan</button></li>')
        panes.append(f'<div class="tab-pane fade" id="tab-{n}" role="tabpanel"><object class="'
                     f'pdf-preview" data="{path}" type="application/pdf" width="100%" height="800">'
                     '<p>Your browser cannot display this PDF.</p></object></div>')
    tabs = ('<div id="documentTabs" class="document-tabs"><ul class="nav nav-tabs" role="tablist">'
            + "".join(labels) + '</ul><div class="tab-content">' + "".join(panes) + "</div></div>")

    summary_lines = [sentence(rng, WORDS, rng.randint(8, 30)) for _ in range(rng.randint(1, 3))]
    summary = ('<div class="field field--name-field-summary"><div class="field__item">'
               '<div class="text-block">' + "".join(f"<p>{esc(x)}</p>" for x in summary_lines)
               + "</div></div></div>")

    def pick(pool: tuple[str, ...], low: int, high: int) -> list[str]:
        return rng.sample(pool, min(len(pool), rng.randint(low, high)))

    authors = pick(PEOPLE, 0, 4)
    places = pick(PLACES, 0, 25)
    subjects = pick(SUBJECTS, 0, 40)
    people = pick(PEOPLE, 0, 27)
    sections = []
    if authors:
        sections.append('<h2 class="title">Author(s):</h2>' + pills(authors, False, rng))
    for label, names, subject in (("Associated Places", places, False),
                                  ("Subjects Discussed", subjects, True),
                                  ("Associated People & Organizations", people, False)):
        if names:
            colon = ":" if rng.random() < 0.3 else ""
            sections.append(f'<div class="pill-block"><h3 class="title">{esc(label)}{colon}</h3>'
                            f'{pills(names, subject, rng)}</div>')
    if rng.random() < 0.2:  # contributors: no field of the record
        sections.append('<div class="pill-block"><h3 class="title">Document Contributor</h3>'
                        + pills(["Ostermann, Christian F."], False, rng) + "</div>")

    source_lines = [f"{rng.choice(ARCHIVES)}, f. {rng.randint(1, 999)}, op. {rng.randint(1, 99)}, "
                    f"d. {rng.randint(1, 999)}, ll. {rng.randint(1, 50)}-{rng.randint(51, 99)}."]
    if rng.random() < 0.6:
        source_lines.append(f"Translated by {rng.choice(TRANSLATORS)}.")
    archives = pick(ARCHIVES, 1, 2)
    type_ = rng.choice(TYPES)
    languages = pick(LANGUAGES, 1, 3)
    classification = rng.choice(CLASSIFICATIONS) if rng.random() < 0.6 else None
    donors = pick(DONORS, 0, 3)
    uploaded = f"{rng.randint(2008, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    key = rng.randint(16, 250)
    if rng.random() < 0.5:
        email_html = (f'<a href="/cdn-cgi/l/email-protection" class="__cf_email__" data-cfemail="'
                      f'{cf_encode(RIGHTS_EMAIL, key)}">[email&#160;protected]</a>')
    else:
        email_html = (f'<a href="/cdn-cgi/l/email-protection#{cf_encode(RIGHTS_EMAIL, key)}">'
                      f'<span class="__cf_email__" data-cfemail="{cf_encode(RIGHTS_EMAIL, key)}">'
                      '[email&#160;protected]</span></a>')
    blocks = [
        info_block("Source", "".join(f"<p>{esc(x)}</p>" for x in source_lines), rng),
        info_block("Original Archive", pills(archives, False, rng), rng),
        info_block("Rights", f"<p>{RIGHTS_1}</p><p>{esc(RIGHTS_2.format(email='@@'))}</p>"
                   .replace("@@", email_html), rng),
        info_block("Original Uploaded Date", uploaded, rng),
        info_block("Type", type_, rng),
        info_block("Language", pills(languages, True, rng), rng),
        info_block("Record ID", str(rid), rng),
    ]
    if classification:
        blocks.append(info_block("Original Classification", classification, rng))
    if donors:
        blocks.append(info_block("Donors", pills(donors, False, rng), rng))
    first = blocks[:1]
    rest = blocks[1:]
    rng.shuffle(rest)
    info = wrap_blocks(first + rest, rng)

    content_block = ('<div class="content-block"><div class="title"></div>'
                     + (f'<div class="date">{date_text}</div>' if date_text else "")
                     + f'<h1 class="title">{esc(title)}</h1></div>')
    share = ('<div class="share-links"><span class="share">Share</span> <a href="https://twitter'
             f'.com/intent/tweet?url={attr(canonical)}">Twitter</a></div>')
    main = ('<main id="main-content" role="main"><div class="region region-content">'
            + content_block
            + (f'<div class="donated">{esc(credits)}</div>' if credits else "")
            + tabs + summary + "".join(sections)
            + '<h2 class="title">Document Information</h2>' + info + share
            + "</div></main>")
    body = ('<body class="path-node page-node-type-document"><noscript><iframe src="https://www.'
            'googletagmanager.com/ns.html?id=GTM-WXYZ" height="0" width="0"></iframe></noscript>'
            '<a href="#main-content" class="visually-hidden focusable skip-link">Skip to content'
            '</a><div class="dialog-off-canvas-main-canvas">' + header(rng) + main + footer(rng)
            + "</div></body></html>")
    expected = {
        "record_id": str(rid), "node_id": str(nid), "url": canonical, "title": title,
        "date": date, "date_text": date_text, "summary": "\n".join(summary_lines),
        "texts": texts, "authors": authors, "places": places, "subjects": subjects,
        "people": people, "source": "\n".join(source_lines), "original_archive": archives,
        "rights": RIGHTS_1 + "\n" + RIGHTS_2.format(email=RIGHTS_EMAIL), "uploaded": uploaded,
        "type": type_, "languages": languages, "classification": classification,
        "donors": donors, "credits": credits,
        "files": [{"url": u, "key": None, "sha256": None, "size": None, "content_type": None}
                  for u in files],
    }
    return head(page, rng, canonical) + body, expected


def generate(count: int, seed: int = 17) -> list[tuple[str, bytes, dict[str, Any]]]:
    """(record id, page bytes, expected fields) of `count` pages, the same for a seed."""
    rng = random.Random(seed)
    ids = rng.sample(range(100000, 350000), count)
    out = []
    for rid in ids:
        text, expected = build(rng, rid, rng.randint(10000, 300000))
        out.append((str(rid), text.encode("utf-8"), expected))
    return out


def write(folder: Path, count: int, seed: int = 17) -> int:
    """Write pages/<rid>.html and expected/<rid>.json under `folder`; the pages' total bytes."""
    (folder / "pages").mkdir(parents=True, exist_ok=True)
    (folder / "expected").mkdir(parents=True, exist_ok=True)
    total = 0
    for rid, body, expected in generate(count, seed):
        (folder / "pages" / f"{rid}.html").write_bytes(body)
        (folder / "expected" / f"{rid}.json").write_text(
            json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        total += len(body)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    total = write(args.out, args.pages, args.seed)
    print(f"wrote {args.pages} pages ({total / args.pages / 1024:.0f} KB each on average) "
          f"to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
