"""A file server on 127.0.0.1 that counts its requests, for the zoo's
download tests (no request leaves this machine)."""
import http.server
import os.path as osp
import threading
import time


class CountingServer:
    """Serves the files of ``root`` at ``http://127.0.0.1:<port>/<name>``.

    Attributes:
        requests (list[str]): The paths asked for, in order.
        html (set[str]): Names answered with an HTML page (Drive's quota
            page stands in), status 200.
        cut (set[str]): Names whose body stops halfway (the announced
            length is the whole file's).
        delay (float): Seconds to wait before answering (to make two
            clients overlap).
    """

    def __init__(self, root):
        self.root = str(root)
        self.requests = []
        self.html, self.cut = set(), set()
        self.delay = 0.0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):

            def do_GET(self):
                name = self.path.lstrip('/').split('?')[0]
                server.requests.append(name)
                time.sleep(server.delay)
                if name in server.html:
                    body = b'<!DOCTYPE html><html>Quota exceeded</html>'
                    self._send(body, 'text/html', len(body))
                    return
                path = osp.join(server.root, name)
                if not osp.isfile(path):
                    self.send_error(404)
                    return
                with open(path, 'rb') as f:
                    body = f.read()
                length = len(body)
                if name in server.cut:
                    body = body[:length // 2]
                self._send(body, 'application/octet-stream', length)

            def _send(self, body, kind, length):
                self.send_response(200)
                self.send_header('Content-Type', kind)
                self.send_header('Content-Length', str(length))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, daemon=True)

    def url(self, name):
        return f'http://127.0.0.1:{self.port}/{name}'

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
