#!/usr/bin/env python3
"""802.1Q-tagged UDP/IPv4 frames over raw AF_PACKET sockets, for integration tests.

The test VM's kernel has no 8021q module (no VLAN interfaces), but a packet socket can still
send tagged frames on a veth and see them on the other side: the kernel moves the tag of a
received frame into the skb's metadata (PACKET_AUXDATA gives it back) and drops the frame
later as not-for-us, after every packet socket has had its copy.

  send  --iface cl0 --vlan 101 --vlan 102 [--rate-mbit 5] [--size 1000] [--seconds 5]
        [--count N] [--src 10.77.0.1] [--dst 10.77.0.2] [--flows 4] [--dst-mac MAC]
        [--out sent.json]
  count --iface in0 --seconds 6 [--bin 0.5] [--ready FILE] [--out counted.json]

Sizes and byte counts are whole frames as on the wire *with* the 4-byte tag and without the
FCS (what a DPDK port's pkt_len is for a tagged frame). `send` paces every VLAN's stream at
--rate-mbit of such bytes (0: as fast as it can), interleaving the VLANs, for --seconds or until
each VLAN has sent --count frames; IPv4 and UDP checksums are correct. It prints (or writes)
{"seconds": ..., "vlans": {"101": {"frames": n, "bytes": b}, ...}}. `count` captures for
--seconds and writes {"seconds", "bin", "kernel_drops", "vlans": {"101": {frames, bytes, bins}},
"untagged": {frames, bytes, bins}}, where bins[i] is the bytes received in
[i*bin, (i+1)*bin) seconds after the first counted frame (kernel receive timestamps).
Python stdlib only.
"""
import argparse
import json
import math
import os
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_8021Q = 0x8100
ETH_P_IP = 0x0800
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_STATISTICS = 6
TP_STATUS_VLAN_VALID = 1 << 4
PACKET_OUTGOING = 4
SCM_TIMESTAMPNS = 35  # == SO_TIMESTAMPNS
TAG_LEN = 4
HEADERS = 14 + TAG_LEN + 20 + 8  # Ethernet + 802.1Q + IPv4 + UDP


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def iface_mac(iface):
    with open(f"/sys/class/net/{iface}/address") as f:
        return mac_bytes(f.read().strip())


def frame(src_mac, dst_mac, vlan, src, dst, sport, dport, size, ident):
    """One tagged UDP/IPv4 frame of `size` bytes (tag included, FCS not)."""
    payload = bytes(size - HEADERS)
    udp_len = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, ident & 0xFFFF, 0x4000, 64,
                     socket.IPPROTO_UDP, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(
        "!BBH", 0, socket.IPPROTO_UDP, udp_len)
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    eth = dst_mac + src_mac + struct.pack("!HHH", ETH_P_8021Q, vlan & 0x0FFF, ETH_P_IP)
    return eth + ip + udp


def cmd_send(a):
    if a.size < HEADERS or a.size > 1518:
        sys.exit(f"--size must be {HEADERS}..1518 (a tagged frame without FCS)")
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((a.iface, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    src_mac = iface_mac(a.iface)
    dst_mac = mac_bytes(a.dst_mac) if a.dst_mac else b"\x02\x00\x00\x00\x00\x02"
    # Per VLAN: its frames (one per flow, source ports 40000+), next due time, counters.
    streams = [{"vlan": v, "due": 0.0, "frames": 0, "bytes": 0,
                "out": [frame(src_mac, dst_mac, v, a.src, a.dst, 40000 + f, 9000, a.size, f)
                        for f in range(a.flows)]} for v in a.vlan]
    gap = a.size * 8 / (a.rate_mbit * 1e6) if a.rate_mbit > 0 else 0.0
    start = time.monotonic()
    end = start + a.seconds
    for i, s in enumerate(streams):  # evenly spread: no VLAN always a whisker ahead
        s["due"] = start + i * gap / len(streams)
    while True:
        now = time.monotonic()
        if now >= end:
            break
        s = min(streams, key=lambda s: s["due"])  # the stream due first: VLANs interleave
        if s["due"] == math.inf:
            break  # every stream has sent --count frames
        if s["due"] > now:
            time.sleep(min(s["due"], end) - now)
            continue
        if gap and now - s["due"] > 0.01:
            s["due"] = now - 0.01  # descheduled: catch up by at most 10 ms, no burst beyond
        fr = s["out"][s["frames"] % len(s["out"])]
        sock.send(fr)
        s["frames"] += 1
        s["bytes"] += len(fr)
        s["due"] = math.inf if s["frames"] == a.count else s["due"] + (gap or 1e-9)
    out = {"seconds": round(time.monotonic() - start, 3),
           "vlans": {str(s["vlan"]): {"frames": s["frames"], "bytes": s["bytes"]}
                     for s in streams}}
    write(out, a.out)


def cmd_count(a):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.setsockopt(socket.SOL_SOCKET, SCM_TIMESTAMPNS, 1)
    sock.bind((a.iface, 0))
    sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # reading the statistics resets them
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
    counts = {}
    first = None
    end = time.monotonic() + a.seconds
    anc = socket.CMSG_SPACE(20) + socket.CMSG_SPACE(16)
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data, ancdata, _, addr = sock.recvmsg(65536, anc)
        except socket.timeout:
            break
        if addr[2] == PACKET_OUTGOING:
            continue
        vlan, ts = None, None
        length = len(data)
        for level, kind, blob in ancdata:
            if level == SOL_PACKET and kind == PACKET_AUXDATA:
                status, tp_len, _, _, _, tci, _ = struct.unpack("IIIHHHH", blob[:20])
                length = tp_len
                if status & TP_STATUS_VLAN_VALID:
                    vlan = tci & 0x0FFF
            elif level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", blob[:16])
                ts = sec + nsec / 1e9
        if vlan is None and length >= 18 and struct.unpack("!H", data[12:14])[0] == ETH_P_8021Q:
            vlan = struct.unpack("!H", data[14:16])[0] & 0x0FFF  # tag left in the data
        elif vlan is not None:
            length += TAG_LEN  # the kernel took the tag out of the data: count it back in
        ts = ts if ts is not None else time.time()
        first = ts if first is None else first
        c = counts.setdefault("untagged" if vlan is None else str(vlan),
                              {"frames": 0, "bytes": 0, "bins": []})
        c["frames"] += 1
        c["bytes"] += length
        b = max(0, int((ts - first) / a.bin))
        c["bins"].extend([0] * (b + 1 - len(c["bins"])))
        c["bins"][b] += length
    _, drops = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    out = {"seconds": a.seconds, "bin": a.bin, "kernel_drops": drops,
           "untagged": counts.pop("untagged", {"frames": 0, "bytes": 0, "bins": []}),
           "vlans": counts}
    write(out, a.out)


def write(obj, path):
    text = json.dumps(obj, sort_keys=True)
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, path)
    else:
        print(text)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send", help="send tagged UDP/IPv4 frames")
    s.add_argument("--iface", required=True)
    s.add_argument("--vlan", type=int, action="append", required=True,
                   help="VLAN id (1-4094); repeat for several interleaved streams")
    s.add_argument("--rate-mbit", type=float, default=0,
                   help="per VLAN, in wire bits incl. the tag; 0 = as fast as possible")
    s.add_argument("--size", type=int, default=1000, help="frame bytes incl. the tag, no FCS")
    s.add_argument("--seconds", type=float, default=5, help="at most this long")
    s.add_argument("--count", type=int, default=0, help="frames per VLAN, then stop (0: no limit)")
    s.add_argument("--src", default="10.77.0.1")
    s.add_argument("--dst", default="10.77.0.2")
    s.add_argument("--flows", type=int, default=1, help="distinct 5-tuples per VLAN")
    s.add_argument("--dst-mac")
    s.add_argument("--out")
    c = sub.add_parser("count", help="count frames and bytes per VLAN")
    c.add_argument("--iface", required=True)
    c.add_argument("--seconds", type=float, default=5)
    c.add_argument("--bin", type=float, default=0.5, help="seconds per bin of the time series")
    c.add_argument("--ready", help="file written once the socket is bound")
    c.add_argument("--out")
    a = p.parse_args()
    for v in getattr(a, "vlan", None) or []:
        if not 1 <= v <= 4094:
            p.error(f"VLAN {v} is not in 1-4094")
    cmd_send(a) if a.cmd == "send" else cmd_count(a)


if __name__ == "__main__":
    main()
