#!/usr/bin/python3
"""Real receivers for the alerting integration test, on loopback.

  peers.py http   --port P --log F [--dingtalk-secret S] [--feishu-secret S]
  peers.py syslog --udp P --tcp P --tls P --cert C --key K --log F
  peers.py smtp   --port P --cert C --key K --log F

Each prints READY on stdout once listening and appends one JSON object per received message to
the log. The HTTP receiver checks the exact JSON shape each robot API documents (no missing or
extra keys, the size limits) and verifies DingTalk's and Feishu's signatures, replying the way
the real API does (errcode / code != 0 on a bad message). The syslog receiver parses RFC 5424
(octet-counting framing on TCP and TLS). The SMTP sink (aiosmtpd) requires STARTTLS.
"""
import argparse
import base64
import hashlib
import hmac
import json
import re
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def log(path, obj):
    with LOCK, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(obj, ensure_ascii=False) + "\n")


def keys_exactly(obj, required, optional=()):
    if not isinstance(obj, dict):
        return "not an object"
    missing = set(required) - set(obj)
    extra = set(obj) - set(required) - set(optional)
    if missing:
        return "missing keys %s" % sorted(missing)
    if extra:
        return "unexpected keys %s" % sorted(extra)
    return None


def check_wecom(body, query):
    if not query.get("key"):
        return 93000, "invalid webhook url"
    err = keys_exactly(body, ["msgtype", body.get("msgtype", "")])
    if err:
        return 40008, err
    if body["msgtype"] == "markdown":
        err = keys_exactly(body["markdown"], ["content"])
        if err or not isinstance(body["markdown"]["content"], str):
            return 40008, err or "content"
        if len(body["markdown"]["content"].encode()) > 4096:
            return 40058, "markdown.content exceeds 4096 bytes"
    elif body["msgtype"] == "text":
        t = body["text"]
        err = keys_exactly(t, ["content"], ["mentioned_list", "mentioned_mobile_list"])
        if err:
            return 40008, err
        if len(t["content"].encode()) > 2048:
            return 40058, "text.content exceeds 2048 bytes"
        for k in ("mentioned_list", "mentioned_mobile_list"):
            if k in t and not all(isinstance(x, str) for x in t[k]):
                return 40008, k
    else:
        return 40008, "invalid message type"
    return 0, "ok"


def check_dingtalk(body, query, secret):
    if not query.get("access_token"):
        return 300001, "token is not exist"
    if secret:
        ts = query.get("timestamp", "")
        sign = query.get("sign", "")  # parse_qs already URL-decoded it
        if not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 3600 * 1000:
            return 310000, "timestamp invalid"
        want = base64.b64encode(hmac.new(secret.encode(), (ts + "\n" + secret).encode(),
                                         hashlib.sha256).digest()).decode()
        if sign != want:
            return 310000, "sign not match"
    mt = body.get("msgtype")
    if mt != "markdown":
        return 40035, "unexpected msgtype %r" % mt
    err = keys_exactly(body, ["msgtype", "markdown"], ["at"])
    err = err or keys_exactly(body["markdown"], ["title", "text"])
    if "at" in body:
        err = err or keys_exactly(body["at"], [], ["atMobiles", "atUserIds", "isAtAll"])
        if not isinstance(body["at"].get("isAtAll", False), bool):
            err = "isAtAll must be a boolean"
    if err:
        return 40035, err
    return 0, "ok"


def check_feishu(body, secret):
    if secret:
        ts = body.get("timestamp", "")
        if not isinstance(ts, str) or not ts.isdigit() or abs(int(ts) - time.time()) > 3600:
            return 19021, "sign match fail or timestamp is not within one hour from current time"
        want = base64.b64encode(hmac.new((ts + "\n" + secret).encode(), b"",
                                         hashlib.sha256).digest()).decode()
        if body.get("sign") != want:
            return 19021, "sign match fail or timestamp is not within one hour from current time"
    err = keys_exactly(body, ["msg_type", "content"], ["timestamp", "sign"])
    if err:
        return 9499, err
    if body["msg_type"] != "post":
        return 9499, "unexpected msg_type"
    post = body["content"].get("post", {}).get("zh_cn")
    err = keys_exactly(post, ["title", "content"])
    if err:
        return 9499, err
    for para in post["content"]:
        for el in para:
            if el.get("tag") != "text" or keys_exactly(el, ["tag", "text"]):
                return 9499, "bad post element %r" % el
    return 0, "success"


def run_http(a):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, obj, status=200):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ctype = self.headers.get("Content-Type", "")
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            entry = {"path": url.path, "query": query, "content_type": ctype, "body": body,
                     "user_agent": self.headers.get("User-Agent", "")}
            if body is None or not ctype.startswith("application/json"):
                entry["rejected"] = "not JSON"
                log(a.log, entry)
                return self.reply({"error": "not json"}, 400)
            if url.path == "/hook":
                err = keys_exactly(body, ["version", "source", "alert"])
                entry["kind"] = "webhook"
                if err:
                    entry["rejected"] = err
                log(a.log, entry)
                return self.reply({"ok": err is None}, 200 if err is None else 422)
            if url.path == "/cgi-bin/webhook/send":
                entry["kind"] = "wecom"
                code, msg = check_wecom(body, query)
                res = {"errcode": code, "errmsg": msg}
            elif url.path == "/robot/send":
                entry["kind"] = "dingtalk"
                code, msg = check_dingtalk(body, query, a.dingtalk_secret)
                res = {"errcode": code, "errmsg": msg}
            elif url.path.startswith("/open-apis/bot/v2/hook/"):
                entry["kind"] = "feishu"
                code, msg = check_feishu(body, a.feishu_secret)
                res = {"code": code, "msg": msg, "data": {}}
            else:
                return self.reply({"error": "no route"}, 404)
            if code != 0:
                entry["rejected"] = msg
            log(a.log, entry)
            self.reply(res)  # the robot APIs answer HTTP 200 with an error code

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    print("READY", flush=True)
    srv.serve_forever()


SYSLOG_RE = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)"
                       r"(?: (.*))?$", re.S)
PARAM_RE = re.compile(r'(\S+?)="((?:[^"\\]|\\.)*)"')


def parse_5424(text, transport):
    m = SYSLOG_RE.match(text)
    if not m:
        return {"transport": transport, "rejected": "not RFC 5424", "raw": text}
    pri, ts, host, app, procid, msgid, sd, msg = m.groups()
    sd_id = None
    params = {}
    if sd != "-":
        sd_id = sd[1:].split(" ", 1)[0]
        for k, v in PARAM_RE.findall(sd[1 + len(sd_id):-1]):
            params[k] = re.sub(r'\\(["\\\]])', r"\1", v)
    msg = msg or ""
    bom = msg.startswith("\ufeff")
    return {"transport": transport, "pri": int(pri), "timestamp": ts, "hostname": host,
            "app": app, "procid": procid, "msgid": msgid, "sd_id": sd_id, "sd": params,
            "bom": bom, "msg": msg[1:] if bom else msg}


def read_octet_counted(f, transport, path):
    while True:
        n = b""
        while True:
            c = f.read(1)
            if not c:
                return
            if c == b" ":
                break
            if not c.isdigit() or len(n) > 8:
                log(path, {"transport": transport, "rejected": "bad frame length"})
                return
            n += c
        data = b""
        while len(data) < int(n):
            chunk = f.read(int(n) - len(data))
            if not chunk:
                log(path, {"transport": transport, "rejected": "truncated frame"})
                return
            data += chunk
        log(path, parse_5424(data.decode("utf-8"), transport))


def run_syslog(a):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", a.udp))

    def udp_loop():
        while True:
            data, _ = udp.recvfrom(65536)
            log(a.log, parse_5424(data.decode("utf-8"), "udp"))

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)

    def stream_server(port, tls):
        class H(socketserver.StreamRequestHandler):
            def handle(self):
                if tls:
                    conn = ctx.wrap_socket(self.request, server_side=True)
                    f = conn.makefile("rb")
                else:
                    f = self.rfile
                read_octet_counted(f, "tls" if tls else "tcp", a.log)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        srv = socketserver.ThreadingTCPServer(("127.0.0.1", port), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    threading.Thread(target=udp_loop, daemon=True).start()
    stream_server(a.tcp, False)
    stream_server(a.tls, True)
    print("READY", flush=True)
    threading.Event().wait()


def run_smtp(a):
    from email import message_from_bytes
    from email.header import decode_header, make_header
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            msg = message_from_bytes(envelope.original_content)
            body = msg.get_payload(decode=True).decode("utf-8")
            log(a.log, {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                        "tls": session.ssl is not None,
                        "subject": str(make_header(decode_header(msg["Subject"]))),
                        "from": msg["From"], "to": msg["To"], "message_id": msg["Message-ID"],
                        "alert_id": msg["X-Campusguard-Alert-Id"], "body": body})
            return "250 Message accepted for delivery"

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    c = Controller(Handler(), hostname="127.0.0.1", port=a.port, require_starttls=True,
                   tls_context=ctx)
    c.start()
    print("READY", flush=True)
    threading.Event().wait()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("http")
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--log", required=True)
    h.add_argument("--dingtalk-secret", default="")
    h.add_argument("--feishu-secret", default="")
    s = sub.add_parser("syslog")
    for k in ("--udp", "--tcp", "--tls"):
        s.add_argument(k, type=int, required=True)
    for k in ("--cert", "--key", "--log"):
        s.add_argument(k, required=True)
    m = sub.add_parser("smtp")
    m.add_argument("--port", type=int, required=True)
    for k in ("--cert", "--key", "--log"):
        m.add_argument(k, required=True)
    a = p.parse_args()
    {"http": run_http, "syslog": run_syslog, "smtp": run_smtp}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
