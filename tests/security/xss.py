"""An XSS corpus and an auditor for rendered pages.

Every payload that would load something points at /xss-marker/<n> on the site itself, so the
browser test sees the request even where the CSP would allow it (same origin): a request there
means the markup survived, whatever the CSP did.
"""

from html.parser import HTMLParser

from cards.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, is_media_url

MARKER = "/xss-marker/"

PAYLOADS = [
    "<script>fetch('/xss-marker/1')</script>",
    '<img src="/xss-marker/2" onerror="alert(2)">',
    '<svg onload="alert(3)"><circle r="1"/></svg>',
    "<svg><script>fetch('/xss-marker/4')</script></svg>",
    "[click me](javascript:alert(5))",
    '<a href="javascript:alert(6)">x</a>',
    '<a href="JaVaScRiPt:alert(7)">x</a>',
    "[tab](jav&#x09;ascript:alert(8))",
    '<iframe src="/xss-marker/9"></iframe>',
    '<div hx-get="/xss-marker/10" hx-trigger="load">x</div>',
    '<div data-hx-get="/xss-marker/11" data-hx-trigger="load">x</div>',
    '<button hx-post="/xss-marker/12" hx-trigger="load">x</button>',
    '<div hx-on:htmx:load="alert(13)">x</div>',
    "<div hx-on::load=\"fetch('/xss-marker/14')\">x</div>",
    "<style>body{background:url(/xss-marker/15)}</style>",
    '<p style="background:url(/xss-marker/16)">x</p>',
    '<div style="width:expression(alert(17))">x</div>',
    '"><script>alert(18)</script>',
    "</textarea><script>alert(19)</script>",
    "</div></div></details><img src=/xss-marker/20 onerror=alert(20)>",
    "<img src=/xss-marker/21 onerror=alert(21)//",
    '<object data="/xss-marker/22"></object>',
    '<embed src="/xss-marker/23">',
    "<math><mtext><table><mglyph><style><img src=/xss-marker/24 onerror=alert(24)>",
    '<details open ontoggle="alert(25)">x</details>',
    '<body onload="alert(26)">',
    '<input autofocus onfocus="alert(27)">',
    '<form action="/xss-marker/28"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=/xss-marker/29">',
    '<base href="/xss-marker/30/">',
    '<link rel="stylesheet" href="/xss-marker/31">',
    "![image](/xss-marker/32)",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgzMyk8L3NjcmlwdD4=)",
    '<a href="/" hx-boost="true" hx-get="/xss-marker/34">boost</a>',
    "{{ request.user.password }} {% debug %} ${alert(35)}",
    "`<script>alert(36)</script>` in a code span",
    "```html\n<script>fetch('/xss-marker/37')</script>\n```",
    '<noscript><p title="</noscript><img src=/xss-marker/38 onerror=alert(38)>">',
    "<template><script>alert(39)</script></template>",
    '<a href="&#106;avascript:alert(40)">entity</a>',
    '<div hx-vals=\'{"a": 1}\' hx-headers=\'{"x": 1}\' hx-swap-oob="true" id="main">oob</div>',
    '<video><source src="/xss-marker/42" onerror="alert(42)"></video>',
    "<javascript:alert(43)>",
    '<img srcset="/xss-marker/44 1x">',
    '<svg><a xlink:href="javascript:alert(45)"><text y="20">x</text></a></svg>',
    '<table background="/xss-marker/46"><tr><td>x</td></tr></table>',
    "</title><style>*{display:none}</style><script>alert(47)</script>",
    "<scr<script>ipt>alert(48)</script>",
    "**bold <img src=/xss-marker/49 onerror=alert(49)>** and *em*",
    '<a href="https://example.invalid/" onclick="alert(50)" hx-on:click="alert(50)">ok</a>',
    '<span class="htmx-indicator" hx-trigger="every 1s" hx-get="/xss-marker/51">x</span>',
    "| a | b |\n|---|---|\n| <img src=/xss-marker/52 onerror=alert(52)> | x |",
    '| left | right |\n|:--|--:|\n| <p style="color:red">53</p> | [x](javascript:alert(53)) |',
]

# Attributes that load, navigate or run something: a marker or a script URL in one is a hole.
ACTIVE_ATTRS = {"src", "href", "action", "formaction", "data", "srcset", "poster", "background",
                "xlink:href", "content", "ping", "style"}  # fmt: skip
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


def _is_hx(name: str) -> bool:
    return name.startswith(("hx-", "data-hx-"))


class PageAudit(HTMLParser):
    """Finds what user text must never become: scripts, handlers, hx attributes, active URLs.

    Inside a user-content container (an element with `hx-disable`) only the Markdown allow-list
    may appear; anywhere on the page, no handler, no inline script or style, no script URL, and
    no attribute that loads the marker.
    """

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}  # fmt: skip

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, opens a user-content container)
        self.problems: list[str] = []
        self.user_content_blocks = 0
        self._in_script = False

    @property
    def in_user_content(self) -> bool:
        return any(opens for _, opens in self.stack)

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        self._check(tag, attrs)
        if tag == "script":
            self._in_script = True
        if tag not in self.VOID:
            opens = "hx-disable" in names
            self.user_content_blocks += opens
            self.stack.append((tag, opens))

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]!r}")

    def _check(self, tag, attrs):
        where = "user content" if self.in_user_content else "page"
        for name, value in attrs:
            value = value or ""
            compact = "".join(value.split()).lower()
            if name.startswith("on"):
                self.problems.append(f"{where}: <{tag} {name}> handler")
            if name == "style":
                self.problems.append(f"{where}: <{tag} style> (the CSP blocks inline styles)")
            if name in ACTIVE_ATTRS and (MARKER in value or compact.startswith(BAD_SCHEMES)):
                self.problems.append(f"{where}: <{tag} {name}={value[:60]!r}>")
            if _is_hx(name) and (MARKER in value or "alert(" in value):
                self.problems.append(f"{where}: <{tag} {name}={value[:60]!r}>")
        src = dict(attrs).get("src") or ""
        if tag == "script" and not (src.startswith("/") and not src.startswith("//")):
            self.problems.append(f"{where}: <script src={src!r}> is not a file of this site")
        if tag in ("style", "iframe", "object", "embed", "base", "frame"):
            self.problems.append(f"{where}: <{tag}>")
        if self.in_user_content:
            if tag not in ALLOWED_TAGS:
                self.problems.append(f"user content: <{tag}> is not in the allow-list")
            if tag == "img" and not is_media_url(src):
                self.problems.append(f"user content: <img src={src!r}> is not this site's media")
            allowed = ALLOWED_ATTRIBUTES.get(tag, set())
            for name, _ in attrs:
                if name not in allowed and name not in ("rel",):
                    self.problems.append(f"user content: <{tag} {name}> is not allowed")


def audit(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    parser.close()
    return parser
