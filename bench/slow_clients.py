#!/usr/bin/env python3
"""Memory under slow clients: N connections each send an unfinished request
(a head of HEAD_BYTES without its blank line, or a head plus BODY_BYTES of a
larger declared body) and then wait; prints the gateway's RSS before and
while they hold, and how many connections the gateway closed.

  bench/slow_clients.py PID PORT [--conns 300] [--head-bytes 1000000] [--body-bytes 0]

PID is the llmproxy process (its /proc/PID/status is read), PORT its
listener. Every socket is closed at the end; the run is bounded (~10 s)."""
import argparse, socket, time

def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0

ap = argparse.ArgumentParser()
ap.add_argument("pid", type=int)
ap.add_argument("port", type=int)
ap.add_argument("--conns", type=int, default=300)
ap.add_argument("--head-bytes", type=int, default=1_000_000)
ap.add_argument("--body-bytes", type=int, default=0)
a = ap.parse_args()

before = rss_kb(a.pid)
socks, closed = [], 0
for i in range(a.conns):
    s = socket.create_connection(("127.0.0.1", a.port))
    s.setblocking(False)
    socks.append(s)
if a.body_bytes:
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {a.body_bytes * 2}\r\n\r\n").encode()
    payload = head + b"{" + b" " * (a.body_bytes - 1)
else:
    payload = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * a.head_bytes
sent = [0] * len(socks)
deadline = time.time() + 8
while time.time() < deadline and any(sent[i] < len(payload) for i in range(len(socks)) if socks[i]):
    for i, s in enumerate(socks):
        if s is None or sent[i] >= len(payload):
            continue
        try:
            sent[i] += s.send(payload[sent[i]:sent[i] + 65536])
        except BlockingIOError:
            pass
        except OSError:
            socks[i] = None
            closed += 1
time.sleep(1)
for i, s in enumerate(socks):
    if s is None:
        continue
    try:
        if s.recv(1, socket.MSG_PEEK) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
held = rss_kb(a.pid)
print(f"conns={a.conns} head_bytes={a.head_bytes} body_bytes={a.body_bytes} "
      f"rss_before={before // 1024}MB rss_holding={held // 1024}MB closed_by_gateway={closed}")
for s in socks:
    if s is not None:
        s.close()
