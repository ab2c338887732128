#!/usr/bin/env python3
# The operator's key service for webhook_auth_e2etest.sh: answers the
# gateway's webhook calls by api_key, and appends each call's JSON body to
# LOG (one line each) for the test to read.
#   webhook_auth_server.py LOG TOKEN   (prints "listening on 127.0.0.1:PORT")
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

LOG, TOKEN = sys.argv[1], sys.argv[2]
ANSWERS = {
    "sk-alice": (200, {"name": "alice", "user_id": "team-a"}),
    "sk-any": (200, {}),
    "sk-office": (200, {"name": "office", "allowed_ips": "192.0.2.0/24"}),
    "sk-blocked": (403, {"error": "blocked"}),
}

class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(LOG, "a") as f:
            f.write(body.decode() + "\n")
        if self.headers.get("X-Hook-Token") != TOKEN:
            status, answer = 500, {"error": "wrong token"}
        else:
            status, answer = ANSWERS.get(json.loads(body)["api_key"], (401, {"error": "unknown"}))
        out = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Hook)
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
