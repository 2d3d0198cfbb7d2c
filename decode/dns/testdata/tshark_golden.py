#!/usr/bin/env python3
"""Write tshark.jsonl: tshark's dissection of every DNS message (port 53) in the
shared captures, in the shape Parse produces, so shared_test.go can compare.

Run from decode/dns:  python3 testdata/tshark_golden.py ../../../shared/testdata/pcap > testdata/tshark.jsonl
Made with TShark 4.x (Debian bookworm). Answer data is rendered from tshark's
fields with our presentation rules (root "." instead of "<Root>"; TXT strings
quoted and escaped like dig, from the raw bytes tshark reports).
"""
import json, os, subprocess, sys
import xml.etree.ElementTree as ET

# header flag bit -> flow.DNSFlag* bit (AA, TC, RD, RA, AD, CD); tshark omits AA/RA/rcode fields on queries.
FLAGS = [(0x0400, 1), (0x0200, 2), (0x0100, 4), (0x0080, 8), (0x0020, 16), (0x0010, 32)]

def name(s):
    return "." if s == "<Root>" else s

def txt(raw):
    out = '"'
    for c in raw:
        if c in (0x22, 0x5c):
            out += "\\" + chr(c)
        elif c < 0x20 or c > 0x7e:
            out += "\\%03d" % c
        else:
            out += chr(c)
    return out + '"'

def fields(el):
    return {f.get("name"): f for f in el.iter("field")}

def answer(rr):
    kids = list(rr)
    get = lambda n: next((f for f in kids if f.get("name") == n), None)
    typ = int(get("dns.resp.type").get("show"))
    ttl = int(get("dns.resp.ttl").get("show")) if get("dns.resp.ttl") is not None else 0
    show = lambda n: get(n).get("show")
    data = ""
    if typ == 1: data = show("dns.a")
    elif typ == 28: data = show("dns.aaaa")
    elif typ == 2: data = name(show("dns.ns"))
    elif typ == 5: data = name(show("dns.cname"))
    elif typ == 12: data = name(show("dns.ptr.domain_name"))
    elif typ == 15: data = show("dns.mx.preference") + " " + name(show("dns.mx.mail_exchange"))
    elif typ == 16:
        data = " ".join(txt(bytes.fromhex(f.get("value", ""))) for f in kids if f.get("name") == "dns.txt")
    elif typ == 6:
        data = " ".join([name(show("dns.soa.mname")), name(show("dns.soa.rname"))] + [show(n) for n in (
            "dns.soa.serial_number", "dns.soa.refresh_interval", "dns.soa.retry_interval",
            "dns.soa.expire_limit", "dns.soa.minimum_ttl")])
    return typ, ttl, data

def main(folder):
    for fn in sorted(os.listdir(folder)):
        xml = subprocess.run(["tshark", "-r", os.path.join(folder, fn), "-T", "pdml"],
                             capture_output=True, check=True).stdout
        for pkt in ET.fromstring(xml).iter("packet"):
            protos = list(pkt.iter("proto"))
            frame = int(next(p for p in protos if p.get("name") == "geninfo").find("field[@name='num']").get("show"))
            names = [p.get("name") for p in protos]
            malformed = "_ws.malformed" in names
            ipreasm = any(f.get("name") in ("ip.fragments", "ipv6.fragments") for p in protos for f in p.iter("field"))
            transport = "tcp" if "tcp" in names else "udp"
            seen = []
            for p in protos:
                seen.append(p.get("name"))
                if p.get("name") != "dns":
                    continue
                # a DNS message quoted inside an ICMP error is not traffic of its own
                inicmp = "icmp" in seen or "icmpv6" in seen
                f = fields(p)
                sec = {c.get("show"): c for c in p if c.get("name") == ""}
                qname, qtype, qclass = "", 0, 0
                if "Queries" in sec and len(sec["Queries"]):
                    q = fields(sec["Queries"][0])
                    qname = name(q["dns.qry.name"].get("show"))
                    qtype = int(q["dns.qry.type"].get("show"))
                    qclass = int(q["dns.qry.class"].get("show"), 16)
                answers, ttl = [], None
                for rr in (sec["Answers"] if "Answers" in sec else []):
                    typ, t, data = answer(rr)
                    answers.append({"type": typ, "data": data})
                    ttl = t if ttl is None else min(ttl, t)
                hdr = int(f["dns.flags"].get("show"), 16)
                fl = sum(bit for mask, bit in FLAGS if hdr & mask)
                print(json.dumps({
                    "file": fn, "frame": frame, "transport": transport, "malformed": malformed, "ipreasm": ipreasm, "inicmp": inicmp,
                    "id": int(f["dns.id"].get("show"), 16), "response": f["dns.flags.response"].get("show") == "1",
                    "opcode": int(f["dns.flags.opcode"].get("show")), "rcode": hdr & 0xf,
                    "flags": fl, "qname": qname, "qtype": qtype, "qclass": qclass,
                    "ancount": int(f["dns.count.answers"].get("show")), "ttl": ttl or 0, "answers": answers,
                }, ensure_ascii=False))

main(sys.argv[1])
