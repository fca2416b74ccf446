import Foundation
import Testing

/// cloud-init itself, run as a guest runs it at boot, inside a real LXC container and a real
/// runc container set up with only the runtime files an install writes (README,
/// "Containers"): it finds its LXD datasource at /dev/lxd/sock, takes the instance's
/// user-data and instance-id, sets the hostname and runs `runcmd`.
@Suite(
    .enabled(if: CloudInit.available, CloudInit.unavailableReason), .serialized, .timeLimit(.minutes(5)))
struct CloudInitContainerTests {
    /// The guest's own cloud-init configuration, as an image that ships cloud-init has one:
    /// the LXD datasource, no network changes, and the modules this check needs.
    static let cloudConfig = """
        datasource_list: [LXD]
        network: {config: disabled}
        cloud_init_modules: [set_hostname, update_hostname]
        cloud_config_modules: [runcmd]
        cloud_final_modules: [scripts_user]
        system_info:
          distro: debian
          paths: {cloud_dir: /var/lib/cloud/, templates_dir: /etc/cloud/templates/}

        """
    static let userData = "#cloud-config\nhostname: from-user-data\nruncmd:\n  - [touch, /root/runcmd-ran]\n"
    /// Boot's stages, in order.
    static let boot = "cloud-init init --local && cloud-init init && cloud-init modules --mode config && cloud-init modules --mode final"

    func boot(_ container: Container, _ cli: AdminCLI) throws {
        for folder in ["/etc/cloud", "/var/lib/cloud", "/var/log", "/run", "/root"] {
            try FileManager.default.createDirectory(atPath: container.file(folder), withIntermediateDirectories: true)
        }
        try Self.cloudConfig.write(toFile: container.file("/etc/cloud/cloud.cfg"), atomically: true, encoding: .utf8)
        try container.start()
        try cli.succeed("set", "cloud-init.user-data", Self.userData, "--instance", container.name)
        let instanceID = try cli.succeed("get", "volatile.cloud-init.instance-id", "--instance", container.name)

        let result = try container.run(Self.boot, timeout: .seconds(120))
        #expect(result.status == 0, "\(result.stdoutText) \(result.stderr)")
        let found = try container.run("ls -l /dev/lxd/sock; cat /run/cloud-init/result.json")
        #expect(found.stdoutText.contains("DataSourceLXD"), "\(found.stdoutText) \(found.stderr)")
        #expect(try String(contentsOfFile: container.file("/etc/hostname"), encoding: .utf8) == "from-user-data\n")
        #expect(try String(contentsOfFile: container.file("/var/lib/cloud/data/instance-id"), encoding: .utf8) == instanceID)
        #expect(FileManager.default.fileExists(atPath: container.file("/root/runcmd-ran")), "runcmd did not run")
    }

    @Test(.enabled(if: Runtimes.lxcAvailable, Runtimes.lxcMissing))
    func cloudInitBootsInAnLXCContainer() throws {
        let cli = try AdminCLI()
        let daemon = try Daemon(state: cli.state)
        let container = try LXCContainer(state: cli.state, installed: try Installed(state: cli.state))
        try boot(container, cli)
        _ = daemon
    }

    @Test(.enabled(if: Runtimes.runcAvailable, Runtimes.runcMissing))
    func cloudInitBootsInARuncContainer() throws {
        let cli = try AdminCLI()
        let daemon = try Daemon(state: cli.state)
        let container = try RuncContainer(state: cli.state, installed: try Installed(state: cli.state))
        try boot(container, cli)
        _ = daemon
    }
}
