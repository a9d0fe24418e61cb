"""Page chrome: head assets, header, footer, newsletter, cookie banner (tens of KB, like the
live site). Everything here is boilerplate a harvester must never take for content."""

from __future__ import annotations

import json
from functools import cache
from html import escape

SITE_NAME = "Wilson Center Digital Archive"

MAIN_MENU = (
    ("Collections", "/collections"), ("Topics", "/topics"), ("Search", "/search"),
    ("Resources", "/resources"), ("About", "/about"), ("Contact", "/contact"),
    ("Support", "/support"),
    ("History and Public Policy Program", "/program/history-and-public-policy-program"),
)
COLLECTION_MENU = (
    "Korean War", "Cold War International History Project", "North Korea International"
    " Documentation Project", "Nuclear Proliferation International History Project",
    "Modern Japan History", "Sino-Soviet Relations", "Cuban Missile Crisis", "Vietnam War",
    "Warsaw Pact", "Hungarian Revolution, 1956", "Berlin Crisis", "Iran-Iraq War",
    "Chinese Foreign Policy", "Soviet Foreign Policy", "Intelligence", "Arms Control",
)
FOOTER_MENUS = {
    "About": ("About the Digital Archive", "Staff", "Advisory Board", "Partners", "FAQ"),
    "Programs": ("Cold War International History Project", "Kennan Institute", "Asia Program",
                 "Kissinger Institute", "Wahba Institute", "Polar Institute"),
    "Connect": ("Newsletter", "Events", "Podcasts", "Press", "Careers", "Fellowships"),
    "Legal": ("Privacy Policy", "Terms of Use", "Accessibility", "Copyright"),
}


def _slugify(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


@cache
def inline_style() -> str:
    """A large inline stylesheet (theme CSS the site inlines)."""
    rules = []
    components = (
        "header", "menu", "nav-tabs", "tab-pane", "pill", "pill-block", "information-block",
        "search-result", "pager", "footer", "newsletter", "cookie-banner", "share", "content-block",
        "text-block", "donated", "classification", "download", "sub-title", "title", "date",
    )
    for n, comp in enumerate(components):
        for state in ("", ":hover", ":focus", ".active", " a", " span", " .title", " p"):
            rules.append(
                f".{comp}{state}{{margin:{n % 5}px {n % 7 * 2}px;padding:{n % 3}rem;"
                f"color:#{(n * 1234567) % 0xFFFFFF:06x};font-size:{12 + n % 6}px;"
                f"line-height:1.{n % 9};border-bottom:1px solid rgba(0,0,0,.{n % 9})}}"
            )
        rules.append(
            f"@media (max-width:{600 + n * 10}px){{.{comp}{{display:block;width:100%}}}}"
        )
    return "\n".join(rules)


@cache
def head_assets() -> str:
    links = "\n".join(
        f'  <link rel="stylesheet" media="all" href="/sites/default/files/css/css_{n:02d}'
        f'{_slugify(c)[:12]}.css?delta={n}&amp;language=en&amp;theme=wilson&amp;include=eJx">'
        for n, c in enumerate(COLLECTION_MENU[:10])
    )
    gtm = (
        "(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
        "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),"
        "dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src='/gtm.js?id='+i+dl;"
        "f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-XXXX');"
    )
    return (
        '  <meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        '  <meta name="Generator" content="Drupal 10 (https://www.drupal.org)">\n'
        '  <meta name="MobileOptimized" content="width">\n'
        '  <link rel="icon" href="/themes/custom/wilson/favicon.ico"'
        ' type="image/vnd.microsoft.icon">\n'
        f"{links}\n"
        f"  <style>\n{inline_style()}\n  </style>\n"
        f"  <script>{gtm}</script>\n"
    )


def drupal_settings(current_path: str, extra: dict[str, object] | None = None) -> str:
    settings: dict[str, object] = {
        "path": {
            "baseUrl": "/", "pathPrefix": "", "currentPath": current_path,
            "currentPathIsAdmin": False, "isFront": False, "currentLanguage": "en",
        },
        "pluralDelimiter": "\u0003",
        "suppressDeprecationErrors": True,
        "ajaxPageState": {
            "libraries": "eJx9kF1uwzAIgC_k1keKiE0cWmwsQ1p1p1-yqn2Ypr0h-BA_kmYRMwzSdpsxpkeyugf"
            * 4,
            "theme": "wilson", "theme_token": None,
        },
        "ajaxTrustedUrl": {"/search": True},
        "gtag": {"tagId": "", "consentMode": False, "otherIds": [], "events": []},
        "eu_cookie_compliance": {
            "cookie_policy_version": "1.0.0", "popup_enabled": True, "popup_agreed_enabled": False,
            "popup_hide_agreed": False, "popup_clicking_confirmation": False,
            "popup_scrolling_confirmation": False, "popup_html_info": "",
            "use_mobile_message": False, "popup_delay": 1000, "disagree_do_not_show_popup": False,
            "cookie_name": "", "reload_page": False, "domain": "", "method": "default",
        },
        "user": {"uid": 0, "permissionsHash": "7b1e3c9f0a2d4e6b8c1d3f5a7b9c0e2d4f6a8b0c"},
    }
    if extra:
        settings.update(extra)
    body = json.dumps(settings, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")
    return (
        '  <script type="application/json" data-drupal-selector="drupal-settings-json">'
        f"{body}</script>\n"
    )


@cache
def header() -> str:
    menu = "".join(
        f'<li class="menu-item"><a href="{href}" data-drupal-link-system-path="{href[1:]}">'
        f"{escape(label)}</a></li>"
        for label, href in MAIN_MENU
    )
    collections = "".join(
        f'<li class="menu-item"><a href="/collection/{_slugify(c)}">{escape(c)}</a></li>'
        for c in COLLECTION_MENU
    )
    skip = '<a href="#main-content" class="visually-hidden focusable skip-link">Skip to content</a>'
    return f"""  {skip}
  <div class="dialog-off-canvas-main-canvas" data-off-canvas-main-canvas>
  <header class="header" role="banner">
    <div class="header__inner container">
      <a href="/" rel="home" class="site-logo"><img src="/themes/custom/wilson/logo.svg" alt="Home"
         width="220" height="48"><span class="site-name">{SITE_NAME}</span></a>
      <nav role="navigation" aria-labelledby="block-mainnavigation-menu" class="main-menu">
        <h2 class="visually-hidden" id="block-mainnavigation-menu">Main navigation</h2>
        <ul class="menu">{menu}</ul>
      </nav>
      <nav role="navigation" class="collections-menu" aria-label="Collections">
        <button class="menu-toggle" aria-expanded="false">Browse Collections</button>
        <ul class="menu menu--collections">{collections}</ul>
      </nav>
      <form action="/search" method="get" id="search-block-form" accept-charset="UTF-8"
            class="search-form" role="search">
        <div class="js-form-item form-item">
          <label for="edit-keys" class="visually-hidden">Search</label>
          <input title="Enter the terms you wish to search for." placeholder="Search the archive"
                 type="search" id="edit-keys" name="search_api_fulltext" value="" size="15"
                 maxlength="128" class="form-search">
        </div>
        <div class="form-actions"><input type="submit" value="Search" class="button"></div>
      </form>
    </div>
  </header>
"""


@cache
def footer() -> str:
    columns = "".join(
        f'<div class="footer__column"><h2 class="footer__title">{escape(title)}</h2>'
        '<ul class="menu">'
        + "".join(
            f'<li class="menu-item"><a href="/{_slugify(title)}/{_slugify(item)}">'
            f"{escape(item)}</a></li>"
            for item in items
        )
        + "</ul></div>"
        for title, items in FOOTER_MENUS.items()
    )
    social = "".join(
        f'<li><a href="https://www.{n}.com/thewilsoncenter" class="social social--{n}"'
        f' aria-label="{n.title()}"><svg viewBox="0 0 24 24" width="20" height="20"><path'
        f' d="M12 2C6.5 2 2 6.5 2 12s4.5 10 10 10 10-4.5 10-10S17.5 2 12 2z'
        f'm{len(n)} 5h-2c-1 0-1 .5-1 1v2h3l-.5 3H11v7H8v-7H6v-3h2V8c0-2 1-4 4-4h3z"/>'
        "</svg></a></li>"
        for n in ("facebook", "twitter", "linkedin", "youtube", "instagram")
    )
    cookie_js = (
        "(function(){var b=document.getElementById('sliding-popup');if(!b){return;}"
        "var k='cookie-agreed';if(document.cookie.indexOf(k+'=2')>-1){b.style.display='none';}"
        "b.querySelectorAll('button').forEach(function(x){x.addEventListener('click',function(){"
        "document.cookie=k+'=2;path=/;max-age=31536000';b.style.display='none';});});})();"
    )
    return f"""  <footer class="footer" role="contentinfo">
    <div class="newsletter">
      <h2 class="newsletter__title">Stay up to date</h2>
      <p class="newsletter__text">Sign up for the Digital Archive newsletter: new collections,
         translations and research, in your inbox every month.</p>
      <form class="newsletter-form" action="/newsletter/subscribe" method="post"
            accept-charset="UTF-8">
        <label for="newsletter-email" class="visually-hidden">Email address</label>
        <input type="email" id="newsletter-email" name="email" placeholder="Email address" required>
        <input type="hidden" name="form_id" value="newsletter_signup_form">
        <input type="hidden" name="form_build_id" value="form-3kT9xq2Vb0mZpL7wYc4HsE1uNfJdRaOiG5">
        <button type="submit" class="button">Subscribe</button>
      </form>
    </div>
    <div class="footer__menus container">{columns}</div>
    <ul class="footer__social">{social}</ul>
    <div class="footer__legal">
      <p>The Wilson Center is a nonpartisan policy forum chartered by the US Congress in 1968.</p>
      <p>&copy; Woodrow Wilson International Center for Scholars. All rights reserved.
         One Woodrow Wilson Plaza, 1300 Pennsylvania Avenue NW, Washington, DC 20004-3027.</p>
    </div>
  </footer>
  </div>
  <div class="cookie-banner eu-cookie-compliance-banner" id="sliding-popup" role="alertdialog"
       aria-describedby="popup-text">
    <div class="popup-content info">
      <div id="popup-text"><h2>We use cookies on this site to enhance your user experience</h2>
        <p>By clicking any link on this page you are giving your consent for us to set cookies.</p>
      </div>
      <div id="popup-buttons"><button type="button" class="agree-button">OK, I agree</button>
        <button type="button" class="decline-button">No, thanks</button></div>
    </div>
  </div>
  <script>{cookie_js}</script>
  <script src="/sites/default/files/js/js_Wb7vQ2_main.js?scope=footer&amp;delta=0"></script>
"""


def share_links(path: str, title: str) -> str:
    url = escape(f"https://digitalarchive.wilsoncenter.org{path}", quote=True)
    text = escape(title, quote=True)
    return (
        '    <div class="share" aria-label="Share">'
        f'<a class="share__link" href="https://twitter.com/intent/tweet?url={url}&amp;text={text}">'
        "Share on X</a>"
        f'<a class="share__link" href="https://www.facebook.com/sharer/sharer.php?u={url}">'
        "Share on Facebook</a>"
        f'<a class="share__link" href="mailto:?subject={text}&amp;body={url}">Email</a>'
        '<button class="share__print" onclick="window.print()">Print</button></div>\n'
    )


def page(title: str, body_class: str, head_extra: str, main: str) -> str:
    """A whole page around `main` (the <main> element's inner HTML)."""
    return (
        '<!DOCTYPE html>\n<html lang="en" dir="ltr">\n<head>\n  <meta charset="utf-8">\n'
        f"  <title>{escape(title)} | {SITE_NAME}</title>\n"
        f"{head_extra}{head_assets()}"
        f'</head>\n<body class="{body_class}">\n{header()}'
        f'  <main id="main-content" role="main" class="main container">\n{main}  </main>\n'
        f"{footer()}</body>\n</html>\n"
    )
