#!/usr/bin/env python3
"""The report as a person sees it (issue #23, item 4): render report.html in headless Chromium.

FLAGS (edit them here; each names a part of the report that the check requires):

  REQUIRE_NAV = True            the page has a <nav> table of contents, rendered, whose links
                                all land on an element of the page. False: a missing <nav> is a
                                warning, not a failure (a <nav> that is present is still checked).
  REQUIRE_KEY_FINDINGS = False  a "Key findings" section (heading "Key findings"). False: its
                                absence is only a warning. Flip to True once the rebuilt report
                                has the section, so that losing it fails CI.
  REQUIRE_FLOW_DIAGRAM = False  a patient flow diagram: an <svg> whose aria-label contains
                                "flow" (or an <svg> inside <figure class="flow">), with a
                                non-zero rendered size. False: its absence is only a warning.

  The sections every report must have, and the minimum number of charts, are in SECTIONS and
  MIN_CHARTS just below the flags: the one place to change what the check expects.

What it checks (each prints PASS, WARN or FAIL; any FAIL exits 1):
  1. load      the page loads (Page.navigate to file://...report.html, the load event fires)
               with no console error, no uncaught exception, no error in the browser's log
               (a bad SVG attribute, a resource that failed to load, ...), and no request for
               anything but the file itself (the report is self-contained);
  2. sections  the <nav> and each heading of SECTIONS are present and rendered, and the <nav>
               links to each section marked so;
  3. charts    every chart image (each outermost inline <svg>, each <img>) has a non-zero
               rendered size and non-empty drawn content, at least MIN_CHARTS of them. A chart
               inside a collapsed <details> is measured with the <details> opened (a reader
               clicks it open), then the <details> is closed again;
  4. pixels    the first screen (VIEWPORT, at the top of the page) is not blank: the PNG from
               Page.captureScreenshot is decoded here (zlib + PNG filters, stdlib) and must have
               at least MIN_INK_SHARE non-white pixels and MIN_COLOURS distinct colours; the
               full page, captured at 1/4 scale, must pass the same test.
  Besides: a warning, never a failure, when the page is wider than the window.
Screenshots go to OUT (default target/report-check/): first-screen.png (what opens),
full-page.png (the whole page at scale 1; clipped to MAX_FULL_PAGE_PX if taller), and
result.json (everything measured).

Usage:
  scripts/report_check.py                 build (cargo build), run `bonemet run data/demo`
                                          into a temporary directory, check its report.html
  scripts/report_check.py REPORT.html     check an existing report
  options: --out DIR  --chromium PATH  --timeout SECONDS (browser part, default 60)  --keep

Chromium: `chromium` on PATH (Debian: apt-get install -y chromium), or --chromium, or
$CHROMIUM. It is started as
  chromium --headless=new --remote-debugging-port=0 --user-data-dir=TMP --no-sandbox ...
(--no-sandbox because CI runs as root), the DevTools websocket URL is read from its stderr,
and the DevTools protocol is spoken over a minimal websocket client written here (handshake,
masked text frames). Python 3 stdlib only. Exit codes: 0 all checks pass, 1 a check failed,
2 the check could not run (no Chromium, the build or the demo run failed, a timeout).
"""

# ---- flags: what the check requires (see the docstring above) ---------------------------
REQUIRE_NAV = True
REQUIRE_KEY_FINDINGS = False
REQUIRE_FLOW_DIAGRAM = False

# ---- what the report must contain: the one place to change it ----------------------------
# (heading the section starts with, required?, must the <nav> link to it?)
# A section is found by a heading (h1-h4) whose text starts with the given words (case and
# spacing ignored); "linked from the nav" means a nav link's #target is the heading, its
# <section>, or an element containing the heading.
SECTIONS = [
    ("Key findings", REQUIRE_KEY_FINDINGS, False),
    ("Table 1", True, True),
    ("Methods", True, True),
    ("Disclosure control", True, True),
]
MIN_CHARTS = 10  # outermost inline <svg> and <img>, the flow diagram not counted
FLOW_DIAGRAM_SELECTOR = 'svg[aria-label*="flow" i], figure.flow svg'

# ---- how the page is looked at ------------------------------------------------------------
VIEWPORT = (1280, 900)  # CSS pixels, device scale factor 1
MIN_INK_SHARE = 0.02  # share of pixels that are not (near) white
MIN_COLOURS = 4  # distinct colours (4 bits per channel)
NEAR_WHITE = 245  # a pixel with every channel >= this counts as white
MAX_FULL_PAGE_PX = 60000  # full-page.png is clipped to this many CSS pixels of height

import argparse, base64, hashlib, json, os, re, shutil, socket, struct, subprocess, sys
import tempfile, threading, time, urllib.parse, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CheckError(Exception):
    """The check could not run (exit 2), as opposed to a check that failed (exit 1)."""


# ---- a minimal websocket client (RFC 6455): handshake, masked text frames ---------------

class WebSocket:
    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url, timeout):
        u = urllib.parse.urlparse(url)
        if u.scheme != "ws":
            raise CheckError(f"not a ws:// URL: {url}")
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + (("?" + u.query) if u.query else "")
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        while b"\r\n\r\n" not in self.buf:
            self._fill(time.monotonic() + timeout)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise CheckError(f"websocket handshake refused: {lines[0]}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        want = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise CheckError("websocket handshake: wrong Sec-WebSocket-Accept")

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError from None
        if not chunk:
            raise CheckError("DevTools closed the websocket")
        self.buf += chunk

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        # Client frames are masked: XOR with the 4-byte key repeated, done on big integers.
        keystream = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(n, "big")
        self.sock.sendall(head + mask + masked)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def recv(self, deadline):
        """The next whole text message (fragments joined; pings answered)."""
        parts = []
        while True:
            b0, b1 = self._take(2, deadline)
            fin, opcode, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._take(2, deadline))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._take(8, deadline))[0]
            mask = self._take(4, deadline) if b1 & 0x80 else None
            payload = self._take(n, deadline)
            if mask:
                keystream = (mask * (n // 4 + 1))[:n]
                payload = (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(n, "big")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            if opcode == 0x8:
                raise CheckError("DevTools closed the websocket")
            parts.append(payload)
            if fin:
                return b"".join(parts).decode()

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


# ---- the DevTools protocol over one browser connection, pages as flat sessions ----------

class DevTools:
    def __init__(self, ws_url, deadline):
        self.deadline = deadline
        self.ws = WebSocket(ws_url, max(1.0, deadline - time.monotonic()))
        self.next_id = 0
        self.events = []  # every event received, in order: (sessionId, method, params)

    def _read_one(self):
        try:
            msg = json.loads(self.ws.recv(self.deadline))
        except TimeoutError:
            raise CheckError("timed out talking to Chromium (raise --timeout?)") from None
        if "method" in msg:
            self.events.append((msg.get("sessionId"), msg["method"], msg.get("params", {})))
        return msg

    def call(self, method, params=None, session=None):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = self._read_one()
            if reply.get("id") == mid:
                if "error" in reply:
                    raise CheckError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    def wait_event(self, method, session, since=0):
        """Wait for `method` on `session` among the events from index `since` on."""
        i = since
        while True:
            while i < len(self.events):
                sid, name, params = self.events[i]
                if name == method and sid == session:
                    return params
                i += 1
            self._read_one()

    def evaluate(self, session, expression, await_promise=False):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": await_promise}, session)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CheckError(f"evaluating the check's own script failed: "
                             f"{d.get('exception', {}).get('description') or d.get('text')}")
        return r["result"].get("value")


# ---- PNG decoding (8-bit RGB/RGBA, non-interlaced: what Chromium writes) ----------------

def decode_png(data):
    """(width, height, channels, rows): rows is a list of bytes, one per scanline, unfiltered."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise CheckError("screenshot is not a PNG")
    pos, idat, width = 8, [], None
    while pos < len(data):
        (length,), kind = struct.unpack("!I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack("!IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise CheckError(f"unexpected PNG format (depth {depth}, colour type {colour}, "
                                 f"interlace {interlace})")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if width is None:
        raise CheckError("PNG without IHDR")
    raw = zlib.decompress(b"".join(idat))
    stride, bpp = width * channels, channels
    rows, prev = [], bytes(stride)
    for y in range(height):
        off = y * (stride + 1)
        kind, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up: byte-wise addition of two rows at once, carries masked off
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            low = int.from_bytes(b"\x7f" * stride, "big")
            line = bytearray((((a & low) + (b & low)) ^ ((a ^ b) & ~low & ((1 << 8 * stride) - 1)))
                             .to_bytes(stride, "big"))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        elif kind != 0:
            raise CheckError(f"PNG filter type {kind} unknown")
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def ink(png):
    """Share of non-white pixels and number of distinct colours (4 bits a channel)."""
    width, height, ch, rows = decode_png(png)
    inked, colours = 0, set()
    for row in rows:
        r, g, b = row[0::ch], row[1::ch], row[2::ch]
        for x, y, z in zip(r, g, b):
            if x < NEAR_WHITE or y < NEAR_WHITE or z < NEAR_WHITE:
                inked += 1
                colours.add((x >> 4, y >> 4, z >> 4))
    if inked < width * height:
        colours.add((15, 15, 15))
    return width, height, inked / max(1, width * height), len(colours)


# ---- the page-side measurements (one Runtime.evaluate; the report itself has no script) --

MEASURE_JS = r"""
(() => {
  const norm = s => (s || '').replace(/\s+/g, ' ').trim();
  const box = el => { const r = el.getBoundingClientRect();
                      return {w: Math.round(r.width * 10) / 10, h: Math.round(r.height * 10) / 10}; };
  const flowSel = %FLOW%;
  const headings = [...document.querySelectorAll('h1, h2, h3, h4')].map(h => {
    const b = box(h);
    const ids = []; for (let e = h; e; e = e.parentElement) if (e.id) ids.push(e.id);
    return {text: norm(h.textContent), tag: h.tagName.toLowerCase(), ids, w: b.w, h: b.h};
  });
  const nav = document.querySelector('nav');
  let navInfo = null;
  if (nav) {
    const links = [...nav.querySelectorAll('a[href]')].map(a => {
      const href = a.getAttribute('href');
      const target = href.startsWith('#') ? document.getElementById(decodeURIComponent(href.slice(1))) : null;
      return {href, text: norm(a.textContent), resolves: !!target};
    });
    const b = box(nav);
    navInfo = {w: b.w, h: b.h, links, navs: document.querySelectorAll('nav').length};
  }
  // Charts: each outermost <svg>, each <img>. Measured as laid out, then with every closed
  // <details> opened (what a reader sees after clicking), then the <details> closed again.
  const charts = [...document.querySelectorAll('svg, img')]
    .filter(e => e.tagName.toLowerCase() === 'img' || !e.parentElement.closest('svg'));
  const describe = e => {
    const b = box(e);
    let drawn = null;
    if (e.tagName.toLowerCase() === 'svg') {
      try { const bb = e.getBBox(); drawn = {w: bb.width, h: bb.height}; } catch (_) { drawn = null; }
    } else {
      drawn = {w: e.naturalWidth, h: e.naturalHeight, complete: e.complete};
    }
    return {w: b.w, h: b.h, drawn};
  };
  const closedBefore = charts.map(e => { const d = e.closest('details:not([open])'); return !!d; });
  const asLaidOut = charts.map(describe);
  const closed = [...document.querySelectorAll('details:not([open])')];
  closed.forEach(d => d.open = true);
  const opened = charts.map(describe);
  closed.forEach(d => d.open = false);
  const flows = new Set(document.querySelectorAll(flowSel));
  const chartInfo = charts.map((e, i) => ({
    tag: e.tagName.toLowerCase(),
    label: norm(e.getAttribute('aria-label') || e.getAttribute('alt') || e.getAttribute('src') || ''),
    section: (e.closest('section[id]') || {}).id || null,
    flow: flows.has(e),
    inClosedDetails: closedBefore[i],
    laidOut: asLaidOut[i],
    measured: opened[i],
  }));
  window.scrollTo(0, 0);
  return {
    title: document.title,
    headings, nav: navInfo, charts: chartInfo,
    details: {all: document.querySelectorAll('details').length, closed: closed.length},
    ids: [...document.querySelectorAll('[id]')].length,
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
    viewport: {w: window.innerWidth, h: window.innerHeight},
  };
})()
"""


def measure_page(dt, session):
    return dt.evaluate(session, MEASURE_JS.replace("%FLOW%", json.dumps(FLOW_DIAGRAM_SELECTOR)))


# ---- Chromium -------------------------------------------------------------------------------

def find_chromium(explicit):
    for cand in (explicit, os.environ.get("CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome", "google-chrome-stable"):
        if cand and shutil.which(cand):
            return shutil.which(cand)
    raise CheckError("Chromium not found: apt-get install -y chromium (Debian), "
                     "or pass --chromium PATH / set CHROMIUM")


def launch(chromium, profile, deadline):
    args = [chromium, "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={profile}",
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--mute-audio", "--hide-scrollbars",
            "--force-color-profile=srgb", "--font-render-hinting=none",
            f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", "about:blank"]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    stderr_lines, found = [], []
    ready = threading.Event()

    def drain():  # read stderr to the end, so Chromium never blocks on a full pipe
        for raw in proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            stderr_lines.append(line)
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m and not found:
                found.append(m.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    ready.wait(max(0.1, deadline - time.monotonic()))
    if not found:
        stop(proc)
        tail = "\n    ".join(stderr_lines[-15:])
        raise CheckError(f"Chromium did not print its DevTools URL (exit {proc.poll()}):\n    {tail}")
    return proc, found[0], stderr_lines


def stop(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 15)  # the process group of the Chromium this script started
        except ProcessLookupError:
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)


# ---- the checks -------------------------------------------------------------------------

class Results:
    def __init__(self):
        self.lines, self.failed = [], 0

    ORDER = ("load", "sections", "charts", "pixels")

    def add(self, status, check, text):
        self.lines.append((status, check, text))
        if status == "FAIL":
            self.failed += 1

    def print(self):
        """The lines in the order of the checks (1-4), each check's lines as they came."""
        for status, check, text in sorted(self.lines, key=lambda l: self.ORDER.index(l[1])):
            print(f"{status:4}  {check:8}  {text}", flush=True)

    def need(self, required, flag, check, text_missing):
        """A missing part: FAIL when required, else WARN naming the flag that would make it fail."""
        if required:
            self.add("FAIL", check, f"{text_missing} ({flag} = True)")
        else:
            self.add("WARN", check, f"{text_missing} (tolerated: {flag} = False)")


def fold(s):
    return re.sub(r"\s+", " ", s).strip().lower()


def check_console(res, events, session, page_url):
    errors, warnings, requests = [], [], []
    for sid, name, p in events:
        if sid != session:
            continue
        if name == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append("uncaught exception: " + (d.get("exception", {}).get("description") or d.get("text", "")))
        elif name == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            if p.get("type") in ("error", "assert"):
                errors.append(f"console.{p['type']}: {text}")
            elif p.get("type") == "warning":
                warnings.append(f"console.warn: {text}")
        elif name == "Log.entryAdded":
            e = p.get("entry", {})
            where = f" ({e['url']}" + (f":{e['lineNumber']}" if "lineNumber" in e else "") + ")" if e.get("url") else ""
            if e.get("level") == "error":
                errors.append(f"{e.get('source', 'log')} error: {e.get('text', '')}{where}")
            elif e.get("level") == "warning":
                warnings.append(f"{e.get('source', 'log')} warning: {e.get('text', '')}{where}")
        elif name == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if url != page_url and not url.startswith(("data:", "about:")):
                requests.append(url)
        elif name == "Network.loadingFailed" and not p.get("canceled"):
            errors.append(f"a request failed: {p.get('errorText')}")
    for w in warnings:
        res.add("WARN", "load", w[:300])
    if errors:
        for e in errors:
            res.add("FAIL", "load", e[:500])
    else:
        res.add("PASS", "load", "loaded with no console error, exception or browser-log error")
    if requests:
        for u in sorted(set(requests)):
            res.add("FAIL", "load", f"requests a resource outside the file: {u[:200]}")
    else:
        res.add("PASS", "load", "self-contained: no request beyond the file itself")


def check_sections(res, page):
    headings = [h for h in page["headings"] if h["w"] > 0 and h["h"] > 0]
    nav = page["nav"]
    nav_targets = {l["href"][1:] for l in (nav or {}).get("links", []) if l["href"].startswith("#")}
    if nav is None:
        res.need(REQUIRE_NAV, "REQUIRE_NAV", "sections", "no <nav> element: the report has no table of contents")
    elif nav["w"] <= 0 or nav["h"] <= 0:
        res.need(REQUIRE_NAV, "REQUIRE_NAV", "sections", f"<nav> present but not rendered ({nav['w']}x{nav['h']} px)")
    elif not nav["links"]:
        res.need(REQUIRE_NAV, "REQUIRE_NAV", "sections", "<nav> present but holds no link")
    else:
        broken = [l["href"] for l in nav["links"] if l["href"].startswith("#") and not l["resolves"]]
        if broken:
            more = f" and {len(broken) - 10} more" if len(broken) > 10 else ""
            res.add("FAIL", "sections", f"{len(broken)} of the <nav>'s {len(nav['links'])} links land on "
                                        f"no element: {', '.join(broken[:10])}{more}")
        else:
            res.add("PASS", "sections", f"<nav> with {len(nav['links'])} links, each landing on the page "
                                        f"({nav['w']:.0f}x{nav['h']:.0f} px)")
    flags = {"Key findings": "REQUIRE_KEY_FINDINGS"}
    for words, required, in_nav in SECTIONS:
        hit = next((h for h in headings if fold(h["text"]).startswith(fold(words))), None)
        flag = flags.get(words, "SECTIONS")
        if hit is None:
            missing = f"no rendered heading starting \"{words}\""
            if required:
                seen = "; ".join(h["text"][:40] for h in headings[:30])
                res.add("FAIL", "sections", f"{missing} ({flag + ' = True; ' if flag != 'SECTIONS' else ''}"
                                            f"headings: {seen})")
            else:
                res.add("WARN", "sections", f"{missing} (tolerated: {flag} = False)" if flag != "SECTIONS"
                        else f"{missing} (optional in SECTIONS)")
            continue
        found = f"<{hit['tag']}> \"{hit['text'][:60]}\"" + (f" in #{hit['ids'][0]}" if hit["ids"] else "")
        if in_nav and nav is not None and not (set(hit["ids"]) & nav_targets):
            res.add("FAIL" if REQUIRE_NAV else "WARN", "sections",
                    f"{found}: the <nav> has no link to it (ids around it: {hit['ids'] or 'none'})")
        else:
            res.add("PASS", "sections", found)


def where(chart):
    return f" in #{chart['section']}" if chart["section"] else " outside any <section id>"


def check_charts(res, page):
    charts = page["charts"]
    flows = [c for c in charts if c["flow"]]
    others = [c for c in charts if not c["flow"]]
    bad = []
    for c in charts:
        m = c["measured"]
        d = m.get("drawn")
        if m["w"] <= 0 or m["h"] <= 0:
            bad.append(f"{c['tag']} \"{c['label'][:70]}\"{where(c)}: rendered {m['w']}x{m['h']} px")
        elif c["tag"] == "svg" and (not d or d["w"] <= 0 or d["h"] <= 0):
            bad.append(f"svg \"{c['label'][:70]}\"{where(c)}: draws nothing (content box {d})")
        elif c["tag"] == "img" and (not d or not d.get("complete") or d["w"] <= 0):
            bad.append(f"img \"{c['label'][:70]}\"{where(c)}: image not loaded")
    for b in bad:
        res.add("FAIL", "charts", b)
    hidden = sum(1 for c in charts if c["inClosedDetails"])
    note = f"; {hidden} inside a collapsed <details>, measured opened" if hidden else ""
    if len(others) < MIN_CHARTS:
        res.add("FAIL", "charts", f"{len(others)} chart images, fewer than MIN_CHARTS = {MIN_CHARTS}")
    elif not bad:
        sizes = sorted((c["measured"]["w"], c["measured"]["h"]) for c in others)
        res.add("PASS", "charts", f"{len(others)} chart images, each with a non-zero size and drawn content "
                                  f"(smallest {sizes[0][0]:.0f}x{sizes[0][1]:.0f} px){note}")
    if flows:
        f = flows[0]["measured"]
        if f["w"] > 0 and f["h"] > 0:
            res.add("PASS", "charts", f"patient flow diagram, {f['w']:.0f}x{f['h']:.0f} px")
    else:
        res.need(REQUIRE_FLOW_DIAGRAM, "REQUIRE_FLOW_DIAGRAM", "charts",
                 f"no patient flow diagram (no element matches {FLOW_DIAGRAM_SELECTOR})")


def check_width(res, page):
    """Not one of the four checks: a page wider than the window is a warning (sideways scroll)."""
    if page["width"] > page["viewport"]["w"]:
        res.add("WARN", "pixels", f"the page is {page['width']} px wide in a {page['viewport']['w']} px "
                                  "window: a reader scrolls sideways")


def check_pixels(res, name, png):
    w, h, share, colours = ink(png)
    text = f"{name}: {w}x{h} px, {share:.1%} non-white, {colours} distinct colours"
    if share < MIN_INK_SHARE or colours < MIN_COLOURS:
        res.add("FAIL", "pixels", f"{text}: blank (needs >= {MIN_INK_SHARE:.0%} non-white and "
                                  f">= {MIN_COLOURS} colours)")
    else:
        res.add("PASS", "pixels", text)
    return {"width": w, "height": h, "non_white_share": share, "colours": colours}


def run_checks(report, out, chromium, timeout):
    report = os.path.abspath(report)
    if not os.path.isfile(report):
        raise CheckError(f"no such report: {report}")
    page_url = "file://" + urllib.parse.quote(report)
    os.makedirs(out, exist_ok=True)
    for stale in ("first-screen.png", "full-page.png", "result.json"):
        if os.path.exists(os.path.join(out, stale)):
            os.remove(os.path.join(out, stale))
    res, record = Results(), {"report": report}
    deadline = time.monotonic() + timeout
    profile = tempfile.mkdtemp(prefix="report-check-chromium-")
    proc = dt = None
    started = time.monotonic()
    try:
        proc, ws_url, chrome_log = launch(chromium, profile, deadline)
        dt = DevTools(ws_url, deadline)
        record["browser"] = dt.call("Browser.getVersion").get("product")
        target = dt.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = dt.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        dt.call("Emulation.setDeviceMetricsOverride", {"width": VIEWPORT[0], "height": VIEWPORT[1],
                                                       "deviceScaleFactor": 1, "mobile": False}, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            dt.call(f"{domain}.enable", {}, session)
        mark = len(dt.events)
        nav = dt.call("Page.navigate", {"url": page_url}, session)
        if nav.get("errorText"):
            res.add("FAIL", "load", f"Page.navigate: {nav['errorText']}")
            return res, record
        dt.wait_event("Page.loadEventFired", session, mark)
        dt.evaluate(session, "document.fonts.ready.then(() => true)", await_promise=True)
        time.sleep(0.3)  # late console messages
        dt.evaluate(session, "1")
        record["load_seconds"] = round(time.monotonic() - started, 2)
        print(f"loaded {report} in {record['browser']} ({record['load_seconds']} s)", flush=True)

        page = measure_page(dt, session)
        record["page"] = page
        check_sections(res, page)
        check_charts(res, page)
        check_width(res, page)

        shot = base64.b64decode(dt.call("Page.captureScreenshot", {"format": "png"}, session)["data"])
        with open(os.path.join(out, "first-screen.png"), "wb") as f:
            f.write(shot)
        record["first_screen"] = check_pixels(res, "first screen", shot)

        metrics = dt.call("Page.getLayoutMetrics", {}, session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width, height = int(size["width"]), int(size["height"])
        record["page_size_css_px"] = [width, height]
        small = base64.b64decode(dt.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 0.25}}, session)["data"])
        record["full_page_quarter_scale"] = check_pixels(res, "full page at 1/4 scale", small)
        full = base64.b64decode(dt.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(height, MAX_FULL_PAGE_PX), "scale": 1}},
            session)["data"])
        with open(os.path.join(out, "full-page.png"), "wb") as f:
            f.write(full)
        if height > MAX_FULL_PAGE_PX:
            res.add("WARN", "pixels", f"full-page.png clipped to {MAX_FULL_PAGE_PX} of {height} px")

        dt.evaluate(session, "1")  # collect anything logged while measuring and capturing
        check_console(res, dt.events, session, page_url)
        record["chromium_stderr_tail"] = chrome_log[-20:]
        try:
            dt.call("Browser.close")
        except CheckError:
            pass
    finally:
        if dt:
            dt.ws.close()
        if proc:
            stop(proc)
        shutil.rmtree(profile, ignore_errors=True)
    record["results"] = [{"status": s, "check": c, "text": t} for s, c, t in res.lines]
    record["flags"] = {"REQUIRE_NAV": REQUIRE_NAV, "REQUIRE_KEY_FINDINGS": REQUIRE_KEY_FINDINGS,
                       "REQUIRE_FLOW_DIAGRAM": REQUIRE_FLOW_DIAGRAM}
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(record, f, indent=1)
    return res, record


def demo_report(workdir):
    """cargo build, then `bonemet run data/demo --out WORKDIR/demo`; the path of its report.html."""
    t = time.monotonic()
    if subprocess.run(["cargo", "build", "--quiet"], cwd=ROOT).returncode != 0:
        raise CheckError("cargo build failed")
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    binary = os.path.join(json.loads(meta.stdout)["target_directory"], "debug", "bonemet")
    print(f"built {binary} ({time.monotonic() - t:.1f} s)", flush=True)
    t = time.monotonic()
    out_dir = os.path.join(workdir, "demo")
    run = subprocess.run([binary, "run", os.path.join(ROOT, "data", "demo"), "--out", out_dir],
                         cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-3000:] + run.stderr[-3000:])
        raise CheckError(f"bonemet run data/demo exited {run.returncode}")
    print(f"ran bonemet run data/demo --out {out_dir} ({time.monotonic() - t:.1f} s)", flush=True)
    return os.path.join(out_dir, "report.html")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", nargs="?", help="report.html to check (default: build, run the demo "
                                              "into a temporary directory, check its report)")
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "report-check"),
                    help="where the screenshots and result.json go (default target/report-check)")
    ap.add_argument("--chromium", help="the Chromium binary (default: chromium on PATH, or $CHROMIUM)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds for the browser part (default 60)")
    ap.add_argument("--keep", action="store_true", help="keep the demo run's directory (printed)")
    args = ap.parse_args()
    started = time.monotonic()
    workdir = None
    try:
        chromium = find_chromium(args.chromium)
        report = args.report
        if report is None:
            workdir = tempfile.mkdtemp(prefix="report-check-")
            report = demo_report(workdir)
        res, _ = run_checks(report, args.out, chromium, args.timeout)
        res.print()
    except CheckError as e:
        print(f"report check could not run: {e}", file=sys.stderr)
        return 2
    finally:
        if workdir and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif workdir:
            print(f"kept {workdir}")
    flags = (f"REQUIRE_NAV={REQUIRE_NAV} REQUIRE_KEY_FINDINGS={REQUIRE_KEY_FINDINGS} "
             f"REQUIRE_FLOW_DIAGRAM={REQUIRE_FLOW_DIAGRAM}")
    where = os.path.relpath(args.out, os.getcwd())
    total = time.monotonic() - started
    if res.failed:
        print(f"report check FAILED: {res.failed} failure(s) ({flags}); screenshots in {where}/ "
              f"({total:.1f} s)")
        return 1
    warned = sum(1 for s, _, _ in res.lines if s == "WARN")
    print(f"report check passed ({warned} warning(s); {flags}); screenshots in {where}/ ({total:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
