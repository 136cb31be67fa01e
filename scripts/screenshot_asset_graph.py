"""Take the README's screenshot of the Dagster asset graph with headless Chromium (Debian's `chromium`).

Usage: uv run python scripts/screenshot_asset_graph.py [URL] [OUT]
  URL: a running Dagster UI (default http://127.0.0.1:3000), OUT: default docs/asset-graph.png.
Drives Chromium over the DevTools protocol: dismisses the first-visit dialog, expands every asset
group in the global lineage, and captures the page.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets

# A tall window at half scale: the lineage is laid out top to bottom and fits at its default zoom.
WIDTH, HEIGHT = 3000, 5600
SCALE = 0.75
ZOOM_OUT_STEPS = 0


def _devtools_page(port: int) -> str:
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as response:
                pages = [p for p in json.load(response) if p["type"] == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("chromium did not open its DevTools port")


async def _capture(ws_url: str, url: str, out: Path) -> None:
    async with websockets.connect(ws_url, max_size=64 * 2**20) as ws:
        ids = iter(range(1, 10**6))

        async def call(method: str, **params):
            message_id = next(ids)
            await ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("id") == message_id:
                    return reply.get("result", {})

        async def js(expression: str):
            return (await call("Runtime.evaluate", expression=expression, awaitPromise=True))["result"]

        await call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=SCALE,
            mobile=False,
        )
        await call("Page.enable")
        await call("Page.navigate", url=url)
        await asyncio.sleep(8)
        # the first-visit "Join the Dagster community" dialog
        await js(
            "[...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Skip')?.click()"
        )
        await asyncio.sleep(1)
        # expand every collapsed group (a click on its node toggles it; the UI remembers it), then reload:
        # the whole graph is laid out to fit the window
        for _ in range(3):
            for _ in range(12):
                clicked = await js(
                    "(() => { const n = document.querySelector('[class*=collapsedGroupNodeContainer]');"
                    " if (!n) return false; n.click(); return true; })()"
                )
                if not clicked.get("value"):
                    break
                await asyncio.sleep(3)
            await call("Page.reload")
            await asyncio.sleep(8)
        # the layout is taller than any window: zoom out until the whole graph shows
        for _ in range(ZOOM_OUT_STEPS):
            await call(
                "Input.dispatchMouseEvent",
                type="mouseWheel",
                x=WIDTH // 2 + 200,
                y=HEIGHT // 2,
                deltaX=0,
                deltaY=300,
            )
            await asyncio.sleep(0.3)
        await asyncio.sleep(2)
        shot = await call("Page.captureScreenshot", format="png")
        out.write_bytes(base64.b64decode(shot["data"]))


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/asset-graph.png")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium not found: `apt-get install chromium`")
    port = 9333
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            asyncio.run(_capture(_devtools_page(port), f"{url.rstrip('/')}/asset-groups", out))
        finally:
            browser.terminate()
            browser.wait(10)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
