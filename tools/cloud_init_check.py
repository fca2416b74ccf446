#!/usr/bin/python3
"""Reads a guestapid socket with cloud-init's own LXD datasource, and checks what it got.

Run with Debian's /usr/bin/python3 (package `cloud-init`, which pulls python3-requests,
python3-yaml...), from a process that guestapid resolves to an instance:

    /usr/bin/python3 tools/cloud_init_check.py SOCKET [expectations...]

Nothing here reimplements the protocol. The only thing changed in cloud-init is the
module constant `LXD_SOCKET_PATH` (it is /dev/lxd/sock in a real container); everything
else is cloud-init's code as shipped:

1. `read_metadata()` with its default `MetaDataKeys.ALL`: GET /1.0/meta-data,
   /1.0/config, each /1.0/config/<key> listed, /1.0/devices.
2. A `DataSourceLXD` with a Debian distro, empty system config and Paths in a temporary
   folder, then `get_data()` (= the platform check `is_platform_viable()`, which passes
   because LXD_SOCKET_PATH now names a live socket, `_get_data()`, and the
   instance-data.json that `cloud-init query` reads), `get_instance_id()`,
   `get_hostname()`, `check_instance_id()` (what cloud-init does on each boot),
   `network_config`, and `get_userdata()` (the user-data through cloud-init's processor).

Prints one JSON document with everything read, then checks the expectations; exits 1
naming each mismatch, 2 on a usage error, 3 when cloud-init cannot be imported.

The requests cloud-init made are taken from its own debug log ("[GET] [HTTP:200] URL").
"""

import argparse
import json
import logging
import os
import stat
import sys
import tempfile


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("socket", help="the guestapid socket (STATE/guestapi/sock)")
    parser.add_argument("--instance-id", help="expected meta-data instance-id")
    parser.add_argument("--hostname", help="expected meta-data local-hostname")
    parser.add_argument("--user-data-file", help="file holding the exact expected user-data")
    parser.add_argument("--vendor-data-file", help="file holding the exact expected vendor-data")
    parser.add_argument("--network-config-file",
                        help="file holding the expected network-config (YAML, compared parsed)")
    parser.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                        help="a key the datasource's metadata must hold (from user.meta-data)")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                        help="a config key read raw from /1.0/config/KEY")
    parser.add_argument("--absent-config", action="append", default=[], metavar="KEY",
                        help="a config key the guest must not see")
    parser.add_argument("--device", action="append", default=[], metavar="NAME:KEY=VALUE",
                        help="a device setting in /1.0/devices")
    parser.add_argument("--devices", type=int, metavar="N", help="expected number of devices")
    parser.add_argument("--cloud-config", action="append", default=[], metavar="KEY=VALUE",
                        help="a top-level key of the processed #cloud-config user-data")
    parser.add_argument("--quiet", action="store_true", help="do not print the JSON document")
    return parser.parse_args(argv)


class GetRecorder(logging.Handler):
    """Collects cloud-init's own '[GET] [HTTP:%d] %s' debug lines."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.requests = []
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("[GET] "):
            self.requests.append(message[len("[GET] "):])
        elif record.levelno >= logging.WARNING:
            self.messages.append("%s: %s" % (record.levelname, message))


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def read(socket_path):
    from cloudinit import distros, helpers
    from cloudinit.sources import DataSourceLXD as lxd

    # The one change: where the socket is. Every function of the module reads this global
    # at call time (LXDSocketAdapter, is_platform_viable, _get_subplatform).
    lxd.LXD_SOCKET_PATH = socket_path

    recorder = GetRecorder()
    # cloud-init's loggers propagate to "cloudinit": one handler there sees them all.
    logging.getLogger(lxd.__name__).setLevel(logging.DEBUG)
    logging.getLogger("cloudinit").addHandler(recorder)

    result = {"socket": socket_path}

    # 1. The crawl, exactly as `python3 -m cloudinit.sources.DataSourceLXD` does it.
    crawled = lxd.read_metadata()
    result["read_metadata"] = crawled
    result["read_metadata_requests"] = list(recorder.requests)
    recorder.requests.clear()

    # 2. The datasource object, as cloud-init's init stage uses it.
    with tempfile.TemporaryDirectory(prefix="cloud-init-check.") as folder:
        paths = helpers.Paths({
            "cloud_dir": os.path.join(folder, "cloud"),
            "run_dir": os.path.join(folder, "run"),
        })
        distro = distros.fetch("debian")("debian", {}, paths)
        ds = lxd.DataSourceLXD(sys_cfg={}, distro=distro, paths=paths)
        source = {"platform_viable": lxd.is_platform_viable()}
        source["get_data"] = ds.get_data()
        source["get_data_requests"] = list(recorder.requests)
        recorder.requests.clear()
        if source["get_data"]:
            source["subplatform"] = ds.subplatform
            source["instance_id"] = ds.get_instance_id()
            hostname = ds.get_hostname(metadata_only=True)
            source["local_hostname"] = getattr(hostname, "hostname", hostname)
            source["metadata"] = ds.metadata
            source["userdata_raw"] = text(ds.get_userdata_raw())
            source["vendordata_raw"] = text(ds.get_vendordata_raw())
            source["network_config"] = ds.network_config
            source["check_instance_id"] = ds.check_instance_id({})
            source["check_instance_id_requests"] = list(recorder.requests)
            recorder.requests.clear()
            cloud_config = None
            for part in ds.get_userdata().walk():
                if part.get_content_type() == "text/cloud-config":
                    from cloudinit import util
                    cloud_config = util.load_yaml(part.get_payload(decode=True))
            source["userdata_cloud_config"] = cloud_config
            instance_data = os.path.join(folder, "run", "instance-data.json")
            if os.path.exists(instance_data):
                with open(instance_data) as f:
                    written = json.load(f)
                source["instance_data_v1"] = {
                    k: written.get("v1", {}).get(k)
                    for k in ("cloud_name", "platform", "subplatform", "instance_id", "local_hostname")
                }
        result["datasource"] = source
    result["warnings"] = recorder.messages
    return result


def check(args, result):
    failures = []

    def expect(what, got, wanted):
        if got != wanted:
            failures.append("%s: expected %r, got %r" % (what, wanted, got))

    def read_file(path):
        with open(path, "rb") as f:
            return f.read().decode("utf-8")

    crawled = result["read_metadata"]
    source = result["datasource"]
    config = crawled.get("config", {})
    devices = crawled.get("devices", {})

    expect("datasource is_platform_viable()", source.get("platform_viable"), True)
    expect("datasource get_data()", source.get("get_data"), True)
    expect("datasource check_instance_id() (same instance on reboot)", source.get("check_instance_id"), True)
    for request in result["read_metadata_requests"] + source.get("get_data_requests", []):
        if not request.startswith("[HTTP:200] "):
            failures.append("request answered other than 200: %s" % request)
    expect("read_metadata() api version", crawled.get("_metadata_api_version"), "1.0")
    for key in config:
        if not (key.startswith("user.") or key.startswith("cloud-init.")):
            failures.append("config key outside user./cloud-init. visible to the guest: %s" % key)
    for key in args.absent_config:
        if key in config:
            failures.append("config key %s visible to the guest: %r" % (key, config[key]))
    if args.instance_id is not None:
        expect("instance-id (DataSourceLXD.get_instance_id())", source.get("instance_id"), args.instance_id)
    if args.hostname is not None:
        expect("local-hostname (DataSourceLXD.get_hostname())", source.get("local_hostname"), args.hostname)
    if args.user_data_file:
        expect("user-data (DataSourceLXD.userdata_raw)", source.get("userdata_raw"), read_file(args.user_data_file))
        expect("user-data (read_metadata()['user-data'])", crawled.get("user-data"), read_file(args.user_data_file))
    if args.vendor_data_file:
        expect("vendor-data (DataSourceLXD.vendordata_raw)", source.get("vendordata_raw"),
               read_file(args.vendor_data_file))
    if args.network_config_file:
        from cloudinit import util
        expect("network-config (DataSourceLXD.network_config)", source.get("network_config"),
               util.load_yaml(read_file(args.network_config_file)))
    for item in args.meta:
        key, _, value = item.partition("=")
        got = source.get("metadata", {}).get(key)
        expect("meta-data %s" % key, None if got is None else str(got), value)
    for item in args.config:
        key, _, value = item.partition("=")
        expect("config %s" % key, config.get(key), value)
    for item in args.device:
        name, _, setting = item.partition(":")
        key, _, value = setting.partition("=")
        expect("device %s %s" % (name, key), devices.get(name, {}).get(key), value)
    if args.devices is not None:
        expect("number of devices", len(devices), args.devices)
    for item in args.cloud_config:
        key, _, value = item.partition("=")
        got = (source.get("userdata_cloud_config") or {}).get(key)
        expect("processed #cloud-config %s" % key, None if got is None else str(got), value)
    return failures


def main(argv):
    args = parse_arguments(argv)
    try:
        import cloudinit.sources.DataSourceLXD  # noqa: F401
    except ImportError as error:
        print("cloud_init_check: cannot import cloud-init's LXD datasource (%s); "
              "install the Debian package cloud-init and run with /usr/bin/python3" % error, file=sys.stderr)
        return 3
    try:
        mode = os.stat(args.socket).st_mode
    except OSError as error:
        print("cloud_init_check: %s" % error, file=sys.stderr)
        return 2
    if not stat.S_ISSOCK(mode):
        print("cloud_init_check: %s is not a socket" % args.socket, file=sys.stderr)
        return 2
    try:
        result = read(args.socket)
    except Exception as error:  # the datasource raising is a failure to report, not a crash
        print("FAIL: cloud-init's LXD datasource raised %s: %s" % (type(error).__name__, error), file=sys.stderr)
        return 1
    if not args.quiet:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
    failures = check(args, result)
    for failure in failures:
        print("FAIL: %s" % failure, file=sys.stderr)
    if failures:
        return 1
    print("cloud_init_check: all expectations met", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
