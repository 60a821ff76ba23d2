#!/usr/bin/env python3
"""Audio upstream for bench/audio.sh (127.0.0.1 only): OpenAI's /v1/audio/transcriptions (reads the upload as it
arrives and keeps none of it, answers json with a duration usage) and /v1/audio/speech (after a fixed 20 ms "synthesis"
pause, 32 chunks of 8 KiB, flushed one by one). Usage: audio_upstream.py PORT MAX_SECONDS"""
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _drain(self):
        n = 0
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return n
                left = size
                while left:
                    left -= len(self.rfile.read(min(left, 1 << 16)))
                n += size
                self.rfile.readline()
        left = int(self.headers.get("Content-Length") or 0)
        while left:
            got = self.rfile.read(min(left, 1 << 16))
            if not got:
                break
            left -= len(got)
            n += len(got)
        return n

    def do_POST(self):
        size = self._drain()
        if self.path.endswith("/audio/transcriptions"):
            body = json.dumps({"text": "bench transcript", "usage": {"type": "duration", "seconds": round(size / 32000, 3)}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.endswith("/audio/speech"):
            time.sleep(0.02)
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"\x01" * 8192
            for _ in range(32):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    threading.Timer(float(sys.argv[2]), server.shutdown).start()
    server.serve_forever()
