"""A handheld on slow Wi-Fi: a loopback TCP proxy in front of the station's web server that delays
every byte, each way, by ``delay_s`` (in order, nothing lost). Chromium opens the proxy's URL; the
page and the station are the real ones. Only the latency is made up: a test cannot get a slow
wireless network on loopback otherwise."""

from __future__ import annotations

import queue
import socket
import threading
import time


class SlowNetwork:
    """``SlowNetwork(url, delay_s)``; ``.url`` to open instead of ``url``; ``close()`` when done."""

    def __init__(self, url: str, delay_s: float) -> None:
        host, port = url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
        self.upstream = (host, int(port))
        self.delay_s = delay_s
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(32)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/"
        self.sockets: list[socket.socket] = [self.server]
        threading.Thread(target=self._accept, name="slow-network", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
                upstream = socket.create_connection(self.upstream)
            except OSError:
                return
            self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                line: queue.Queue[tuple[float, bytes]] = queue.Queue()
                threading.Thread(target=self._read, args=(src, line), daemon=True).start()
                threading.Thread(target=self._write, args=(dst, line), daemon=True).start()

    def _read(self, src: socket.socket, line: queue.Queue[tuple[float, bytes]]) -> None:
        try:
            while data := src.recv(65536):
                line.put((time.monotonic() + self.delay_s, data))
        except OSError:
            pass
        line.put((time.monotonic() + self.delay_s, b""))

    @staticmethod
    def _write(dst: socket.socket, line: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            due, data = line.get()
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass
