"""Writes a desired-state file for `guestapi-admin apply` (README, "Admin CLI").

Instances i0000000..: each gets `--keys` config keys (user.k0.., with user.foo=bar
first, so every instance answers GET /1.0/config/user.foo) and, when
`--cgroup-prefix` is given, the cgroup PREFIX/iN: unique, so the cgroup index is
as full as a real host's. The named instances (`--pid-instance NAME=PID`) come
first and are registered by pid instead. `--salt` changes every value but
user.foo, so applying a file made with another salt updates every key.
"""
import argparse
import json
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--instances", type=int, required=True, help="unnamed instances to list")
    p.add_argument("--keys", type=int, default=10, help="config keys per instance")
    p.add_argument("--cgroup-prefix", help="register instance iN by the cgroup PREFIX/iN")
    p.add_argument("--pid-instance", action="append", default=[], metavar="NAME=PID",
                   help="also list NAME, registered by PID (repeatable)")
    p.add_argument("--salt", default="", help="appended to every value but user.foo")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    def config(index):
        keys = {"user.foo": "bar"}
        for k in range(1, a.keys):
            keys["user.k%d" % k] = "value-%d-%d%s" % (index, k, a.salt)
        return keys

    with open(a.out, "w") as out:
        out.write('{"instances":[')
        first = True
        for index, spec in enumerate(a.pid_instance):
            name, pid = spec.split("=", 1)
            item = {"name": name, "pid": int(pid), "config": config(-1 - index)}
            out.write(("" if first else ",") + json.dumps(item, separators=(",", ":")))
            first = False
        for i in range(a.instances):
            item = {"name": "i%07d" % i, "config": config(i)}
            if a.cgroup_prefix:
                item["cgroup"] = "%s/i%d" % (a.cgroup_prefix, i)
            out.write(("" if first else ",") + "\n" + json.dumps(item, separators=(",", ":")))
            first = False
        out.write("]}\n")


if __name__ == "__main__":
    sys.exit(main())
