"""A small TCP proxy for tests: forwards to a backend (PostgreSQL), or refuses, or freezes.

- `forward()`: pass bytes both ways (the default);
- `refuse()`: close the listening socket and cut every open connection: new connections are refused,
  as when the database server is down;
- `freeze()`: keep every socket open but pass no bytes, and accept new connections without answering,
  as when the server or the network hangs (no statement timeout on the server can fire then).
"""
from __future__ import annotations

import select
import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.mode = "forward"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by refuse() or close()
            try:
                backend = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, backend]
            for source, sink in ((client, backend), (backend, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([source], [], [], 0.05)
                if self.mode == "freeze" or not readable:
                    if self.mode == "refuse":
                        return
                    continue
                data = source.recv(65536)
                if not data:
                    return
                while self.mode == "freeze":
                    time.sleep(0.02)
                sink.sendall(data)
        except (OSError, ValueError):  # a socket closed under us by refuse()
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.close()
                except OSError:
                    pass

    def _cut_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def forward(self) -> None:
        self.mode = "forward"
        if self._listener is None:
            self._listen()

    def freeze(self) -> None:
        self.mode = "freeze"

    def refuse(self) -> None:
        self.mode = "refuse"
        if self._listener is not None:
            try:  # wakes the thread blocked in accept(); close() alone leaves the port listening
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        self._cut_all()

    def close(self) -> None:
        self.refuse()
