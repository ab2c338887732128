#!/usr/bin/env python3
"""Time to first chunk through a raw socket, for bench/e2e.sh MODE=ttft.

  ttft_raw.py PORT COUNT WARMUP BODY

Sends WARMUP + COUNT streaming POSTs one after another on one keep-alive
connection (TCP_NODELAY) and prints, for each of the last COUNT, the
microseconds from the moment the request was written (sendall returned) to
the moment the first `data:` byte of the response body arrived. Every
response is read to its end (chunked or Content-Length) before the next
request, and must be a 200 on the same connection.
"""
import socket
import sys
import time

port, count, warmup, body = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
request = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/json\r\nAccept: text/event-stream\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body

sock = socket.create_connection(("127.0.0.1", port), timeout=10)
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
pending = b""  # bytes received but not yet consumed


def fill():
    global pending
    data = sock.recv(65536)
    if not data:
        sys.exit("ttft_raw: connection closed mid-response")
    pending += data


def take_line():
    global pending
    while b"\r\n" not in pending:
        fill()
    line, pending = pending.split(b"\r\n", 1)
    return line


def take(n):
    global pending
    while len(pending) < n:
        fill()
    out, pending = pending[:n], pending[n:]
    return out


def one_request():
    """Returns the time to the first body `data:` byte in nanoseconds."""
    global pending
    sock.sendall(request)
    t0 = time.perf_counter_ns()
    while b"\r\n\r\n" not in pending:
        fill()
    head, pending = pending.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 200"):
        sys.exit(f"ttft_raw: unexpected status {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    chunked = headers.get(b"transfer-encoding") == b"chunked"
    # The first `data:` byte: in the decoded body it is the first byte, on
    # the wire it comes after the first chunk-size line.
    if chunked:
        while b"\r\n" not in pending:
            fill()
        while b"data:" not in pending:
            fill()
    else:
        while not pending:
            fill()
    t1 = time.perf_counter_ns()
    if b"data:" not in pending[:32]:
        sys.exit(f"ttft_raw: body does not start with an SSE event: {pending[:40]!r}")
    # Read the rest so the connection is at the next response.
    if chunked:
        while True:
            size = int(take_line().split(b";")[0], 16)
            take(size + 2)
            if size == 0:  # no trailers from any target here
                break
    else:
        take(int(headers[b"content-length"]))
    if headers.get(b"connection") == b"close":
        sys.exit("ttft_raw: the server closed the keep-alive connection")
    return t1 - t0


for i in range(warmup + count):
    ns = one_request()
    if i >= warmup:
        print(ns // 1000)
