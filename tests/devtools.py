"""A minimal Chrome DevTools Protocol client over a loopback websocket (RFC 6455, client
side, text frames only), enough to press keys in a page and evaluate expressions in it."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import struct
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import browser


class Page:
    """A headless Chromium showing one page; `evaluate` and `press` talk to it."""

    def __init__(self, url: str, profile: Path) -> None:
        argv = [browser.browser(), *browser.FLAGS, f"--user-data-dir={profile}",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", url]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = self._port()
        deadline = time.monotonic() + 30
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
                pages = [t for t in json.load(answer) if t["type"] == "page" and t["url"].startswith("file:")]
            if pages or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert pages, "the page never opened"
        self.sock = _connect(pages[0]["webSocketDebuggerUrl"])
        self.next_id = 0
        # the first document may still be about:blank, already "complete": wait for ours
        loaded = "document.readyState === 'complete' && location.protocol === 'file:'"
        while not self.evaluate(loaded):
            assert time.monotonic() < deadline, "the page never finished loading"
            time.sleep(0.05)

    def _port(self) -> int:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                return int(found[1])
        raise AssertionError("chromium did not say where DevTools listens")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        _send(self.sock, json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(_receive(self.sock))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def press(self, key: str, code: str, key_code: int, text: str = "") -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=code,
                      windowsVirtualKeyCode=key_code, text=text if kind == "keyDown" else "")

    def close(self) -> None:
        self.sock.close()
        self.proc.terminate()
        self.proc.wait(10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()


def _connect(url: str) -> socket.socket:
    found = re.fullmatch(r"ws://127\.0\.0\.1:(\d+)(/.*)", url)
    assert found, url
    sock = socket.create_connection(("127.0.0.1", int(found[1])), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {found[2]} HTTP/1.1\r\nHost: 127.0.0.1:{found[1]}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _send(sock: socket.socket, text: str) -> None:
    data, mask = text.encode(), os.urandom(4)
    size = len(data)
    header = bytes([0x81]) + (bytes([0x80 | size]) if size < 126 else
                              bytes([0x80 | 126]) + struct.pack(">H", size) if size < 65536 else
                              bytes([0x80 | 127]) + struct.pack(">Q", size))
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def _receive(sock: socket.socket) -> str:
    parts = b""
    while True:
        first, second = _exactly(sock, 2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack(">H", _exactly(sock, 2))[0]
        elif size == 127:
            size = struct.unpack(">Q", _exactly(sock, 8))[0]
        parts += _exactly(sock, size)
        if first & 0x80:  # FIN
            return parts.decode()


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "DevTools closed the connection"
        data += chunk
    return data
