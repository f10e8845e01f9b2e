"""A small keepalived.conf reader for the round-trip test (issue 11): enough of keepalived's
syntax (comments, quotes, braces on any line, @ID prefixes) to summarise what a file means for
VRRP: per instance its vrid, priority, addresses, auth, peers, sync group and tracked scripts with
their effective weights. Independent of vigild's own parser on purpose: it checks that one."""

import ipaddress
import re

def tokens(text, config_id):
    """(line, words) per line, comments stripped, quotes kept as one word, braces apart; lines
    whose @ID prefix does not name config_id dropped."""
    for n, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        words, word, quote, any_ = [], "", None, False
        for ch in raw:
            if quote:
                if ch == quote:
                    quote = None
                else:
                    word += ch
                continue
            if ch in "#!":
                break
            if ch == '"':
                quote, any_ = ch, True
            elif ch in " \t":
                if any_:
                    words.append(word)
                word, any_ = "", False
            elif ch in "{}":
                if any_:
                    words.append(word)
                words.append(ch)
                word, any_ = "", False
            else:
                word += ch
                any_ = True
        if any_:
            words.append(word)
        if words and words[0].startswith("@"):
            cid = words.pop(0)[1:]
            neg = cid.startswith("^")
            if (cid.lstrip("^") == config_id) == neg:
                continue
        if words:
            yield n, words


def tree(text, config_id="lb"):
    """[(keyword, args, children)] of the file: a statement is the words of a line up to a brace;
    "{" opens the block of the statement before it (on this line or an earlier one)."""
    root, stack, cur, last = [], [], None, None
    cur = root
    for _, words in tokens(text, config_id):
        stmt = None
        for w in words:
            if w == "{":
                if last is None:
                    last = ("", [], [])
                    cur.append(last)
                stack.append(cur)
                cur, last, stmt = last[2], None, None
            elif w == "}":
                cur = stack.pop() if stack else root
                last, stmt = None, None
            elif stmt is not None:
                stmt[1].append(w)
            else:
                stmt = last = (w, [], [])
                cur.append(stmt)
    return root


def prefix(addr):
    """Canonical ADDR/PREFIX with keepalived's default prefix, or None."""
    a = addr.split()[0] if addr else ""
    try:
        if "/" not in a:
            a += "/128" if ":" in a else "/32"
        return str(ipaddress.ip_interface(a))
    except ValueError:
        return None


def plain(addr):
    try:
        return str(ipaddress.ip_address(addr.split("/")[0]))
    except ValueError:
        return None


def summary(text, config_id="lb", own=None):
    """{(interface, vrid): {...}} of the instances of text (those with a vrid and addresses), own the node's
    address (not a peer)."""
    t = tree(text, config_id)
    scripts = {}
    for kw, args, sub in t:
        if kw == "vrrp_script" and args:
            d = {k: a for k, a, _ in sub}
            line = " ".join(d.get("script", []))
            w = d.get("weight", ["0"])[0]
            scripts[args[0]] = (re.sub(r"^\S*/", "", line.split(" ")[0]) if line else "",
                                int(w) if re.fullmatch(r"-?\d+", w) else 0)
    groups = {}
    for kw, args, sub in t:
        if kw == "vrrp_sync_group" and args:
            for k, a, gsub in sub:
                if k == "group":
                    for m, more, _ in gsub:
                        for name in [m] + more:
                            groups[name] = args[0]
    out, names = {}, {}
    for kw, args, sub in t:
        if kw != "vrrp_instance" or not args:
            continue
        i = {"priority": 100, "addresses": set(), "excluded": set(), "auth": None,
             "peers": set(), "scripts": set(), "version": None}
        vrid = ifname = None
        for k, a, s in sub:
            if k == "virtual_router_id" and a:
                vrid = int(a[0])
            elif k == "interface" and a:
                ifname = a[0]
            elif k == "priority" and a and re.fullmatch(r"\d+", a[0]):
                i["priority"] = int(a[0])
            elif k == "version" and a:
                i["version"] = a[0]
            elif k in ("virtual_ipaddress", "virtual_ipaddress_excluded"):
                for x, _, _ in s:
                    p = prefix(x)
                    if p:
                        i["addresses" if k == "virtual_ipaddress" else "excluded"].add(p)
            elif k == "authentication":
                for x, xa, _ in s:
                    if x == "auth_pass" and xa:
                        i["auth"] = xa[0][:8]
            elif k == "unicast_peer":
                for x, _, _ in s:
                    if plain(x) and plain(x) != own:
                        i["peers"].add(plain(x))
            elif k == "track_script":
                for x, xa, _ in s:
                    if x in scripts:
                        w = int(xa[1]) if len(xa) > 1 and xa[0] == "weight" else scripts[x][1]
                        i["scripts"].add((scripts[x][0], w))
        if vrid is None or not i["addresses"]:
            continue
        vrid = (ifname, vrid)
        names[args[0]] = vrid
        i["group"] = groups.get(args[0])
        out[vrid] = i
    # a group is the set of vrids in it (names differ between a file and its rendering)
    members = {}
    for name, vrid in names.items():
        g = out[vrid]["group"]
        if g is not None:
            members.setdefault(g, set()).add(vrid)
    for i in out.values():
        g = members.get(i["group"], set())
        i["group"] = frozenset(g) if len(g) > 1 else None
    return out


def interfaces(text, config_id="lb"):
    """The interface names text refers to (interface, dev, track_interface)."""
    names = set()

    def walk(stmts, parent):
        for kw, args, sub in stmts:
            if kw == "interface" and args and parent == "vrrp_instance":
                names.add(args[0])
            if parent in ("virtual_ipaddress", "virtual_ipaddress_excluded") and "dev" in args:
                names.add(args[args.index("dev") + 1])
            if parent == "track_interface":
                names.add(kw)
            walk(sub, kw)
    walk(tree(text, config_id), "")
    return {n for n in names if re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", n)}
