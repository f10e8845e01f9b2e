"""Prints the markdown table of make bench-failover from build/bench-failover.json (written by
tests/cluster/test_cluster_7_fast_timers.py): per implementation and advert interval, the
power-off failover time (VIP on the backup, median and max over the runs) and the false
failovers during the CPU-hog soak."""

import json
import statistics
import sys


def ms(vals):
    if not vals:
        return "–"
    return f"{statistics.median(vals) * 1000:.0f} / {max(vals) * 1000:.0f} ms (n={len(vals)})"


def main(path):
    data = json.load(open(path))
    rows = [("vigil", "vigil-agent (real-time, default)"),
            ("vigil-nort", "vigil-agent --no-realtime"),
            ("keepalived", "keepalived 2.2.7 (defaults)")]
    print("| implementation | advert interval | Master_Down_Interval (backup 100) | "
          "power-off → VIP on the backup, median / max | client answered, median / max | "
          "false failovers during the CPU hog |")
    print("| --- | --- | --- | --- | --- | --- |")
    for adv in (50, 20):
        mdi = 3 * adv + (256 - 100) / 256 * adv
        for key, label in rows:
            runs = data.get(f"{key}/{adv}/power_off", [])
            soaks = data.get(f"{key}/{adv}/soak", [])
            if key == "vigil-nort":
                runs = []  # power-off does not depend on the policy: measured with it on
            if not runs and not soaks:
                continue
            vip = [r["vip_s"] for r in runs if r.get("vip_s") is not None]
            cli = [r["client_s"] for r in runs if r.get("client_s") is not None]
            soak = ", ".join(f"{s['false_failovers']} in {s['seconds'] / 60:.0f} min"
                             for s in soaks) or "–"
            print(f"| {label} | {adv} ms | {mdi:.1f} ms | {ms(vip) if runs else '–'} | "
                  f"{ms(cli) if runs else '–'} | {soak} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/bench-failover.json")
