#!/usr/bin/env python3
"""Loads a page in headless Chromium over the DevTools protocol and reports what happened.

Usage: browser_check.py URL SCREENSHOT.png [AUTHORIZATION]

Prints one JSON object: whether the load event fired, every console message,
uncaught exception, failed request and HTTP error the page caused, the number of
timeline marks in the DOM, and how much of the saved screenshot is not background.
Chromium runs with a private profile and is stopped by its PID; every wait is bounded.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # websocket-client, from PyPI
from PIL import Image  # Pillow, from PyPI

TIMEOUT = 30.0


def start_chromium(profile):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise SystemExit("chromium is not installed (Debian: apt-get install chromium)")
    log = open(os.path.join(profile, "chromium.log"), "wb")
    process = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-background-networking", "--disable-sync", "--hide-scrollbars",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir=" + profile,
         "--window-size=1280,900", "about:blank"],
        stdout=log, stderr=log, start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("chromium exited with status %s; see %s" % (process.returncode, log.name))
        try:
            with open(port_file) as handle:
                port = int(handle.readline().strip())
            return process, port
        except (FileNotFoundError, ValueError):
            time.sleep(0.1)
    stop(process)
    raise SystemExit("chromium did not open its DevTools port within %d s" % TIMEOUT)


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class DevTools:
    def __init__(self, url):
        self.socket = websocket.create_connection(url, timeout=TIMEOUT, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError("%s failed: %s" % (method, message["error"]))
                return message.get("result", {})
            self.events.append(message)
        raise TimeoutError(method)

    def wait_for(self, event, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(e.get("method") == event for e in self.events):
                return True
            self.socket.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.socket.recv()))
            except websocket.WebSocketTimeoutException:
                break
        return any(e.get("method") == event for e in self.events)

    def drain(self, seconds):
        self.wait_for("-none-", seconds)


def main():
    url, screenshot = sys.argv[1], sys.argv[2]
    authorization = sys.argv[3] if len(sys.argv) > 3 else None
    profile = tempfile.mkdtemp(prefix="governor-chromium-")
    process = None
    try:
        process, port = start_chromium(profile)
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=TIMEOUT) as response:
            targets = json.load(response)
        page = next(t for t in targets if t.get("type") == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.call(domain + ".enable")
        if authorization:
            tools.call("Network.setExtraHTTPHeaders", headers={"Authorization": authorization})
        tools.call("Page.navigate", url=url)
        loaded = tools.wait_for("Page.loadEventFired", TIMEOUT)
        tools.drain(0.5)
        marks = tools.call("Runtime.evaluate", expression="document.querySelectorAll('circle.run[data-run-at]').length",
                           returnByValue=True)["result"].get("value")
        lines = tools.call("Runtime.evaluate", expression="document.querySelectorAll('tr.school-line').length",
                           returnByValue=True)["result"].get("value")
        title = tools.call("Runtime.evaluate", expression="document.title", returnByValue=True)["result"].get("value")
        shot = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(screenshot, "wb") as handle:
            handle.write(base64.b64decode(shot["data"]))
        tools.drain(0.2)

        console, exceptions, failures, http_errors = [], [], [], []
        for event in tools.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                console.append({"level": params.get("type"), "text": text})
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                console.append({"level": entry.get("level"), "text": entry.get("text"), "url": entry.get("url")})
            elif method == "Runtime.exceptionThrown":
                exceptions.append(params.get("exceptionDetails", {}).get("text"))
            elif method == "Network.loadingFailed":
                failures.append(params.get("errorText"))
            elif method == "Network.responseReceived":
                status = params.get("response", {}).get("status", 0)
                if status >= 400:
                    http_errors.append({"url": params["response"].get("url"), "status": status})

        image = Image.open(screenshot).convert("RGB")
        width, height = image.size
        background = image.getpixel((width - 1, height - 1))
        small = image.resize((max(1, width // 4), max(1, height // 4)))
        raw = small.tobytes()
        pixels = [tuple(raw[i:i + 3]) for i in range(0, len(raw), 3)]
        differing = sum(1 for p in pixels if max(abs(p[i] - background[i]) for i in range(3)) > 16)
        report = {
            "loaded": loaded, "title": title, "marks": marks, "lines": lines,
            "console": console, "exceptions": exceptions, "failures": failures, "http_errors": http_errors,
            "screenshot": screenshot, "width": width, "height": height,
            "colors": len(set(pixels)), "non_background_fraction": differing / len(pixels),
        }
        print(json.dumps(report))
    finally:
        if process is not None:
            stop(process)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
