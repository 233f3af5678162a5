"""Independent reader of snmpsim .snmprec recordings: computes what `cgctl -o json topology probe`
must print for a recording, from the recording alone. Shares no code with campusguard; it follows
the rules written in snmp/discovery/README.md (name = ifName else ifDescr, speed from ifHighSpeed
else ifSpeed, LLDP local-port mapping, FDB port mapping, ...)."""
import ipaddress

SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)
SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
SYS_OBJECT_ID = (1, 3, 6, 1, 2, 1, 1, 2, 0)
ENT_PHYSICAL = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)
IP_ADDR = (1, 3, 6, 1, 2, 1, 4, 20, 1)
IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
LLDP_LOC_PORT = (1, 0, 8802, 1, 1, 2, 1, 3, 7, 1)
LLDP_REM = (1, 0, 8802, 1, 1, 2, 1, 4, 1, 1)
LLDP_MAN = (1, 0, 8802, 1, 1, 2, 1, 4, 2, 1)
CDP = (1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1)
BASE_PORT = (1, 3, 6, 1, 2, 1, 17, 1, 4, 1)
DOT1D_FDB = (1, 3, 6, 1, 2, 1, 17, 4, 3, 1)
DOT1Q_FDB = (1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1)
VLAN_CURRENT = (1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1)
NET_TO_PHYS = (1, 3, 6, 1, 2, 1, 4, 35, 1)
NET_TO_MEDIA = (1, 3, 6, 1, 2, 1, 4, 22, 1)
UNSIGNED_TAGS = (65, 66, 67, 70)
MTXR = (1, 3, 6, 1, 4, 1, 14988, 1, 1, 11, 1, 1)
JNX_VLAN = (1, 3, 6, 1, 4, 1, 2636, 3, 48, 1, 3, 1, 1)
MAX_INDEX = 2147483647


def load(path):
    """{oid tuple: (tag, value)}; value is int, bytes, or an OID tuple. Unparseable lines (e.g.
    IpAddress values anonymised as text) are left out, as an agent could not serve them."""
    rec = {}
    with open(path, 'rb') as f:
        for raw in f:
            line = raw.rstrip(b'\r\n').decode('latin-1')
            if not line or line.startswith('#'):
                continue
            parts = line.split('|', 2)
            if len(parts) != 3:
                continue
            try:
                oid = tuple(int(x) for x in parts[0].strip('.').split('.'))
            except ValueError:
                continue
            tag, val = parts[1], parts[2]
            hexed = tag.endswith('x')
            try:
                tag = int(tag[:-1] if hexed else tag)
                data = bytes.fromhex(val) if hexed else val.encode('latin-1')
                if tag == 2:
                    v = int(data)
                    if not -2**31 <= v < 2**31:
                        continue
                elif tag in (4, 68):
                    v = data
                elif tag == 6:
                    v = tuple(int(x) for x in data.decode().strip('.').split('.'))
                elif tag == 64:
                    v = data if hexed else bytes(int(x) for x in data.decode().split('.'))
                    if len(v) != 4:
                        continue
                elif tag in UNSIGNED_TAGS:
                    v = int(data)
                    if v < 0 or (tag != 70 and v > 0xffffffff):
                        continue
                else:
                    continue
            except (ValueError, UnicodeDecodeError):
                continue
            rec[oid] = (tag, v)
    return rec


def column(rec, entry, col):
    p = entry + (col,)
    return {oid[len(p):]: tv for oid, tv in rec.items() if oid[:len(p)] == p and len(oid) > len(p)}


def as_unsigned(tv):
    tag, v = tv
    if tag == 2:
        return v if v >= 0 else None
    return v if tag in UNSIGNED_TAGS else None


def as_integer(tv):
    tag, v = tv
    return v if tag == 2 or tag in UNSIGNED_TAGS else None


def as_bytes(tv):
    return tv[1] if tv[0] == 4 else None


def display(b):
    b = b.rstrip(b'\0')
    try:
        s = b.decode('utf-8')
    except UnicodeDecodeError:
        return ':'.join('%02x' % c for c in b)
    if any((ord(ch) < 0x20 and ch not in '\t\r\n') or ord(ch) == 0x7f for ch in s):
        return ':'.join('%02x' % c for c in b)
    return s


def mac(b):
    return ':'.join('%02x' % c for c in b) if len(b) == 6 else None


def ip(b):
    if len(b) == 4:
        return str(ipaddress.IPv4Address(b))
    if len(b) == 16:
        return str(ipaddress.IPv6Address(b))
    return None


def net_addr(b):
    if len(b) == 5 and b[0] == 1:
        return ip(b[1:])
    if len(b) == 17 and b[0] == 2:
        return ip(b[1:])
    return display(b)


def port_id_text(subtype, b):
    if subtype == 3 and len(b) == 6:
        return mac(b)
    if subtype == 4:
        return net_addr(b)
    return display(b)


def chassis_text(subtype, b):
    if subtype == 4 and len(b) == 6:
        return mac(b)
    if subtype == 5:
        return net_addr(b)
    return display(b)


def valid_index(v):
    return 0 < v <= MAX_INDEX


def expect(rec, fdb=True):
    """The expected JSON document (dict) for a recording."""
    missing = []
    out = {}

    def text_scalar(oid):
        tv = rec.get(oid)
        b = as_bytes(tv) if tv else None
        return display(b) if b is not None else None

    name, descr = text_scalar(SYS_NAME), text_scalar(SYS_DESCR)
    oid_tv = rec.get(SYS_OBJECT_ID)
    object_id = '.'.join(map(str, oid_tv[1])) if oid_tv and oid_tv[0] == 6 else None
    out['system'] = {'name': name, 'descr': descr, 'object_id': object_id}
    for label, v in (('sysName', name), ('sysDescr', descr), ('sysObjectID', object_id)):
        if v is None:
            missing.append(label)

    def table(label, entry, cols):
        got = [column(rec, entry, c) for c in cols]
        if not any(got):
            missing.append(label)
        return got

    # ENTITY-MIB: the chassis is the lowest-index row of class chassis(3) with no chassis among
    # its containers; model / serial are its entPhysicalModelName / SerialNum, trimmed, or null.
    cont_c, class_c, serial_c, model_c = table('entPhysicalTable', ENT_PHYSICAL, (4, 5, 11, 13))

    def ent(col, idx, kind):
        tv = col.get((idx,))
        if tv is None:
            return None
        if kind == 'text':
            return as_bytes(tv)
        v = as_unsigned(tv) if kind == 'contained' else as_integer(tv)
        if v is None or (kind == 'contained' and v > MAX_INDEX) or (
                kind == 'class' and not 1 <= v <= 12):
            return None
        return v

    ent_rows = sorted({i[0] for c in (cont_c, class_c, serial_c, model_c) for i in c
                       if len(i) == 1 and valid_index(i[0])})
    model = serial = None
    for idx in ent_rows:
        if ent(class_c, idx, 'class') != 3:
            continue
        up, inside, depth = ent(cont_c, idx, 'contained'), False, 0
        while depth < 32 and up and not inside:
            if up not in ent_rows:
                break
            inside = ent(class_c, up, 'class') == 3
            up = ent(cont_c, up, 'contained')
            depth += 1
        if inside:
            continue

        def trimmed(b):
            t = display(b).strip(' \t') if b is not None else ''
            return t or None
        model, serial = trimmed(ent(model_c, idx, 'text')), trimmed(ent(serial_c, idx, 'text'))
        break
    out['system']['model'] = model
    out['system']['serial'] = serial

    # Interfaces
    descr_c, type_c, speed_c, oper_c = table('ifTable', IF_ENTRY, (2, 3, 5, 8))
    name_c, high_c, alias_c = table('ifXTable', IFX_ENTRY, (1, 15, 18))
    rows = {}
    for col, key in ((descr_c, 'descr'), (name_c, 'name'), (alias_c, 'alias'), (type_c, 'type'),
                     (speed_c, 'speed'), (high_c, 'high'), (oper_c, 'oper')):
        for idx, tv in col.items():
            if len(idx) != 1 or not valid_index(idx[0]):
                continue
            r = rows.setdefault(idx[0], {})
            if key in ('descr', 'name', 'alias'):
                v = as_bytes(tv)
            elif key == 'type':
                v = as_integer(tv)
                v = v if v is not None and 1 <= v <= MAX_INDEX else None
            elif key in ('speed', 'high'):
                v = as_unsigned(tv)
                v = v if v is not None and v <= 0xffffffff else None
            else:
                v = as_integer(tv)
                v = v if v is not None and 1 <= v <= 7 else None
            if v is not None:
                r[key] = v
    oper_names = ['up', 'down', 'testing', 'unknown', 'dormant', 'notPresent', 'lowerLayerDown']
    interfaces = []
    for idx in sorted(rows):
        r = rows[idx]
        d = display(r['descr']) if 'descr' in r else ''
        n = display(r['name']) if 'name' in r else ''
        if r.get('high'):
            speed = r['high']
        elif 'speed' in r:
            speed = (r['speed'] + 500000) // 1000000
        else:
            speed = r.get('high')
        interfaces.append({'index': idx, 'name': n or d or str(idx),
                           'alias': display(r['alias']) if 'alias' in r else '',
                           'type': r.get('type'), 'speed_mbps': speed,
                           'oper_status': oper_names[r['oper'] - 1] if 'oper' in r else None,
                           '_descr': d})
    by_index = {i['index']: i for i in interfaces}

    def by_text(t):
        if not t:
            return None
        for i in interfaces:
            if i['name'] == t:
                return i
        for i in interfaces:
            if i['_descr'] == t:
                return i
        return None

    (bp_c,) = table('dot1dBasePortTable', BASE_PORT, (2,))
    base_port = {}
    for idx, tv in bp_c.items():
        v = as_unsigned(tv)
        if len(idx) == 1 and valid_index(idx[0]) and v is not None and 0 < v <= MAX_INDEX:
            base_port[idx[0]] = v

    # TP-Link: bridge-port table indexed by ifIndex, FDB / LLDP ports counted 1..n.
    ordinal = []
    if base_port and all(p == v and p > len(base_port) for p, v in base_port.items()):
        ordinal = [base_port[p] for p in sorted(base_port)]

    def by_ordinal(p):
        return by_index.get(ordinal[p - 1]) if 1 <= p <= len(ordinal) else None

    # LLDP
    loc = {}
    for col, key in zip(table('lldpLocPortTable', LLDP_LOC_PORT, (2, 3, 4)),
                        ('subtype', 'id', 'desc')):
        for idx, tv in col.items():
            if len(idx) != 1 or not valid_index(idx[0]):
                continue
            v = as_integer(tv) if key == 'subtype' else as_bytes(tv)
            r = loc.setdefault(idx[0], {})
            if v is not None:
                r[key] = v
    rem = {}
    rem_cols = table('lldpRemTable', LLDP_REM, (4, 5, 6, 7, 8, 9, 10))
    for col, key in zip(rem_cols, ('csub', 'cid', 'psub', 'pid', 'pdesc', 'name', 'sdesc')):
        for idx, tv in col.items():
            if not 1 <= len(idx) <= 3:
                continue
            v = as_integer(tv) if key in ('csub', 'psub') else as_bytes(tv)
            r = rem.setdefault(idx, {})
            if v is not None:
                r[key] = v
    mtxr = {}
    if any(len(k) == 1 for k in rem):
        (mt_c,) = table('mtxrNeighborTable', MTXR, (8,))
        for idx, tv in mt_c.items():
            v = as_unsigned(tv)
            if len(idx) == 1 and valid_index(idx[0]) and v is not None and 0 < v <= MAX_INDEX:
                mtxr[idx[0]] = v
    man = {}
    if rem:
        (man_c,) = table('lldpRemManAddrTable', LLDP_MAN, (3,))
        v4, v6 = {}, {}
        for idx in sorted(man_c):
            for p in (3, 2, 1):
                if len(idx) < p + 2 or idx[:p] not in rem:
                    continue
                n = idx[p + 1]
                if n != len(idx) - p - 2 or any(x > 255 for x in idx[p + 2:]):
                    continue
                addr = bytes(idx[p + 2:])
                if idx[p] == 1 and len(addr) == 4:
                    v4.setdefault(idx[:p], ip(addr))
                elif idx[p] == 2 and len(addr) == 16:
                    v6.setdefault(idx[:p], ip(addr))
                break
        man = dict(v6)
        man.update(v4)
    neighbors = []
    unmapped = 0
    for key in sorted(rem):
        r = rem[key]
        chassis = chassis_text(r.get('csub'), r['cid']) if 'cid' in r else ''
        sysname = display(r['name']) if 'name' in r else ''
        pid = port_id_text(r.get('psub'), r['pid']) if 'pid' in r else ''
        pdesc = display(r['pdesc']) if 'pdesc' in r else ''
        rport = pdesc if ((r.get('psub') in (3, 4) or not pid) and pdesc) else pid
        local, local_text = None, ''
        if len(key) >= 2:
            lp = key[-2]
            if lp in loc:
                lr = loc[lp]
                lid = port_id_text(lr.get('subtype'), lr['id']) if 'id' in lr else ''
                ldesc = display(lr['desc']) if 'desc' in lr else ''
                local = by_text(lid) or by_text(ldesc)
                local_text = lid or ldesc
            if local is None and lp in base_port:
                local = by_index.get(base_port[lp])
            if local is None:
                local = by_index.get(lp)
            if local is None:
                local = by_ordinal(lp)
        elif key[0] in mtxr:
            local = by_index.get(mtxr[key[0]])
        if local is None:
            unmapped += 1
        neighbors.append({'protocol': 'lldp',
                          'local_port': local['name'] if local else (local_text or None),
                          'remote_name': sysname or chassis, 'remote_port': rport,
                          'remote_address': man.get(key)})
    # CDP
    cdp = {}
    for col, key in zip(table('cdpCacheTable', CDP, (3, 4, 6, 7)),
                        ('atype', 'addr', 'devid', 'devport')):
        for idx, tv in col.items():
            if len(idx) != 2 or not valid_index(idx[0]):
                continue
            v = as_integer(tv) if key == 'atype' else as_bytes(tv)
            r = cdp.setdefault(idx, {})
            if v is not None:
                r[key] = v
    for key in sorted(cdp):
        r = cdp[key]
        local = by_index.get(key[0])
        addr = None
        if 'addr' in r and r.get('atype') in (None, 1, 20):
            addr = ip(r['addr'])
        neighbors.append({'protocol': 'cdp', 'local_port': local['name'] if local else None,
                          'remote_name': display(r['devid']) if 'devid' in r else '',
                          'remote_port': display(r['devport']) if 'devport' in r else '',
                          'remote_address': addr})

    # FDB
    fdb_rows, skipped = [], {}
    if fdb:
        qport, qstat = table('dot1qTpFdbTable', DOT1Q_FDB, (2, 3))

        def decode(port_c, stat_c, prefix):
            out = []
            for idx in sorted(port_c):
                if len(idx) != prefix + 6 or any(x > 255 for x in idx[prefix:]):
                    continue
                p = as_unsigned(port_c[idx])
                if p is None or p > MAX_INDEX:
                    skipped['bad_port'] = skipped.get('bad_port', 0) + 1
                    continue
                st = as_integer(stat_c[idx]) if idx in stat_c else None
                out.append({'mac': mac(bytes(idx[prefix:])),
                            'fdb_id': idx[0] if prefix else None, 'port': p, 'status': st})
            return out

        rows_q = decode(qport, qstat, 1) if any((qport, qstat)) else []
        vlans_of = {}
        have_map = False
        if any((qport, qstat)):
            (vf,) = table('dot1qVlanCurrentTable', VLAN_CURRENT, (3,))
            have_map = bool(vf)
            for idx, tv in vf.items():
                v = as_unsigned(tv)
                if len(idx) == 2 and 1 <= idx[1] <= 4094 and v is not None and v <= 0xffffffff:
                    vlans_of.setdefault(v, set()).add(idx[1])
        jnx = {}
        if any((qport, qstat)) and not have_map and any(r['fdb_id'] > 4094 for r in rows_q):
            (jc,) = table('jnxL2aldVlanTable', JNX_VLAN, (3,))
            for idx, tv in jc.items():
                v = as_unsigned(tv)
                if len(idx) == 1 and valid_index(idx[0]) and v is not None and 0 < v <= MAX_INDEX:
                    jnx[idx[0]] = v
        dport, dstat = table('dot1dTpFdbTable', DOT1D_FDB, (2, 3))
        qmacs = {r['mac'] for r in rows_q}
        rows_all = rows_q + [r for r in decode(dport, dstat, 0) if r['mac'] not in qmacs]
        for r in rows_all:
            if r['status'] == 2:
                skipped['invalid'] = skipped.get('invalid', 0) + 1
                continue
            if r['port'] == 0:
                skipped['port_zero_kept_null'] = skipped.get('port_zero_kept_null', 0) + 1
            vlan = None
            fid = r['fdb_id']
            if fid is not None:
                vs = vlans_of.get(fid)
                if have_map and vs is not None:
                    vlan = next(iter(vs)) if len(vs) == 1 else None
                elif fid % 65536 == 0 and (fid >> 16) in jnx and jnx[fid >> 16] <= 4094:
                    vlan = jnx[fid >> 16]
                elif 1 <= fid <= 4094:
                    vlan = fid
            itf = by_index.get(base_port[r['port']]) if r['port'] in base_port else None
            if itf is None:
                itf = by_index.get(r['port'])
            if itf is None:
                itf = by_ordinal(r['port'])
            fdb_rows.append({'mac': r['mac'], 'vlan': vlan, 'port': itf['name'] if itf else None})

    # ARP tables: asked in this order; ipNetToMediaTable only when ipNetToPhysical gave nothing.
    phys_c, _ = table('ipNetToPhysicalTable', NET_TO_PHYS, (4, 6))
    good_phys = [i for i, tv in phys_c.items()
                 if len(i) >= 3 and valid_index(i[0]) and i[2] == len(i) - 3 and i[2] in (4, 16)
                 and all(x <= 255 for x in i[3:]) and as_bytes(tv) is not None
                 and len(as_bytes(tv)) == 6]
    if not good_phys:
        table('ipNetToMediaTable', NET_TO_MEDIA, (2, 4))

    table('ipAddrTable', IP_ADDR, (1,))

    for i in interfaces:
        del i['_descr']
    out['interfaces'] = interfaces
    out['neighbors'] = neighbors
    out['fdb'] = fdb_rows
    out['missing'] = missing
    out['_notes'] = {'lldp_local_unmapped': unmapped, 'fdb_skipped': skipped}
    return out
