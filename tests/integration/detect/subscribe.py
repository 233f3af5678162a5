#!/usr/bin/env python3
"""events.subscribe client: connects to the dataplane control socket, asks for the event stream
and appends every event line to OUT (flushed per line) until killed; OUT.ready appears
once the stream is acknowledged."""
import json
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(b'{"v":1,"cmd":"events.subscribe"}\n')
buf = b""
first = True
with open(out, "a") as f:
    while True:
        data = s.recv(65536)
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if first:
                first = False
                ack = json.loads(line)
                if not ack.get("ok") or ack.get("stream") != "events.subscribe":
                    sys.exit("subscribe refused: %s" % line)
                open(out + ".ready", "w").close()  # the test starts traffic only now
                continue
            f.write(line.decode() + "\n")
            f.flush()
