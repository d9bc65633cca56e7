#!/usr/bin/env python3
"""A test upstream for the proxy's end-to-end tests, run inside the test's own network
namespace: plain HTTP on the given ports answers "<METHOD> <path>" (and the request's Host),
and with --tls PORT:CERT:KEY an HTTPS listener does the same; on a --sink PORT a raw TCP
server reads until the client's half-close, answers "got <bytes> <sha256>" and closes. Exits when
killed."""
import argparse
import hashlib
import http.server
import socketserver
import ssl
import threading


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        text = (f"{self.command} {self.path} host={self.headers.get('Host')} body={len(body)}"
                f" upgrade={self.headers.get('Upgrade')} via={self.headers.get('Via')}\n")
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = answer

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Sink(socketserver.BaseRequestHandler):
    def handle(self):
        n, h = 0, hashlib.sha256()
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            n += len(data)
            h.update(data)
        self.request.sendall(f"got {n} {h.hexdigest()}\n".encode())


class SinkServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, action="append", default=[])
    ap.add_argument("--tls", action="append", default=[])
    ap.add_argument("--sink", type=int, action="append", default=[])
    a = ap.parse_args()
    servers = [Server((a.bind, p), Echo) for p in a.port]
    servers += [SinkServer((a.bind, p), Sink) for p in a.sink]
    for spec in a.tls:
        port, cert, key = spec.split(":")
        s = Server((a.bind, int(port)), Echo)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        s.socket = ctx.wrap_socket(s.socket, server_side=True)
        servers.append(s)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
